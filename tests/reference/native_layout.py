"""Convert a transformers Mistral into Mistral's own layouts (test-only: torch).

Independent of minimistral: the q/k row order comes from the formula in
docs/mistral-7b.md §5. HF's conversion maps native -> HF with

    w_hf = w.reshape(n, Hd // 2, 2, D).swapaxes(1, 2).reshape(n * Hd, D)

so native is recovered by the inverse reshape/swap:

    w = w_hf.reshape(n, 2, Hd // 2, D).swapaxes(1, 2).reshape(n * Hd, D)
"""

from __future__ import annotations

import json
from pathlib import Path

HF_TO_NATIVE = {
    "input_layernorm": "attention_norm", "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attention.wq", "self_attn.k_proj": "attention.wk",
    "self_attn.v_proj": "attention.wv", "self_attn.o_proj": "attention.wo",
    "mlp.gate_proj": "feed_forward.w1", "mlp.up_proj": "feed_forward.w3",
    "mlp.down_proj": "feed_forward.w2",
}


def unpermute(w, n_heads: int, head_dim: int):
    """HF q/k rows -> native interleaved rows (the inverse of HF's conversion, reference §5)."""
    dim = w.shape[1]
    return w.reshape(n_heads, 2, head_dim // 2, dim).transpose(1, 2).reshape(n_heads * head_dim, dim)


def native_state_dict(model, dtype=None) -> dict:
    """{native name: torch tensor} for a MistralForCausalLM, rows of wq/wk un-permuted."""
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    out = {}
    for name, t in model.state_dict().items():
        t = t.detach().clone() if dtype is None else t.detach().to(dtype).clone()
        if name == "model.embed_tokens.weight":
            out["tok_embeddings.weight"] = t
        elif name == "model.norm.weight":
            out["norm.weight"] = t
        elif name == "lm_head.weight":
            out["output.weight"] = t
        else:
            _, _, i, rest = name.split(".", 3)            # model.layers.{i}.{rest}
            module = rest.rsplit(".", 1)[0]
            if module == "self_attn.q_proj":
                t = unpermute(t, cfg.num_attention_heads, head_dim)
            elif module == "self_attn.k_proj":
                t = unpermute(t, cfg.num_key_value_heads, head_dim)
            out[f"layers.{i}.{HF_TO_NATIVE[module]}.weight"] = t.contiguous()
    return out


def params_json(cfg) -> dict:
    """The params.json Mistral ships, for a MistralConfig."""
    rope = getattr(cfg, "rope_parameters", None) or {}
    theta = rope.get("rope_theta") if isinstance(rope, dict) else None
    theta = theta or getattr(cfg, "rope_theta", 10000.0)
    return {"dim": cfg.hidden_size, "n_layers": cfg.num_hidden_layers,
            "head_dim": getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
            "hidden_dim": cfg.intermediate_size, "n_heads": cfg.num_attention_heads,
            "n_kv_heads": cfg.num_key_value_heads, "norm_eps": cfg.rms_norm_eps,
            "sliding_window": cfg.sliding_window, "vocab_size": cfg.vocab_size, "rope_theta": theta}


def save_native_safetensors(model, directory: Path, dtype=None) -> Path:
    """params.json + consolidated.safetensors (as the v0.3 release)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").write_text(json.dumps(params_json(model.config)))
    save_file(native_state_dict(model, dtype), str(directory / "consolidated.safetensors"))
    return directory


def save_native_pth(model, directory: Path, dtype=None) -> Path:
    """params.json + consolidated.00.pth written by torch.save (as the v0.1 tarball)."""
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").write_text(json.dumps(params_json(model.config)))
    torch.save(native_state_dict(model, dtype), directory / "consolidated.00.pth")
    return directory
