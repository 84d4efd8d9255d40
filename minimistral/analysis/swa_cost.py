"""What the sliding window saves in compute: attention FLOPs and score memory, counted and run.

Attention's own work (not the projections, which do not depend on W) is two products per
(query, key) pair that is read, per query head: the score q.k (Hd multiply-adds) and the
weighted sum p v (Hd multiply-adds), so 4 Hd FLOPs per pair per head. What changes between
vanilla causal attention and SWA is only how many pairs there are. A query at position t reads

    vanilla causal:   t + 1 keys              pairs(T) = T (T + 1) / 2
    sliding window:   min(t + 1, W) keys      pairs(T) = W (W + 1) / 2 + (T - W) W   for T >= W

The two are equal up to T = W and part there: vanilla keeps growing as T^2, SWA as T W.
At T = 16384, W = 4096: 134.2M pairs against 58.7M, a ratio of 2.29. (A "dense" baseline that
scores the whole T x T square and masks half of it away does T^2 pairs: 4.57x SWA.)

``blocked_attention`` runs either through the model's own ``grouped_attention`` one block of
queries at a time, reading only the keys a block can see (keys 0..end for causal, the last
W + B - 1 for SWA), the way chunked pre-fill does; the full 16K x 16K x 32-head score tensor
(34 GB in float32) is never built. benchmarks/bench_swa_cost.py times it.
"""

from __future__ import annotations

import numpy as np

from ..gqa import grouped_attention
from ..masks import sliding_window_mask


def attended_pairs(T: int, window: int | None) -> int:
    """(query, key) pairs a causal (window None) or sliding-window pass over T tokens reads.

    attended_pairs(6, None) -> 21 (1+2+3+4+5+6); attended_pairs(6, 3) -> 15 (1+2+3+3+3+3).
    """
    if window is None or T <= window:
        return T * (T + 1) // 2
    return window * (window + 1) // 2 + (T - window) * window


def attention_flops(T: int, window: int | None, n_heads: int = 32, head_dim: int = 128) -> int:
    """FLOPs of one layer's attention core (q.k scores and p v sums; a multiply-add = 2 FLOPs).

    7B at T = 16384: 4 x 128 x 32 x 134.2M = 2.20 TFLOP causal, 0.96 TFLOP with W = 4096.
    """
    return 4 * head_dim * n_heads * attended_pairs(T, window)


def score_bytes(T: int, window: int | None, n_heads: int = 32, bytes_per_value: int = 4,
                block: int | None = None) -> int:
    """Bytes of the attention score matrix of one layer, float32 by default.

    Materialised whole (block None): vanilla needs [H, T, T]; SWA only its band [H, T, W].
    Computed a block of B queries at a time: [H, B, T] for the last causal block, [H, B, W + B - 1]
    with a window. 7B at 16K: 34.4 GB vanilla, 8.6 GB as a band, 1.1 GB / 0.3 GB per 512 queries.
    """
    if block is None:
        keys = T if window is None else min(T, window)
        return n_heads * T * keys * bytes_per_value
    keys = T if window is None else min(T, window + block - 1)
    return n_heads * min(block, T) * keys * bytes_per_value


def blocked_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, window: int | None,
                      block: int = 256) -> np.ndarray:
    """Causal or sliding-window attention over T positions, B queries at a time: -> [T, H, Hd].

    q [T, H, Hd], k and v [T, K, Hd]. Each block of queries t0..t0+B-1 attends only to the keys
    it can see: 0..t0+B-1 (causal) or t0-W+1..t0+B-1 (SWA), masked by sliding_window_mask.
    """
    T = q.shape[0]
    out = np.empty_like(q)                                                     # [T, H, Hd]
    for t0 in range(0, T, block):
        t1 = min(T, t0 + block)
        out[t0:t1] = attend_block(q, k, v, t0, t1, window)                     # [B, H, Hd]
    return out


def attend_block(q: np.ndarray, k: np.ndarray, v: np.ndarray, t0: int, t1: int,
                 window: int | None) -> np.ndarray:
    """Queries t0..t1-1 of q [T, H, Hd] against the keys they can see -> [B, H, Hd].

    Causal: keys 0..t1-1 (S = t1). SWA: keys t0-W+1..t1-1 (S <= W + B - 1), a band.
    """
    s0 = 0 if window is None else max(0, t0 - window + 1)                      # first visible key
    allowed = sliding_window_mask(np.arange(t0, t1), np.arange(s0, t1), window)  # [B, S]
    return grouped_attention(q[t0:t1], k[s0:t1], v[s0:t1], allowed)            # [B, H, Hd]
