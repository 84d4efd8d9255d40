"""Finding and opening a checkpoint directory: which layout, which files, which names.

Two layouts are released (docs/mistral-7b.md §5):

    HF      config.json + model.safetensors, or model-0000i-of-0000n.safetensors + index.json
    native  params.json + consolidated.safetensors (or consolidated.00.pth, see pth.py)
    GGUF    one llama.cpp .gguf file (or a directory holding one), see gguf.py

export.py writes checkpoints in the HF layout with the same maps run backwards (to_hf).
An adapter directory (adapter.py: the tensors a fine-tuning changed, and the base it names) is
recognised here (detect_layout) and opened by adapter.open_model, one floor up: an adapter opens
its base through open_checkpoint, so the import runs from adapter.py to this file only.

Everything is renamed to the native names (``layers.0.attention.wq.weight`` ...), which model.py
uses. HF checkpoints store the rows of wq and wk permuted for their "rotate_half" RoPE; rather
than copying 2 x 32 matrices to undo it, we reorder the *outputs* of those two linears (a few
thousand numbers per token) back into the native interleaved order. One RoPE serves both.

Which tensors a config implies and what each layout calls them are in names.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import ModelArgs
from ..errors import MinimistralError
from ..guards.files import kind, read_small
from ..guards.jsontext import parse_json
from ..guards.textio import checked_name, show
from ..tokenizer import Tokenizer
from .gguf import gguf_file, open_gguf
from .gguf_vocab import gguf_tokenizer
from .names import check_tensors, expected_shapes, hf_name_to_native, hf_rope_perm
from .safetensors import read_safetensors
from .weights import StoredTensor, Weights


def read_json(path: Path) -> dict:
    """A small JSON object file (config.json, params.json, index.json): size-capped, no FIFO hang,
    numbers bounded and duplicate keys refused (guards/jsontext.py)."""
    data = parse_json(read_small(path), path)
    if not isinstance(data, dict):
        raise MinimistralError(f"{show(path)} should hold a JSON object.")
    return data


def detect_layout(directory: Path) -> str:
    """'hf', 'native', 'pth', 'gguf' (a .gguf file, or a directory holding one and no other
    layout) or 'adapter' (adapter.json: changed tensors over a base, adapter.py); raises
    MinimistralError naming what is wrong or unsupported."""
    k = kind(directory)
    if k == "missing":
        raise MinimistralError(f"model directory {show(directory)} does not exist.")
    if k != "dir":
        if k == "file" and gguf_file(directory) is not None:
            return "gguf"
        what = "a file" if k == "file" else f"not a directory (a {k})"
        raise MinimistralError(f"{show(directory)} is {what}; pass the checkpoint's directory.")
    try:
        names = {p.name for p in directory.iterdir()}
    except OSError as e:
        raise MinimistralError(f"cannot list the model directory {show(directory)}: {e.strerror}.") from None
    if not names:
        raise MinimistralError(f"model directory {directory} is empty; download the checkpoint into it.")
    if "adapter.json" in names:            # a fine-tuning's changed tensors over a base (adapter.py)
        return "adapter"
    # The v0.3 repository ships both layouts side by side; a download may hold either or both.
    hf_weights = any(n.endswith(".safetensors") and n != "consolidated.safetensors" for n in names)
    if "params.json" in names and "consolidated.safetensors" in names and not hf_weights:
        return "native"
    if "config.json" in names:
        if hf_weights:
            return "hf"
        if "pytorch_model.bin" in names or any(n.startswith("pytorch_model-") for n in names):
            raise MinimistralError(f"{directory} holds pytorch_model*.bin weights, which minimistral "
                                   f"does not read (pickles); download the .safetensors files instead.")
        raise MinimistralError(f"{directory} has config.json but no .safetensors weights; "
                               f"download model*.safetensors (and model.safetensors.index.json).")
    if "params.json" in names:
        if "consolidated.safetensors" in names:
            return "native"
        if "consolidated.00.pth" in names:
            return "pth"
        raise MinimistralError(f"{directory} has params.json but neither consolidated.safetensors "
                               f"nor consolidated.00.pth; download the weights too.")
    if gguf_file(directory) is not None:                       # exactly one (else it says which)
        return "gguf"
    raise MinimistralError(f"{directory} has no config.json (HF layout) or params.json (Mistral "
                           f"layout); is this a Mistral checkpoint directory?")


def hf_shards(directory: Path) -> tuple[list[Path], dict]:
    """The shard files, and the index's {tensor name: shard file name} ({} without an index)."""
    index = directory / "model.safetensors.index.json"
    if kind(index) != "missing":
        weight_map = read_json(index).get("weight_map")
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise MinimistralError(f"{index} has no valid 'weight_map'; re-download it.")
        shards = []
        for shard in dict.fromkeys(weight_map.values()):
            path = directory / checked_name(shard, f"{show(index)}: a shard")
            if Path(shard).name != shard:
                raise MinimistralError(f"{index} names a shard outside the directory: {shard!r}.")
            if kind(path) == "missing":
                raise MinimistralError(f"{index} names {shard}, which is missing from {directory}; "
                                       f"download it.")
            shards.append(path)
        return shards, weight_map
    if (directory / "model.safetensors").exists():
        return [directory / "model.safetensors"], {}
    shards = sorted(directory.glob("model-*-of-*.safetensors"))
    if not shards:
        raise MinimistralError(f"{directory} has no model.safetensors, model-*-of-*.safetensors "
                               f"or model.safetensors.index.json.")
    return shards, {}


