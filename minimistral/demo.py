"""A tiny random Mistral built in memory: the embedded default that runs with no download.

It has the real vocabulary size (so real token ids work) and the real architecture, at toy
width: 4 layers, D = 64, 4 query heads sharing 2 kv heads, a window of W = 3 as in Fig. 1.
Its outputs are meaningless; its shapes, masks and caches behave exactly like the 7B's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .checkpoint import expected_shapes
from .config import ModelArgs
from .limits import check_fits
from .model import Mistral
from .weights import Weights

TINY = ModelArgs(dim=64, n_layers=4, head_dim=16, hidden_dim=160, n_heads=4, n_kv_heads=2,
                 sliding_window=3, context_len=8192, vocab_size=32000)

TOKENIZER_PATH = Path(__file__).parent / "data" / "tokenizer.model"


def random_weights(args: ModelArgs, seed: int = 0, std: float = 0.06) -> Weights:
    """Every tensor the config implies, random normal (norm gains near 1), float32."""
    check_fits(4 * args.n_params(), f"random float32 weights for {args.n_params():,} parameters")
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in expected_shapes(args).items():
        if name.endswith("norm.weight"):
            arrays[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            arrays[name] = (std * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    return Weights.from_arrays(arrays)


def tiny_model(args: ModelArgs = TINY, seed: int = 0, tokenizer: bool = True) -> Mistral:
    """A seeded random model of the given shape, with the real Mistral tokenizer if asked."""
    tok = None
    if tokenizer:
        from .tokenizer import Tokenizer
        tok = Tokenizer(TOKENIZER_PATH)
    return Mistral(args, random_weights(args, seed), tokenizer=tok)
