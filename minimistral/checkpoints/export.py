"""Writing checkpoints in the HF layout: what `minimistral train` saves, and what
``minimistral.load`` and transformers' MistralForCausalLM both read back.

HF stores wq and wk with their rows permuted for its rotate-half RoPE; the writer applies that
permutation (``hf_permute``) as the inverse of the one the reader undoes (names.hf_rope_perm),
so one definition of the row order serves both directions.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..config import ModelArgs
from ..tokenizer import SHIPPED_TOKENIZER
from .names import file_name, hf_rope_perm
from .safetensors import write_safetensors


def hf_permute(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Native wq/wk rows -> HF's order, the inverse of hf_rope_perm (what the loader undoes), as
    transformers' convert_mistral_weights_to_hf.py `permute` does:

        w.view(n_heads, Hd // 2, 2, D).transpose(1, 2).reshape(n_heads * Hd, D)

    Native RoPE rotates interleaved pairs (0,1), (2,3), ...; HF's rotate_half pairs feature j with
    j + Hd/2. For Hd = 4, native rows [a0 a1 b0 b1] (pairs a, b) become HF rows [a0 b0 a1 b1].
    """
    perm = hf_rope_perm(n_heads, w.shape[0] // n_heads)     # native row r = HF row perm[r]
    hf = np.empty_like(w)
    hf[perm] = w                                            # [H*Hd, D]
    return hf


def to_hf(args: ModelArgs, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Native names and row order -> HF names and row order (q and k rows permuted)."""
    hf = {}
    for name, x in params.items():
        if name.startswith("layers."):
            _, i, rest = name.split(".", 2)
            if rest == "attention.wq.weight":
                x = hf_permute(x, args.n_heads)
            elif rest == "attention.wk.weight":
                x = hf_permute(x, args.n_kv_heads)
        hf[file_name(name, "hf")] = x          # the names layout.py reads back (names.py, one map)
    return hf


def hf_config(args: ModelArgs, dtype: str) -> dict:
    """config.json of transformers' MistralConfig for these args."""
    return {"architectures": ["MistralForCausalLM"], "model_type": "mistral",
            "hidden_size": args.dim, "num_hidden_layers": args.n_layers, "head_dim": args.head_dim,
            "intermediate_size": args.hidden_dim, "num_attention_heads": args.n_heads,
            "num_key_value_heads": args.n_kv_heads, "sliding_window": args.sliding_window,
            "max_position_embeddings": args.context_len, "vocab_size": args.vocab_size,
            "rms_norm_eps": args.norm_eps, "rope_theta": args.rope_theta, "hidden_act": "silu",
            "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
            "initializer_range": 0.02, "torch_dtype": "bfloat16" if dtype == "BF16" else "float32"}


def write_hf_checkpoint(directory, args: ModelArgs, params: dict[str, np.ndarray], dtype: str = "BF16") -> Path:
    """Write config.json + model.safetensors (HF names, HF q/k row order) + the shipped tokenizer.model.

    All or nothing: each file is written as NAME.partial and renamed once all three are whole,
    so a Ctrl-C or a full disk half-way leaves the directory as it was (a directory this call
    made is removed again): a checkpoint on disk is always a whole one, old or new.
    """
    directory = Path(directory)
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    partial = {name: directory / f"{name}.partial" for name in ("model.safetensors", "config.json", "tokenizer.model")}
    try:
        write_safetensors(partial["model.safetensors"], to_hf(args, params), dtype=dtype,
                          metadata={"format": "pt"})          # read back by open_checkpoint
        partial["config.json"].write_text(json.dumps(hf_config(args, dtype), indent=2) + "\n")
        shutil.copyfile(SHIPPED_TOKENIZER, partial["tokenizer.model"])
        for name, path in partial.items():
            os.replace(path, directory / name)
    except BaseException:
        for path in partial.values():
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if made:
            with contextlib.suppress(OSError):
                directory.rmdir()                           # only if nothing else is in it
        raise
    return directory
