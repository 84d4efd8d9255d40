"""How gqa.grouped_attention's products are cut so that a short chunk stays on one BLAS thread.

The math is in gqa.py; this module only decides the shapes of the matrix products.

Decoding multiplies [G, Hd] by [Hd, S] per kv head: matrix-vector work that a threaded BLAS
would split over all cores, and whose idle threads then keep spinning while the weight threads
of fast/linear.py need those cores (measured on the 7B at a full window: the weights took 1.1 s
longer per token). The same holds for a short chunk of T new tokens ([G*T, Hd]). So:

- the keys go in blocks (``key_blocks``) whose products stay within OpenBLAS's one-thread size,
  as long as a block keeps at least MIN_BLOCK_KEYS keys; and
- up to FEW_QUERIES new tokens, the queries go in blocks small enough for that to hold
  (``query_rows``; 16 for the 7B). Measured on the 4-layer 7B slice: a 20-token chunk took
  540 ms with threaded products, 334 ms at 16 tokens (benchmarks/RESULTS.md).

Longer chunks (a long pre-fill) use plain threaded products; their queries still go in blocks,
so that one block's scores [K, G, t, S] stay under guards/limits.SCORE_BYTES.

    key_blocks(1100, 4 * 128)  ->  [0:512, 512:1024, 1024:1100]
"""

from __future__ import annotations

import numpy as np

from ..guards.limits import SCORE_BYTES
from .threads import ONE_THREAD_PRODUCT

MIN_BLOCK_KEYS = 32        # key blocks for queries G*T*Hd that leave at least 32 keys per block
FEW_QUERIES = 128          # up to this many new tokens, attention stays on one BLAS thread


def key_blocks(S: int, per_key: int) -> list[slice]:
    """Slices of the S keys, each small enough that its product (per_key x block) stays on one thread."""
    block = max(1, ONE_THREAD_PRODUCT // per_key)
    return [slice(s, s + block) for s in range(0, S, block)]


def query_rows(T: int, H: int, G: int, Hd: int, S: int) -> int:
    """How many queries one call of the attention takes at once: within SCORE_BYTES of scores,
    and, for a short chunk, few enough that its products stay on one BLAS thread."""
    rows = max(1, SCORE_BYTES // (4 * H * S))
    if T <= FEW_QUERIES:
        rows = min(rows, max(1, ONE_THREAD_PRODUCT // (G * Hd * MIN_BLOCK_KEYS)))
    return rows


def few(rows: int, Hd: int) -> bool:
    """Whether [rows, Hd] queries are few enough to keep their products on one thread."""
    return rows * Hd * MIN_BLOCK_KEYS <= ONE_THREAD_PRODUCT


def scores(qg: np.ndarray, k: np.ndarray) -> np.ndarray:
    """qg [K, R, Hd] @ keys [S, K, Hd] -> [K, R, S], in key blocks when R is few."""
    K, R, Hd = qg.shape
    if not few(R, Hd):
        return qg @ k.transpose(1, 2, 0)
    return np.concatenate([qg @ k[b].transpose(1, 2, 0) for b in key_blocks(k.shape[0], R * Hd)], axis=-1)


def mix(p: np.ndarray, v: np.ndarray) -> np.ndarray:
    """probabilities p [K, R, S] @ values [S, K, Hd] -> [K, R, Hd], in key blocks when R is few."""
    K, R, S = p.shape
    Hd = v.shape[-1]
    if not few(R, Hd):
        return p @ v.transpose(1, 0, 2)
    return sum(p[:, :, b] @ v[b].transpose(1, 0, 2) for b in key_blocks(S, R * Hd))
