"""Attention in window blocks (fast/band.py): the blocks' masks are masks.py's sliding window,
and fold is the adjoint of windows (what the backward pass needs of it)."""

import numpy as np
import pytest

from minimistral.fast import band
from minimistral.masks import sliding_window_mask


@pytest.mark.parametrize("T, W", [(12, 3), (13, 3), (64, 8), (50, 4)])
def test_the_blocks_hold_exactly_the_sliding_window(T, W):
    Q = band.block_size(T, W)
    mask = band.band_mask(T, Q, W)                                              # [n, Q, Q + W - 1]
    n = band.n_blocks(T, Q)
    dense = np.zeros((n * Q, W - 1 + n * Q), dtype=bool)                        # queries x padded keys
    for b, m in enumerate(mask):
        dense[b * Q:(b + 1) * Q, b * Q:b * Q + Q + W - 1] = m
    positions = np.arange(T)
    assert (dense[:T, W - 1:W - 1 + T] == sliding_window_mask(positions, positions, W)).all()
    assert not dense[:, :W - 1].any()                                           # padding never read


@pytest.mark.parametrize("T, W, Q", [(7, 3, 3), (64, 8, 8), (50, 4, 4), (20, 4, 6)])
def test_fold_is_the_adjoint_of_windows(T, W, Q):
    rng = np.random.default_rng(T)
    x = rng.standard_normal((2, T, 4)).astype(np.float32)
    w = band.windows(x, Q, W)                                                   # [2, n, Q + W - 1, 4]
    d = rng.standard_normal(w.shape).astype(np.float32)
    assert np.isclose(np.vdot(w, d), np.vdot(x, band.fold(d, T, W)), rtol=1e-5)
    for b in range(w.shape[1]):                                                 # each window, by hand
        for j in range(Q + W - 1):
            s = b * Q + j - (W - 1)
            expected = x[:, s] if 0 <= s < T else 0
            assert np.array_equal(w[:, b, j], np.broadcast_to(expected, (2, 4)))


def test_no_blocks_without_a_short_window():
    assert band.block_size(100, None) is None and band.block_size(100, 30) is None
    assert band.block_size(512, 32) == 32
