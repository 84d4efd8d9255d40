"""Tiny random Mistral models saved by transformers, the numerical reference (test-only: torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# name -> MistralConfig fields. Windows shorter than the test sequences so the window matters.
CONFIGS = {
    "gqa_window": dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=8,
                       num_key_value_heads=2, sliding_window=5, vocab_size=256),
    "mqa_window": dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=1, sliding_window=3, vocab_size=200),
    "mha_full": dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=4, sliding_window=None, vocab_size=128, rope_theta=1e6),
    "head_dim_explicit": dict(hidden_size=48, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              num_key_value_heads=2, head_dim=16, sliding_window=4, vocab_size=128),
}


def make_hf_model(config: dict, seed: int = 0, scale: float = 3.0):
    """A MistralForCausalLM with random weights, scaled up so logits are not near-tied."""
    import torch
    from transformers import MistralConfig, MistralForCausalLM

    torch.manual_seed(seed)
    cfg = MistralConfig(max_position_embeddings=512, rms_norm_eps=1e-5, tie_word_embeddings=False,
                        attn_implementation="eager", **config)
    model = MistralForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))   # non-trivial norm gains
            else:
                p.mul_(scale)
    return model


def save_hf(model, directory: Path, dtype: str = "float32", max_shard_size=None) -> Path:
    """save_pretrained in float32 or bfloat16 (optionally sharded)."""

    directory = Path(directory)
    m = model if dtype == "float32" else _bf16_copy(model)
    kwargs = {"safe_serialization": True}
    if max_shard_size:
        kwargs["max_shard_size"] = max_shard_size
    m.save_pretrained(directory, **kwargs)
    assert any(directory.glob("*.safetensors"))
    return directory


def _bf16_copy(model):
    import copy

    import torch

    return copy.deepcopy(model).to(torch.bfloat16)


def reference_logits(directory: Path, tokens) -> np.ndarray:
    """Reload the saved model in float32 with eager attention (docs/mistral-7b.md §8) and run it."""
    import torch
    from transformers import MistralForCausalLM

    model = MistralForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(torch.tensor([list(tokens)]))
    return out.logits[0].numpy()


def reference_hidden_states(directory: Path, tokens) -> list[np.ndarray]:
    import torch
    from transformers import MistralForCausalLM

    model = MistralForCausalLM.from_pretrained(directory, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(torch.tensor([list(tokens)]), output_hidden_states=True)
    return [h[0].numpy() for h in out.hidden_states]
