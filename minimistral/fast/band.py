"""Sliding-window attention over a long training sequence, block by block: T x (Q + W - 1)
scores instead of T x T.

With a window W, the query at position t reads only keys t - W + 1 .. t (masks.py). Cut the T
queries into n blocks of Q; block b (queries bQ .. bQ + Q - 1) can only read the Q + W - 1 keys
bQ - W + 1 .. bQ + Q - 1. So each block multiplies its queries by its own window of keys, and
the n windows overlap by W - 1 keys. At T = 512, W = 32, Q = 32 that is 63 keys per query
instead of 512: the same probabilities (every key outside the band got exactly 0), 8x less work.

    W = 3, Q = 3, T = 6: keys padded with W - 1 = 2 zeros in front (masked), then
    block 0: queries 0 1 2   keys -2 -1  0  1  2      band: key j of the window is allowed for
    block 1: queries 3 4 5   keys  1  2  3  4  5      query i when i <= j <= i + W - 1,
                                                      and never on a padding key
The backward adds the windows' key gradients back where they overlap (``fold``).
"""

from __future__ import annotations

import numpy as np


def block_size(T: int, window: int | None) -> int | None:
    """Q, the queries per block, or None when blocks would not save work (no window, or W not
    much shorter than T): Q = W keeps each window at 2W - 1 keys."""
    if window is None or 4 * window > T:
        return None
    return window


def n_blocks(T: int, Q: int) -> int:
    return -(-T // Q)


def band_mask(T: int, Q: int, W: int) -> np.ndarray:
    """bool [n, Q, Q + W - 1]: which key of its block's window each query may read."""
    n, S = n_blocks(T, Q), Q + W - 1
    i, j = np.arange(Q)[:, None], np.arange(S)[None, :]
    band = (j >= i) & (j <= i + W - 1)                                           # [Q, S]
    key_pos = np.arange(n)[:, None] * Q + np.arange(S)[None, :] - (W - 1)        # [n, S]
    return band[None] & (key_pos >= 0)[:, None, :]                               # [n, Q, S]


def blocks(x: np.ndarray, Q: int) -> np.ndarray:
    """[..., T, Hd] -> [..., n, Q, Hd]: the T rows cut into n blocks, zero rows after the last."""
    T = x.shape[-2]
    n = n_blocks(T, Q)
    out = np.zeros(x.shape[:-2] + (n * Q, x.shape[-1]), dtype=np.float32)
    out[..., :T, :] = x
    return out.reshape(x.shape[:-2] + (n, Q, x.shape[-1]))


def windows(x: np.ndarray, Q: int, W: int) -> np.ndarray:
    """[..., T, Hd] keys or values -> [..., n, Q + W - 1, Hd]: block b's window, a copy."""
    T, Hd = x.shape[-2:]
    n = n_blocks(T, Q)
    padded = np.zeros(x.shape[:-2] + (W - 1 + n * Q, Hd), dtype=np.float32)     # zeros before 0
    padded[..., W - 1:W - 1 + T, :] = x
    s = padded.strides
    view = np.lib.stride_tricks.as_strided(padded, shape=x.shape[:-2] + (n, Q + W - 1, Hd),
                                           strides=s[:-2] + (Q * s[-2], s[-2], s[-1]), writeable=False)
    return np.ascontiguousarray(view)


def fold(d: np.ndarray, T: int, W: int) -> np.ndarray:
    """[..., n, Q + W - 1, Hd] gradients of the windows -> [..., T, Hd]: each key's sum.

    A window's last Q keys are its block's own positions; its first W - 1 are the previous
    block's last ones (or the padding before 0), so two adds cover every overlap (W - 1 <= Q).
    """
    n, S, Hd = d.shape[-3:]
    Q = S - (W - 1)
    out = np.zeros(d.shape[:-3] + (W - 1 + n * Q, Hd), dtype=np.float32)         # padded positions
    out[..., W - 1:, :] += d[..., W - 1:, :].reshape(d.shape[:-3] + (n * Q, Hd))
    head = np.zeros(d.shape[:-3] + (n, Q, Hd), dtype=np.float32)                # contiguous: a view below
    head[..., :W - 1, :] = d[..., :W - 1, :]
    out[..., :n * Q, :] += head.reshape(d.shape[:-3] + (n * Q, Hd))
    return out[..., W - 1:W - 1 + T, :]
