"""The small random Mistral the analysis tests share (GQA: 4 query heads on 2 kv heads, W = 4),
and the relative error they report against transformers."""

import numpy as np

from minimistral.config import ModelArgs
from minimistral.model import Mistral
from minimistral.training.init import random_weights

ARGS = ModelArgs(dim=32, n_layers=3, head_dim=8, hidden_dim=64, n_heads=4, n_kv_heads=2,
                 sliding_window=4, context_len=256, vocab_size=97)


def small_model(seed=0):
    return Mistral(ARGS, random_weights(ARGS, seed=seed, std=0.3))


def rel(ours, ref):
    return float(np.abs(ours - ref).max() / np.abs(ref).max())
