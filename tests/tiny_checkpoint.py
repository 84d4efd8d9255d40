"""A tiny random checkpoint in Mistral's native layout with the real tokenizer, for CLI tests.

Not a numerical reference (that is transformers, tests/reference/): it only gives the CLI a
model with the real 32000-token vocabulary to run end to end.
"""

import json
import shutil
from pathlib import Path

from minimistral.checkpoints.safetensors import write_safetensors
from minimistral.config import ModelArgs
from minimistral.tokenizer import SHIPPED_TOKENIZER
from minimistral.training.init import random_weights

TINY_ARGS = ModelArgs(dim=32, n_layers=2, head_dim=8, hidden_dim=64, n_heads=4, n_kv_heads=2,
                      sliding_window=8, vocab_size=32000)


def write_tiny_native(directory, args: ModelArgs = TINY_ARGS, seed: int = 0, dtype: str = "BF16",
                      edit=None) -> Path:
    """params.json + consolidated.safetensors + tokenizer.model; `edit(arrays)` may tamper first."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {name: t.raw for name, t in random_weights(args, seed).tensors.items()}
    if edit:
        edit(arrays)
    write_safetensors(directory / "consolidated.safetensors", arrays, dtype=dtype)
    params = {"dim": args.dim, "n_layers": args.n_layers, "head_dim": args.head_dim,
              "hidden_dim": args.hidden_dim, "n_heads": args.n_heads, "n_kv_heads": args.n_kv_heads,
              "norm_eps": args.norm_eps, "sliding_window": args.sliding_window,
              "vocab_size": args.vocab_size, "rope_theta": args.rope_theta}
    (directory / "params.json").write_text(json.dumps(params))
    shutil.copy(SHIPPED_TOKENIZER, directory / "tokenizer.model")
    return directory



def write_tiny_hf(directory, args: ModelArgs = TINY_ARGS, seed: int = 0) -> Path:
    """config.json + model.safetensors with HF names (random weights, so the q/k row order is moot)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    native = {name: t.raw for name, t in random_weights(args, seed).tensors.items()}
    hf = {}
    for name, x in native.items():
        if name.startswith("layers."):
            _, i, rest = name.split(".", 2)
            hf[f"model.layers.{i}.{HF_SUFFIX[rest]}"] = x
        else:
            hf[HF_TOP[name]] = x
    write_safetensors(directory / "model.safetensors", hf, dtype="BF16")
    config = {"model_type": "mistral", "hidden_size": args.dim, "num_hidden_layers": args.n_layers,
              "head_dim": args.head_dim, "intermediate_size": args.hidden_dim,
              "num_attention_heads": args.n_heads, "num_key_value_heads": args.n_kv_heads,
              "sliding_window": args.sliding_window, "max_position_embeddings": args.context_len,
              "vocab_size": args.vocab_size, "rms_norm_eps": args.norm_eps, "rope_theta": args.rope_theta}
    (directory / "config.json").write_text(json.dumps(config))
    shutil.copy(SHIPPED_TOKENIZER, directory / "tokenizer.model")
    return directory


# The HF names, written out here from docs/mistral-7b.md section 5.
HF_SUFFIX = {"attention_norm.weight": "input_layernorm.weight",
             "ffn_norm.weight": "post_attention_layernorm.weight",
             "attention.wq.weight": "self_attn.q_proj.weight", "attention.wk.weight": "self_attn.k_proj.weight",
             "attention.wv.weight": "self_attn.v_proj.weight", "attention.wo.weight": "self_attn.o_proj.weight",
             "feed_forward.w1.weight": "mlp.gate_proj.weight", "feed_forward.w3.weight": "mlp.up_proj.weight",
             "feed_forward.w2.weight": "mlp.down_proj.weight"}
HF_TOP = {"tok_embeddings.weight": "model.embed_tokens.weight", "norm.weight": "model.norm.weight",
          "output.weight": "lm_head.weight"}
