"""The checkers of notebooks/08_attention_maps.ipynb's exercises, computed here, out of the
notebook's sight: pair counts from masks.sliding_window_mask, the previous-token score from
the maps' subdiagonal, GQA group means from gqa.kv_head_of, and the position where <s> leaves
the rolling buffer from the 7B's config (slot = position mod W, Fig. 2). A wrong answer gets a
hint naming what to look at.

The notebook passes what it computed on the model (maps, the trace of the long generation), so
the expected values are the model's own, recomputed here by another route.

    check(1, None)                        ->  'exercise 1: not yet (...)'
    check(2, 0.3, maps=maps)              ->  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..gqa import kv_head_of
from ..masks import sliding_window_mask
from ._checking import no_exercise, outcome, whole

PAIR_CASES = [(1, 16), (16, 16), (17, 16), (300, 7), (50, 1), (9, 100), (137, 32)]


def pairs_by_mask(T: int, W: int) -> int:
    """Exercise 1: (query, key) pairs a sliding-window causal mask allows, counted on the mask."""
    return int(sliding_window_mask(np.arange(T), np.arange(T), W).sum())


def previous_token_score(maps: np.ndarray) -> tuple[int, int, float]:
    """Exercise 2: (layer, head, score) of the head that weighs key t - 1 most, by loops over queries."""
    L, H, T, _ = maps.shape
    best = (0, 0, -1.0)
    for l in range(L):
        for h in range(H):
            s = sum(float(maps[l, h, t, t - 1]) for t in range(1, T)) / (T - 1)
            if s > best[2]:
                best = (l, h, s)
    return best


def group_means(layer_maps: np.ndarray, n_kv_heads: int) -> np.ndarray:
    """Exercise 3: float32 [K, T, T], the mean map of each group of query heads sharing a kv head."""
    H = layer_maps.shape[0]
    owner = kv_head_of(H, n_kv_heads)
    out = np.zeros((n_kv_heads,) + layer_maps.shape[1:], dtype=np.float32)
    for h in range(H):
        out[owner[h]] += layer_maps[h] / (H // n_kv_heads)
    return out


def bos_gone(mass_bos: np.ndarray) -> tuple[int, int, int]:
    """Exercise 4: (first query here with 0 on <s> in every layer, the same in the 7B, its 7B slot)."""
    W7 = ModelArgs().sliding_window
    here = int(np.flatnonzero((mass_bos == 0).all(axis=0))[0])
    return here, W7, W7 % W7


def _judge_1(f):
    if not callable(f):
        return "answer_1 should be a function (T, W) -> int"
    for T, W in PAIR_CASES:
        if whole(f(T, W)) != pairs_by_mask(T, W):
            if T <= W:
                return f"T = {T}, W = {W}: no query has a full window yet; query t sees t + 1 keys"
            if whole(f(T, W)) == T * W:
                return "the first W - 1 queries see fewer than W keys (query t sees t + 1 of them)"
            return f"T = {T}, W = {W}: query t sees min(t + 1, W) keys; sum that over t = 0 .. T - 1"
    return None


def _judge_2(x, maps):
    l, h, s = previous_token_score(maps)
    if abs(float(x) - s) < 1e-5:
        return None
    return (f"take the head with the largest previous-token score in the table; average maps[l, h, t, t - 1] "
            f"over t = 1 .. T - 1 (T - 1 values; the diagonal itself is the token's own key)")


def _judge_3(x, maps, n_kv_heads):
    x = np.asarray(x)
    want = group_means(maps[1], n_kv_heads)
    if x.shape != want.shape:
        return f"one [T, T] map per kv head: shape {want.shape}"
    if x.dtype != np.float32:
        return "keep float32 (the maps are float32; a mean of float32 stays float32)"
    if np.allclose(x, want, atol=1e-6):
        return None
    return "heads are laid out group by group: reshape [H, T, T] to [K, H / K, T, T] and average axis 1"


def _judge_4(x, mass_bos):
    want = bos_gone(mass_bos)
    x = tuple(whole(v) for v in x)
    if x == want:
        return None
    if len(x) != 3:
        return "three ints: (position here, position in the 7B, its slot in the 7B)"
    if x[0] != want[0]:
        return "find the first column of gen['mass']['<s>'] that is 0 in every layer (all over axis 0)"
    if x[1] != want[1]:
        return "the same happens at the position equal to the window, with the 7B's W"
    return "the slot of position i is i mod W (Fig. 2)"


def check(n: int, answer, maps=None, n_kv_heads=None, mass_bos=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: _judge_1, 2: lambda x: _judge_2(x, maps), 3: lambda x: _judge_3(x, maps, n_kv_heads),
              4: lambda x: _judge_4(list(x), mass_bos)}
    return outcome(n, answer, judges[n]) if n in judges else no_exercise(n)
