"""Choosing the next token from logits: greedy, temperature, top-p (nucleus), seeded.

    temperature 0     -> argmax (greedy; top_p is irrelevant)
    temperature t > 0 -> p = softmax(logits / t); lower t sharpens, higher t flattens
    top_p < 1         -> keep the smallest set of most likely tokens whose probabilities sum
                         to >= top_p, renormalise, sample from that set

Worked example, probabilities [0.5, 0.3, 0.15, 0.05] and top_p = 0.75: sorted, the running
sums are 0.5, 0.8, ...; 0.5 < 0.75 is not enough, 0.8 >= 0.75 is, so the nucleus is
tokens {0, 1} and sampling uses [0.625, 0.375, 0, 0].

The probabilities are computed in float64: a running sum over 32000 float32 probabilities
would carry ~1e-5 of rounding into the cut-off, and the random draw is float64 anyway.
"""

from __future__ import annotations

import numpy as np


def softmax_with_temperature(logits: np.ndarray, temperature: float) -> np.ndarray:
    """float64 [V] probabilities of softmax(logits / temperature), temperature > 0.

    The maximum is subtracted *before* dividing: (l - max) / t is <= 0 for every t > 0, so a
    tiny temperature (1e-310) gives -inf, not inf - inf = NaN, and exp never overflows.
    """
    z = np.asarray(logits, dtype=np.float64)                          # [V]
    with np.errstate(over="ignore"):                                  # -1 / 1e-310 -> -inf: fine
        z = (z - z.max()) / temperature                               # [V], <= 0 (max -> 0)
    e = np.exp(z)
    return e / e.sum()


def top_p_filter(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Zero all but the nucleus: the smallest top set with cumulative probability >= top_p.

    top_p_filter([0.5, 0.3, 0.15, 0.05], 0.75) -> [0.625, 0.375, 0, 0]  (renormalised)
    Ties are broken towards the lower token id; at least one token is always kept.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if top_p >= 1.0:
        return probs
    order = np.argsort(-probs, kind="stable")                         # [V] most likely first
    before = np.cumsum(probs[order]) - probs[order]                   # mass of the tokens ahead
    keep = np.zeros(probs.shape, dtype=bool)
    keep[order[before < top_p]] = True                                # needed to reach top_p
    kept = np.where(keep, probs, 0.0)
    return kept / kept.sum()


def sample_token(logits: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator) -> int:
    """The next token id from logits [V]: greedy at temperature 0, else a draw from rng."""
    if temperature == 0:
        return int(np.argmax(logits))                                 # first maximum on ties
    probs = top_p_filter(softmax_with_temperature(logits, temperature), top_p)
    return int(rng.choice(len(probs), p=probs))
