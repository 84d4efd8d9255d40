"""What a Mistral checkpoint holds: the tensors a config implies, their shapes, what each layout
calls them, and the one check of a directory's tensors against its config.

Every layout is read into the native names, the ones model.py uses:

    native                              HF                                          GGUF (llama.cpp)
    tok_embeddings.weight               model.embed_tokens.weight                   token_embd.weight
    layers.3.attention.wq.weight        model.layers.3.self_attn.q_proj.weight      blk.3.attn_q.weight
    layers.3.feed_forward.w1.weight     model.layers.3.mlp.gate_proj.weight         blk.3.ffn_gate.weight
    norm.weight / output.weight         model.norm.weight / lm_head.weight          output_norm / output

HF also stores the rows of wq and wk in another order (``hf_rope_perm``); GGUF keeps the native one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import ModelArgs
from ..errors import MinimistralError
from ..guards.textio import show
from ..guards.values import layer_index
from .weights import Weights

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


def iter_expected(a: ModelArgs):
    """(native tensor name, shape) for every parameter the config implies, layer by layer."""
    yield from (("tok_embeddings.weight", (a.vocab_size, a.dim)), ("norm.weight", (a.dim,)),
                ("output.weight", (a.vocab_size, a.dim)))
    for i in range(a.n_layers):
        p = f"layers.{i}."
        yield from (
            (p + "attention_norm.weight", (a.dim,)), (p + "ffn_norm.weight", (a.dim,)),
            (p + "attention.wq.weight", (a.n_heads * a.head_dim, a.dim)),
            (p + "attention.wk.weight", (a.n_kv_heads * a.head_dim, a.dim)),
            (p + "attention.wv.weight", (a.n_kv_heads * a.head_dim, a.dim)),
            (p + "attention.wo.weight", (a.dim, a.n_heads * a.head_dim)),
            (p + "feed_forward.w1.weight", (a.hidden_dim, a.dim)),
            (p + "feed_forward.w3.weight", (a.hidden_dim, a.dim)),
            (p + "feed_forward.w2.weight", (a.dim, a.hidden_dim)),
        )


LAYER_TENSORS = 9    # tensors per block: two norms, wq wk wv wo, w1 w2 w3


def expected_shapes(a: ModelArgs) -> dict[str, tuple]:
    """Native tensor name -> shape, for every parameter the config implies."""
    return dict(iter_expected(a))


def hf_name_to_native(name: str) -> str | None:
    if name in HF_TOP:
        return HF_TOP[name]
    if name.startswith("model.layers."):
        layer, _, rest = name[len("model.layers."):].partition(".")
        if layer_index(layer) is not None and rest in HF_NAMES:
            return f"layers.{layer}.{HF_NAMES[rest]}"
    return None


def hf_rope_perm(n_heads: int, head_dim: int) -> np.ndarray:
    """Output index that turns HF's permuted q/k features into the native interleaved order.

    HF's conversion puts native row h*Hd + 2j + c (pair j, member c) at h*Hd + c*Hd/2 + j.
    For Hd = 8: native order [0 1 2 3 4 5 6 7] reads HF features [0 4 1 5 2 6 3 7].
    """
    h, j, c = np.meshgrid(np.arange(n_heads), np.arange(head_dim // 2), np.arange(2), indexing="ij")
    return (h * head_dim + c * (head_dim // 2) + j).reshape(-1)          # [n * Hd]


GGUF_NAMES = {"tok_embeddings.weight": "token_embd.weight", "norm.weight": "output_norm.weight",
              "output.weight": "output.weight"}
GGUF_LAYER = {"attention_norm.weight": "attn_norm.weight", "ffn_norm.weight": "ffn_norm.weight",
              "attention.wq.weight": "attn_q.weight", "attention.wk.weight": "attn_k.weight",
              "attention.wv.weight": "attn_v.weight", "attention.wo.weight": "attn_output.weight",
              "feed_forward.w1.weight": "ffn_gate.weight", "feed_forward.w3.weight": "ffn_up.weight",
              "feed_forward.w2.weight": "ffn_down.weight"}
NATIVE_NAMES = {v: k for k, v in GGUF_NAMES.items()}
NATIVE_LAYER = {v: k for k, v in GGUF_LAYER.items()}
# our config field -> the metadata key, for messages


def gguf_name(native: str) -> str:
    """'layers.3.feed_forward.w1.weight' -> 'blk.3.ffn_gate.weight'."""
    if native in GGUF_NAMES:
        return GGUF_NAMES[native]
    _, i, rest = native.split(".", 2)
    return f"blk.{i}.{GGUF_LAYER[rest]}"


def native_name(name: str) -> str | None:
    """'blk.3.ffn_gate.weight' -> 'layers.3.feed_forward.w1.weight'; None for other names."""
    if name in NATIVE_NAMES:
        return NATIVE_NAMES[name]
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and layer_index(parts[1]) is not None and parts[2] in NATIVE_LAYER:
        return f"layers.{parts[1]}.{NATIVE_LAYER[parts[2]]}"
    return None


NATIVE_TO_HF = {v: k for k, v in HF_NAMES.items()}
NATIVE_TOP_TO_HF = {v: k for k, v in HF_TOP.items()}


def file_name(native: str, layout: str) -> str:
    """How the checkpoint's own files name a tensor: 'model.layers.1.mlp.up_proj.weight' for HF,
    'blk.1.ffn_up.weight' for GGUF."""
    if layout == "gguf":
        return gguf_name(native)
    if layout != "hf":
        return native
    if native in NATIVE_TOP_TO_HF:
        return NATIVE_TOP_TO_HF[native]
    _, i, rest = native.split(".", 2)
    return f"model.layers.{i}.{NATIVE_TO_HF[rest]}"


def check_tensors(args: ModelArgs, weights: Weights, directory: Path, layout: str = "native") -> None:
    """Every tensor the config implies is present, with that shape, and nothing else.

    This is where a config's sizes meet the tensors actually present, before the model
    allocates anything by them: a config claiming 10^8 layers or a width of 10^9 is refused here
    after looking at as many names as the files hold, never by building 10^8 of anything.
    """
    keys = {"hf": "num_hidden_layers", "gguf": "llama.block_count"}.get(layout, "n_layers")
    total = 3 + LAYER_TENSORS * args.n_layers
    for name, shape in iter_expected(args):          # stops at the first missing tensor
        if name not in weights.tensors:
            present = sum(1 for n in weights.tensors if _implied(n, args))
            more = total - present - 1
            shown = file_name(name, layout)
            shown = shown if shown == name else f"{shown}' ('{name}"
            raise MinimistralError(f"{show(directory)}: the weights lack '{shown}'"
                                   f"{f' and {more:,} more' if more else ''} that the config implies "
                                   f"({keys}={args.n_layers}); is a shard missing or the config wrong?")
        t = weights.tensors[name]
        if tuple(t.shape) != shape:
            raise MinimistralError(f"{show(t.path)}: tensor '{t.name}' has shape {list(t.shape)} but the "
                                   f"config implies {list(shape)}; the config does not match the weights.")
    extra = [n for n in weights.tensors if not _implied(n, args)]
    if extra:
        raise MinimistralError(f"{show(directory)}: the weights hold '{file_name(extra[0], layout) if _known(extra[0]) else extra[0]}', "
                               f"which the config does not imply ({keys}={args.n_layers}); does the config "
                               f"match the weights?")


def _known(native: str) -> bool:
    if native in NATIVE_TOP_TO_HF:
        return True
    parts = native.split(".", 2)
    return len(parts) == 3 and parts[0] == "layers" and layer_index(parts[1]) is not None and parts[2] in NATIVE_TO_HF


def _implied(native: str, args: ModelArgs) -> bool:
    """Is this native name one the config implies (a top tensor or a known one of layer < n_layers)?"""
    if native in NATIVE_TOP_TO_HF:
        return True
    parts = native.split(".", 2)
    if len(parts) != 3 or parts[0] != "layers" or parts[2] not in NATIVE_TO_HF:
        return False
    layer = layer_index(parts[1])
    return layer is not None and layer < args.n_layers
