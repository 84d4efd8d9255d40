"""Write a transformers Mistral as llama.cpp's converter would (test-only; independent of minimistral).

What llama.cpp's convert_hf_to_gguf.py does for a Mistral (``LlamaModel``), redone here with
llama.cpp's own gguf-py, not with minimistral's code:

- tensor names from gguf-py's map for MODEL_ARCH.LLAMA (``get_tensor_name_map``);
- q and k rows permuted with ``LlamaModel.permute``:
      w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)
  (n_head = the kv heads for k);
- 1-D tensors (the norms) in F32, the matrices in the file type, quantized by gguf.quants;
- hyper-parameters as ``llama.*`` keys, the vocabulary from a sentencepiece model the way
  ``_create_vocab_sentencepiece`` reads one (pieces, scores, unknown/control/unused/byte types).

Q4_K and Q6_K have no quantizer in gguf-py: their matrices are random blocks with ordinary
scales, and the model is whatever they dequantize to (transformers reads the same bytes).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

SCALE_BYTES = {"Q4_K": [(0, 3e-4)], "Q6_K": [(208, 6e-5)]}   # (fp16 scale's offset, typical value):
# weights of about +-0.1 (a Q6_K weight is up to 4064 d, a Q4_K one 945 d)


def permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's LlamaModel.permute: HF rows -> the interleaved RoPE order llama.cpp runs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def random_blocks(rng, qtype: str, rows: int, cols: int) -> np.ndarray:
    """uint8 [rows, bytes] of random K-quant blocks whose scales are ordinary fp16 numbers."""
    import gguf

    per_block, block_bytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType[qtype]]
    raw = rng.integers(0, 256, size=(rows * cols // per_block, block_bytes), dtype=np.uint8)
    for at, typical in SCALE_BYTES[qtype]:
        d = (typical * rng.uniform(0.5, 1.5, size=raw.shape[0])).astype(np.float16)
        raw[:, at:at + 2] = d.view(np.uint8).reshape(-1, 2)
    if qtype == "Q4_K":
        # dmin = 7.5 d and min = scale: each sub-block d*scale*(q - 7.5), centred like the others.
        # The 6-bit scale/min packing of ggml's get_scale_min_k4, written out:
        dmin = (d.astype(np.float32) * 7.5).astype(np.float16)
        raw[:, 2:4] = dmin.view(np.uint8).reshape(-1, 2)
        sc = rng.integers(8, 64, size=(raw.shape[0], 8), dtype=np.uint8)
        lo, hi = sc[:, :4], sc[:, 4:]
        raw[:, 4:8] = lo | ((hi >> 4) << 6)                       # scales 0..3, top bits of 4..7
        raw[:, 8:12] = lo | ((hi >> 4) << 6)                      # mins 0..3 (= scales)
        raw[:, 12:16] = (hi & 0x0F) | ((hi & 0x0F) << 4)          # low bits of scales/mins 4..7
    return raw.reshape(rows, cols // per_block * block_bytes)


def vocab_of(sp) -> tuple[list, list, list]:
    """(tokens, scores, types) the way llama.cpp's _create_vocab_sentencepiece reads a model."""
    import gguf

    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i).encode("utf-8"))
        scores.append(sp.get_score(i))
        t = gguf.TokenType.NORMAL
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        types.append(t)
    return tokens, scores, types


