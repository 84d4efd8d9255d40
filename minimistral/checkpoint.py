"""Finding and opening a checkpoint directory: which layout, which files, which names.

Two layouts are released (docs/mistral-7b.md §5):

    HF      config.json + model.safetensors, or model-0000i-of-0000n.safetensors + index.json
    native  params.json + consolidated.safetensors (or consolidated.00.pth, see pth.py)

Everything is renamed to the native names (``layers.0.attention.wq.weight`` ...), which model.py
uses. HF checkpoints store the rows of wq and wk permuted for their "rotate_half" RoPE; rather
than copying 2 x 32 matrices to undo it, we reorder the *outputs* of those two linears (a few
thousand numbers per token) back into the native interleaved order. One RoPE serves both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .config import ModelArgs
from .errors import MinimistralError
from .weights import StoredTensor, Weights, read_safetensors

HF_NAMES = {  # HF suffix -> native suffix, per layer
    "input_layernorm.weight": "attention_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attention.wq.weight",
    "self_attn.k_proj.weight": "attention.wk.weight",
    "self_attn.v_proj.weight": "attention.wv.weight",
    "self_attn.o_proj.weight": "attention.wo.weight",
    "mlp.gate_proj.weight": "feed_forward.w1.weight",
    "mlp.up_proj.weight": "feed_forward.w3.weight",
    "mlp.down_proj.weight": "feed_forward.w2.weight",
}
HF_TOP = {"model.embed_tokens.weight": "tok_embeddings.weight",
          "model.norm.weight": "norm.weight", "lm_head.weight": "output.weight"}


def expected_shapes(a: ModelArgs) -> dict[str, tuple]:
    """Native tensor name -> shape, for every parameter the config implies."""
    shapes = {"tok_embeddings.weight": (a.vocab_size, a.dim), "norm.weight": (a.dim,),
              "output.weight": (a.vocab_size, a.dim)}
    for i in range(a.n_layers):
        p = f"layers.{i}."
        shapes.update({
            p + "attention_norm.weight": (a.dim,), p + "ffn_norm.weight": (a.dim,),
            p + "attention.wq.weight": (a.n_heads * a.head_dim, a.dim),
            p + "attention.wk.weight": (a.n_kv_heads * a.head_dim, a.dim),
            p + "attention.wv.weight": (a.n_kv_heads * a.head_dim, a.dim),
            p + "attention.wo.weight": (a.dim, a.n_heads * a.head_dim),
            p + "feed_forward.w1.weight": (a.hidden_dim, a.dim),
            p + "feed_forward.w3.weight": (a.hidden_dim, a.dim),
            p + "feed_forward.w2.weight": (a.dim, a.hidden_dim),
        })
    return shapes


def hf_name_to_native(name: str) -> str | None:
    if name in HF_TOP:
        return HF_TOP[name]
    if name.startswith("model.layers."):
        layer, _, rest = name[len("model.layers."):].partition(".")
        if layer.isdigit() and rest in HF_NAMES:
            return f"layers.{layer}.{HF_NAMES[rest]}"
    return None


def hf_rope_perm(n_heads: int, head_dim: int) -> np.ndarray:
    """Output index that turns HF's permuted q/k features into the native interleaved order.

    HF's conversion puts native row h*Hd + 2j + c (pair j, member c) at h*Hd + c*Hd/2 + j.
    For Hd = 8: native order [0 1 2 3 4 5 6 7] reads HF features [0 4 1 5 2 6 3 7].
    """
    h, j, c = np.meshgrid(np.arange(n_heads), np.arange(head_dim // 2), np.arange(2), indexing="ij")
    return (h * head_dim + c * (head_dim // 2) + j).reshape(-1)          # [n * Hd]


def read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise MinimistralError(f"cannot read {path}: {e.strerror}.") from None
    except UnicodeDecodeError:
        raise MinimistralError(f"{path} is not UTF-8 text; is it the right file?") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise MinimistralError(f"{path} is not valid JSON ({getattr(e, 'msg', 'too deeply nested')}"
                               f"); re-download it.") from None
    if not isinstance(data, dict):
        raise MinimistralError(f"{path} should hold a JSON object.")
    return data


def detect_layout(directory: Path) -> str:
    """'hf', 'native' or 'pth'; raises MinimistralError naming what is wrong or unsupported."""
    if not directory.exists():
        raise MinimistralError(f"model directory {directory} does not exist.")
    if not directory.is_dir():
        if directory.suffix.lower() == ".gguf":
            raise MinimistralError(f"{directory} is a GGUF file (llama.cpp); minimistral reads the "
                                   f"original safetensors release: pass its directory instead.")
        raise MinimistralError(f"{directory} is a file; pass the checkpoint's directory.")
    names = {p.name for p in directory.iterdir()}
    if not names:
        raise MinimistralError(f"model directory {directory} is empty; download the checkpoint into it.")
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
    if any(n.lower().endswith(".gguf") for n in names):
        raise MinimistralError(f"{directory} holds GGUF files (llama.cpp); minimistral reads the "
                               f"original safetensors release (config.json or params.json).")
    raise MinimistralError(f"{directory} has no config.json (HF layout) or params.json (Mistral "
                           f"layout); is this a Mistral checkpoint directory?")


def hf_shards(directory: Path) -> list[Path]:
    index = directory / "model.safetensors.index.json"
    if index.exists():
        weight_map = read_json(index).get("weight_map")
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise MinimistralError(f"{index} has no valid 'weight_map'; re-download it.")
        shards = []
        for shard in dict.fromkeys(weight_map.values()):
            path = directory / shard
            if Path(shard).name != shard:
                raise MinimistralError(f"{index} names a shard outside the directory: {shard!r}.")
            if not path.exists():
                raise MinimistralError(f"{index} names {shard}, which is missing from {directory}; "
                                       f"download it.")
            shards.append(path)
        return shards
    if (directory / "model.safetensors").exists():
        return [directory / "model.safetensors"]
    shards = sorted(directory.glob("model-*-of-*.safetensors"))
    if not shards:
        raise MinimistralError(f"{directory} has no model.safetensors, model-*-of-*.safetensors "
                               f"or model.safetensors.index.json.")
    return shards


def open_checkpoint(directory) -> tuple[ModelArgs, Weights, str]:
    """(args, weights, layout) for a checkpoint directory of any supported layout."""
    directory = Path(directory)
    layout = detect_layout(directory)
    if layout == "hf":
        args = ModelArgs.from_hf_config(read_json(directory / "config.json"), str(directory / "config.json"))
        tensors: dict[str, StoredTensor] = {}
        for shard in hf_shards(directory):
            for name, t in read_safetensors(shard).items():
                native = hf_name_to_native(name)
                if native is None:
                    if name.endswith("rotary_emb.inv_freq"):
                        continue  # a buffer older transformers saved; RoPE is computed, not stored
                    raise MinimistralError(f"{shard} holds an unexpected tensor '{name}'; is this a "
                                           f"Mistral checkpoint?")
                tensors[native] = t
        if "output.weight" not in tensors and "tok_embeddings.weight" in tensors:
            tensors["output.weight"] = tensors["tok_embeddings.weight"]  # tied embeddings
        perm = {}
        for i in range(args.n_layers):
            perm[f"layers.{i}.attention.wq.weight"] = hf_rope_perm(args.n_heads, args.head_dim)
            perm[f"layers.{i}.attention.wk.weight"] = hf_rope_perm(args.n_kv_heads, args.head_dim)
        weights = Weights(tensors, out_perm=perm)
    else:
        args = ModelArgs.from_params_json(read_json(directory / "params.json"), str(directory / "params.json"))
        if layout == "native":
            tensors = read_safetensors(directory / "consolidated.safetensors")
        else:
            from .pth import read_pth
            tensors = read_pth(directory / "consolidated.00.pth")
        tensors.pop("rope.freqs", None)  # a RoPE buffer some native exports keep; RoPE is computed
        weights = Weights(tensors)       # native rows already use the interleaved RoPE pairing
    check_tensors(args, weights, directory)
    return args, weights, layout


def check_tensors(args: ModelArgs, weights: Weights, directory: Path) -> None:
    """Every tensor the config implies is present, with that shape, and nothing else."""
    expected = expected_shapes(args)
    missing = [n for n in expected if n not in weights.tensors]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise MinimistralError(f"{directory}: the weights lack '{missing[0]}'{more} that the config "
                               f"implies; is a shard missing or the config wrong?")
    extra = [n for n in weights.tensors if n not in expected]
    if extra:
        raise MinimistralError(f"{directory}: the weights hold '{extra[0]}', which the config does not "
                               f"imply (n_layers={args.n_layers}); does the config match the weights?")
    for name, shape in expected.items():
        t = weights.tensors[name]
        if tuple(t.shape) != shape:
            raise MinimistralError(f"{t.path}: tensor '{t.name}' has shape {list(t.shape)} but the "
                                   f"config implies {list(shape)}; the config does not match the weights.")


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
