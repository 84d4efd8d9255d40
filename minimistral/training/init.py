"""Random weights: where training starts (``init_params``), and tiny random models to look at.

``tiny_model()`` is a seeded random Mistral built in memory with the real vocabulary size (so
real token ids work) and the real architecture, at toy width: 4 layers, D = 64, 4 query heads
sharing 2 kv heads, a window of W = 3 as in Fig. 1. Its outputs are meaningless; its shapes,
masks and caches behave exactly like the 7B's (the figures of Fig. 2 and the tests use it).
"""

from __future__ import annotations

import numpy as np

from ..checkpoints.names import expected_shapes
from ..checkpoints.weights import Weights
from ..config import ModelArgs
from ..guards.limits import check_fits
from ..model import Mistral

TINY = ModelArgs(dim=64, n_layers=4, head_dim=16, hidden_dim=160, n_heads=4, n_kv_heads=2,
                 sliding_window=3, context_len=8192, vocab_size=32000)


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
        from ..tokenizer import SHIPPED_TOKENIZER, Tokenizer
        tok = Tokenizer(SHIPPED_TOKENIZER)
    return Mistral(args, random_weights(args, seed), tokenizer=tok)


def init_params(args: ModelArgs, seed: int, std: float = 0.02) -> dict[str, np.ndarray]:
    """Every tensor the config implies, as Mistral's HF port initialises: normal(0, std), gains 1.

    (transformers' MistralPreTrainedModel._init_weights: Linear and Embedding weights
    ~ N(0, initializer_range = 0.02), RMSNorm weights = 1.) Drawn in the order of expected_shapes.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in expected_shapes(args).items():
        if name.endswith("norm.weight"):
            params[name] = np.ones(shape, dtype=np.float32)                         # [D]
        else:
            params[name] = rng.normal(0.0, std, size=shape).astype(np.float32)     # [out, in]
    return params
