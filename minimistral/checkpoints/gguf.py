"""GGUF, llama.cpp's one-file format (what llama.cpp, Ollama and LM Studio run), as a Mistral:
the hyper-parameters from its metadata, the weights memory-mapped and left quantized in the file,
dequantized where used (fast/quant.py). The file itself is read by gguf_format.py.

llama.cpp names the tensors its own way (``token_embd.weight``, ``blk.0.attn_q.weight``,
``blk.0.ffn_gate.weight`` = w1, ``ffn_up`` = w3, ``ffn_down`` = w2, ``output_norm.weight``;
names.py maps them). Its converter (convert_hf_to_gguf.py, ``LlamaModel.permute``) turns HF's q/k
rows back into the interleaved RoPE order that its own RoPE and Mistral's native release use,
so GGUF rows need no output permutation (transformers' GGUF loader undoes that permutation to
get HF's order back; the tests compare our logits with its).

Shapes must fit the config, as for every layout (names.check_tensors). Nothing in the file is
executed; the chat template (a Jinja program) is never run.
"""


from __future__ import annotations

import math
from pathlib import Path

from ..config import ModelArgs, check_values
from ..errors import MinimistralError
from ..guards.files import kind, open_input
from ..guards.textio import show
from .gguf_format import (
    FLOATS,
    INTS,
    MAGIC,
    MISSING,
    STRING,
    TYPES,
    GGUFFile,
    meta,
    read_gguf,
)
from .names import check_tensors, gguf_name, native_name
from .weights import Weights

GGUF_KEYS = {"dim": "llama.embedding_length", "n_layers": "llama.block_count",
             "head_dim": "llama.attention.key_length", "hidden_dim": "llama.feed_forward_length",
             "n_heads": "llama.attention.head_count", "n_kv_heads": "llama.attention.head_count_kv",
             "sliding_window": "llama.attention.sliding_window", "context_len": "llama.context_length",
             "vocab_size": "the rows of token_embd.weight", "norm_eps": "llama.attention.layer_norm_rms_epsilon",
             "rope_theta": "llama.rope.freq_base"}


def has_magic(path) -> bool:
    """Does this regular file start with 'GGUF'? (Ollama's blobs have no .gguf suffix.)"""
    try:
        with open_input(path) as f:
            return f.read(4) == MAGIC
    except MinimistralError:
        return False


def gguf_file(path) -> Path | None:
    """The GGUF file a --model path means: the file itself, or the one *.gguf in a directory."""
    path = Path(path)
    k = kind(path)
    if k == "file":
        return path if path.suffix.lower() == ".gguf" or has_magic(path) else None
    if k != "dir":
        return None
    try:
        found = sorted(p for p in path.iterdir() if p.name.lower().endswith(".gguf"))
    except OSError:
        return None
    if len(found) > 1:
        listed = ", ".join(show(p.name) for p in found[:4]) + (", ..." if len(found) > 4 else "")
        raise MinimistralError(f"{show(path)} holds {len(found)} GGUF files ({listed}); pass the one to "
                               f"run, e.g. --model {show(found[0])}.")
    return found[0] if found else None


# ---- the header, walked with a bounded cursor ---------------------------------------------------