def open_checkpoint(directory) -> tuple[ModelArgs, Weights, str]:
    """(args, weights, layout) for a checkpoint directory of any supported layout."""
    directory = Path(directory)
    layout = detect_layout(directory)
    if layout == "adapter":              # adapter.open_model opens those (an adapter opens its base here)
        raise MinimistralError(f"{show(directory)} is an adapter (adapter.json), not a full checkpoint; "
                               f"open it with minimistral.load, or give its base model.")
    if layout == "gguf":                 # llama.cpp's one file: rows already in the native order
        return (*open_gguf(gguf_file(directory)), layout)
    if layout == "hf":
        cfg = read_json(directory / "config.json")
        args = ModelArgs.from_hf_config(cfg, str(directory / "config.json"))
        tensors: dict[str, StoredTensor] = {}
        shards, weight_map = hf_shards(directory)
        for shard in shards:
            for name, t in read_safetensors(shard).items():
                native = hf_name_to_native(name)
                if native is None:
                    if name.endswith("rotary_emb.inv_freq"):
                        continue  # a buffer older transformers saved; RoPE is computed, not stored
                    raise MinimistralError(f"{shard} holds an unexpected tensor '{name}'; is this a "
                                           f"Mistral checkpoint?")
                if weight_map and weight_map.get(name) != shard.name:
                    # The index is how transformers finds each tensor: a disagreement means the
                    # files come from two downloads, and which copy is meant is unknowable.
                    raise MinimistralError(f"{shard.name} holds '{name}', but the index puts it in "
                                           f"{weight_map.get(name, 'no shard')}; re-download the checkpoint.")
                if native in tensors:     # two shards, one name: which one is meant is unknowable
                    raise MinimistralError(f"tensor '{name}' is in both {tensors[native].path.name} and "
                                           f"{shard.name}; the download mixes two checkpoints, re-download it.")
                tensors[native] = t
        if "output.weight" not in tensors and "tok_embeddings.weight" in tensors and \
                cfg.get("tie_word_embeddings") is True:
            tensors["output.weight"] = tensors["tok_embeddings.weight"]  # tied embeddings, as declared
        weights = Weights(tensors)
        check_tensors(args, weights, directory, "hf")          # before anything sized by the config
        for i in range(args.n_layers):
            weights.out_perm[f"layers.{i}.attention.wq.weight"] = hf_rope_perm(args.n_heads, args.head_dim)
            weights.out_perm[f"layers.{i}.attention.wk.weight"] = hf_rope_perm(args.n_kv_heads, args.head_dim)
        return args, weights, layout
    else:
        args = ModelArgs.from_params_json(read_json(directory / "params.json"), str(directory / "params.json"))
        if layout == "native":
            tensors = read_safetensors(directory / "consolidated.safetensors")
        else:
            from .pth import read_pth
            tensors = read_pth(directory / "consolidated.00.pth")
        tensors.pop("rope.freqs", None)  # a RoPE buffer some native exports keep; RoPE is computed
        weights = Weights(tensors)       # native rows already use the interleaved RoPE pairing
    check_tensors(args, weights, directory, layout)
    return args, weights, layout


PAGE = 4096   # bytes of one memory page


def page_in(args: ModelArgs, weights: Weights, progress=None) -> None:
    """Read every mapped weight once, layer by layer, reporting progress(layer, n_layers, bytes, total).

    Mapping a 14.5 GB file is instant; the disk is read on first touch. Touching one byte per
    page here moves that wait (minutes, cold) to load time, where it can be shown as progress,
    instead of slowing the first token invisibly. The pages then sit in the OS page cache.
    """
    groups = [["tok_embeddings.weight"]]
    groups += [[n for n in expected_shapes(args) if n.startswith(f"layers.{i}.")] for i in range(args.n_layers)]
    groups += [["norm.weight", "output.weight"]]
    unique = {id(t): t for t in weights.tensors.values()}     # tied embeddings are one tensor
    total, done, seen = sum(t.nbytes for t in unique.values()), 0, set()
    for g, names in enumerate(groups):
        for name in names:
            t = weights.tensors[name]
            if id(t) in seen:
                continue
            seen.add(id(t))
            if t.raw.size:
                np.add.reduce(t.raw.reshape(-1).view(np.uint8)[::PAGE], dtype=np.uint64)  # [pages]
            done += t.nbytes
        if progress is not None:
            progress(min(g, args.n_layers), args.n_layers, done, total)


def find_tokenizer(path):
    """The tokenizer of a checkpoint: inside its GGUF file, or tokenizer.model (.v1, .v3) beside the
    weights; None if there is none."""
    if kind(path) != "dir" or not any(kind(Path(path) / n) != "missing" for n in ("config.json", "params.json")):
        gguf = gguf_file(path)
        if gguf is not None:                  # a GGUF file carries its own tokenizer
            return gguf_tokenizer(gguf)
    for name in ("tokenizer.model", "tokenizer.model.v1", "tokenizer.model.v3"):
        candidate = Path(path) / name
        if kind(candidate) != "missing":
            return Tokenizer(candidate)     # a directory or a FIFO by that name gets its sentence
    return None