def byte_vocab(n: int):
    """A small sentencepiece-style vocabulary of n >= 259 tokens: <unk> <s> </s>, the 256 byte
    pieces, then words."""
    import gguf

    words = [f"\u2581w{i}" for i in range(n - 259)]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + words
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + \
        [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(words)
    scores = [0.0] * 259 + [-float(i) for i in range(len(words))]
    return [t.encode() for t in tokens], scores, types


def write_gguf(model, path: Path, qtype: str = "F32", types: dict | None = None, vocab=None, name="tiny",
               seed: int = 0, permute_qk: bool = True, metadata: dict | None = None) -> Path:
    """Write `model` (a MistralForCausalLM) as a llama.cpp GGUF; `types` overrides the type of
    tensors whose GGUF name contains a key (e.g. {"attn_v": "Q6_K"}, a Q4_K_M-like mix)."""
    import gguf

    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_rope_dimension_count(head_dim)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    if head_dim != cfg.hidden_size // cfg.num_attention_heads:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(getattr(cfg, "rope_theta", None) or cfg.rope_parameters["rope_theta"])
    for key, value in (metadata or {}).items():
        w.add_key_value(key, value[0], value[1])
    tokens, scores, toktypes = vocab if vocab is not None else byte_vocab(cfg.vocab_size)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(toktypes)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, cfg.num_hidden_layers)
    for hf_name, t in model.state_dict().items():
        x = t.detach().float().numpy()
        base, suffix = hf_name.rsplit(".", 1)
        name = names.get_name(base) + "." + suffix
        if permute_qk and hf_name.endswith("q_proj.weight"):
            x = permute(x, cfg.num_attention_heads)
        elif permute_qk and hf_name.endswith("k_proj.weight"):
            x = permute(x, cfg.num_key_value_heads)
        kind = "F32" if x.ndim == 1 else next((v for k, v in (types or {}).items() if k in name), qtype)
        if kind in ("Q4_K", "Q6_K"):
            w.add_tensor(name, random_blocks(rng, kind, *x.shape), raw_dtype=gguf.GGMLQuantizationType[kind])
        elif kind in ("F32", "F16"):
            w.add_tensor(name, x.astype(np.float32 if kind == "F32" else np.float16))
        else:
            q = gguf.GGMLQuantizationType[kind]
            w.add_tensor(name, gguf.quants.quantize(x, q), raw_dtype=q)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return Path(path)


def transformers_from_gguf(path: Path, sliding_window=None):
    """The model transformers' own GGUF reader sees (modeling_gguf_pytorch_utils: its config
    mapping, gguf-py's dequantization, its undoing of llama.cpp's q/k permutation), in a
    MistralForCausalLM with eager attention and, if given, a sliding window (GGUF holds none).

    ``from_pretrained(dir, gguf_file=...)`` runs the same reader but needs accelerate, which the
    tests do not install; this calls the reader directly."""
    import torch
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
    )
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    c = load_gguf_checkpoint(str(path))["config"]
    assert c["model_type"] == "llama", c["model_type"]        # llama.cpp files Mistral as llama
    keys = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "vocab_size", "max_position_embeddings", "rms_norm_eps",
            "tie_word_embeddings")
    sizes = {k: c[k] for k in keys if k in c}
    rope = {"rope_theta": c["rope_theta"], "rope_type": "default"}
    names = LlamaForCausalLM(LlamaConfig(**sizes, rope_parameters=rope))      # only for its parameter names
    state = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=names)["tensors"]
    cfg = MistralConfig(**sizes, rope_parameters=rope, sliding_window=sliding_window, attn_implementation="eager")
    model = MistralForCausalLM(cfg).eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= ({"lm_head.weight"} if cfg.tie_word_embeddings else set()), \
        (missing, unexpected)
    return model.to(torch.float32)


def logits(model, tokens) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model(torch.tensor([list(tokens)])).logits[0].numpy()


# ---- a GGUF file built field by field, for hostile and fuzzed headers ---------------------------

def gguf_bytes(kv, tensors=(), version=3, alignment=32, data=b"", magic=b"GGUF"):
    """A GGUF file built field by field with struct (independent of any reader or writer).

    kv: [(key, value type, packed value bytes)]; tensors: [(name, dims, type id, offset)]."""
    def s(b):
        b = b.encode() if isinstance(b, str) else b
        return struct.pack("<Q", len(b)) + b
    out = magic + struct.pack("<IQQ", version, len(tensors), len(kv))
    for key, vtype, value in kv:
        out += s(key) + struct.pack("<I", vtype) + value
    for name, dims, type_id, offset in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", type_id, offset)
    out += b"\0" * (-len(out) % alignment)
    return out + data


def u32(x):
    return 4, struct.pack("<I", x)


def text(x):
    b = x.encode()
    return 8, struct.pack("<Q", len(b)) + b