def read_args(file: GGUFFile, vocab_size: int) -> ModelArgs:
    """ModelArgs from the llama.* metadata; what minimistral does not implement is refused."""
    where = show(file.path)
    arch = meta(file, "general.architecture", (STRING,))
    if arch != "llama":
        raise MinimistralError(f"{where} is a GGUF of architecture {show(repr(arch))}; minimistral runs "
                               f"Mistral 7B, which llama.cpp files as 'llama'.")
    get = lambda key, kinds=INTS, default=MISSING: meta(file, "llama." + key, kinds, default)  # noqa: E731
    if meta(file, "split.count", INTS, 1) > 1:
        raise MinimistralError(f"{where} is one part of a split GGUF; join the parts first (llama.cpp's "
                               f"llama-gguf-split --merge) and pass the joined file.")
    if get("expert_count", default=0):
        raise MinimistralError(f"{where} is a mixture of experts (Mixtral); minimistral runs the plain "
                               f"Mistral 7B architecture.")
    if get("rope.scaling.type", (STRING,), "none") not in ("none", ""):
        raise MinimistralError(f"{where} asks for RoPE scaling (llama.rope.scaling.type), which minimistral "
                               f"does not implement.")
    dim, n_heads = get("embedding_length"), get("attention.head_count")
    head_dim = get("attention.key_length", default=None)
    if head_dim is None:                                  # llama.cpp's default: D / H
        check_values({**ModelArgs().__dict__, "dim": dim, "n_heads": n_heads, "n_kv_heads": 1}, where, GGUF_KEYS)
        if dim % n_heads:
            raise MinimistralError(f"{where}: llama.embedding_length ({dim}) must be divisible by "
                                   f"llama.attention.head_count ({n_heads}); the file is corrupt.")
        head_dim = dim // n_heads
    if get("attention.value_length", default=head_dim) != head_dim or \
            get("rope.dimension_count", default=head_dim) != head_dim:
        raise MinimistralError(f"{where}: the value size or the rotated dimensions differ from the key size "
                               f"{head_dim}; minimistral implements Mistral's attention, where all three agree.")
    values = dict(dim=dim, n_layers=get("block_count"), head_dim=head_dim, hidden_dim=get("feed_forward_length"),
                  n_heads=n_heads, n_kv_heads=get("attention.head_count_kv", default=n_heads),
                  sliding_window=get("attention.sliding_window", default=None),
                  context_len=get("context_length", default=32768), vocab_size=vocab_size,
                  norm_eps=get("attention.layer_norm_rms_epsilon", FLOATS, 1e-5),
                  rope_theta=get("rope.freq_base", FLOATS, 10000.0))
    if get("vocab_size", default=vocab_size) != vocab_size:
        raise MinimistralError(f"{where}: llama.vocab_size disagrees with the {vocab_size} rows of token_embd.weight; "
                               f"the file is corrupt.")
    check_values(values, where, GGUF_KEYS)
    return ModelArgs(**values)


def open_gguf(path) -> tuple[ModelArgs, Weights]:
    """(args, weights) of a Mistral GGUF file; the tensors stay in the mapped file."""
    file = read_gguf(path)
    where = show(file.path)
    tensors = {}
    for name, t in file.tensors.items():
        native = native_name(name)
        if native is None:
            raise MinimistralError(f"{where} holds the tensor '{show(name)}', which a Mistral 7B GGUF does not "
                                   f"have; is this another model?")
        tensors[native] = t
    if "tok_embeddings.weight" not in tensors:
        raise MinimistralError(f"{where} has no token_embd.weight; is the file complete?")
    if "output.weight" not in tensors:                 # llama.cpp: no output.weight means tied
        tensors["output.weight"] = tensors["tok_embeddings.weight"]
    args = read_args(file, tensors["tok_embeddings.weight"].shape[0])
    weights = Weights(tensors)
    check_tensors(args, weights, file.path, "gguf")
    return args, weights


def describe(weights: Weights) -> list[str]:
    """One line per kind of tensor: its storage types (how many tensors each), bytes, bits a weight.

        attn_v       Q4_K x 16, Q6_K x 16     92.8 MB  5.53 bits/weight
    """
    groups: dict[str, dict] = {}
    seen = set()
    for native, t in weights.tensors.items():
        if id(t) in seen:
            continue
        seen.add(id(t))
        role = gguf_name(native).split(".")[-2]
        g = groups.setdefault(role, {"types": {}, "bytes": 0, "weights": 0})
        g["types"][t.dtype] = g["types"].get(t.dtype, 0) + 1
        g["bytes"] += t.nbytes
        g["weights"] += math.prod(t.shape)
    lines = []
    for role, g in groups.items():
        types = ", ".join(f"{d} x {n}" for d, n in sorted(g["types"].items()))
        size = f"{g['bytes'] / 1e9:.2f} GB" if g["bytes"] >= 1e9 else f"{g['bytes'] / 1e6:.1f} MB"
        lines.append(f"{role:<12} {types:<22} {size:>9}  {8 * g['bytes'] / g['weights']:.2f} bits/weight")
    return lines


def bits_per_weight(dtype: str) -> float:
    """Q4_K -> 4.5: bytes per block x 8 / weights per block."""
    _, per_block, block_bytes = next(t for t in TYPES.values() if t[0] == dtype)
    return 8 * block_bytes / per_block

