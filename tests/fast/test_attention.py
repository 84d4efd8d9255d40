"""Attention products cut to stay on one BLAS thread (fast/attention.py) give the same result as
the plain per-head attention, written out in float64 in tests/test_gqa.py (mha_reference)."""

import numpy as np
import pytest
from test_gqa import mha_reference

from minimistral.fast.attention import FEW_QUERIES, key_blocks, query_rows
from minimistral.gqa import grouped_attention
from minimistral.masks import sliding_window_mask


@pytest.mark.parametrize("H, K, window, S, Hd", [(8, 2, 3, 9, 16), (6, 1, None, 9, 16), (32, 8, 5, 9, 16),
                                                 (32, 8, None, 1100, 128), (32, 8, 1000, 1100, 128)])
def test_one_query_decoding_equals_mha_with_tied_heads(H, K, window, S, Hd):
    """Decode (T = 1) takes its own path through grouped_attention: check it the same way.

    The 7B's shapes with S = 1100 keys go through three key blocks (512, 512, 76).
    """
    assert len(key_blocks(1100, 4 * 128)) == 3
    rng = np.random.default_rng(H + K)
    q = rng.standard_normal((1, H, Hd), dtype=np.float32)
    k = rng.standard_normal((S, K, Hd), dtype=np.float32)
    v = rng.standard_normal((S, K, Hd), dtype=np.float32)
    allowed = sliding_window_mask([S - 1], np.arange(S), window)
    ours = grouped_attention(q, k, v, allowed)
    assert ours.dtype == np.float32 and ours.shape == (1, H, Hd)
    np.testing.assert_allclose(ours, mha_reference(q, k, v, allowed), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("T, window", [(3, None), (5, 1000), (16, 700)])
def test_short_chunk_in_key_blocks_equals_mha_with_tied_heads(T, window):
    """A short chunk (T new queries, the 7B's heads) also multiplies its keys in blocks: 1100
    keys in blocks of 2^18 / (4 * T * 128), e.g. 8 blocks of 128 and one of 76 for T = 5."""
    assert len(key_blocks(1100, 4 * T * 128)) > 1
    check_7b_chunk(T, 1100, window)


def check_7b_chunk(T, S, window):
    """T new queries with the 7B's heads (H = 32, K = 8, Hd = 128) against S keys, the last T
    of them their own, against the float64 per-head reference."""
    H, K, Hd = 32, 8, 128
    rng = np.random.default_rng(T)
    q = rng.standard_normal((T, H, Hd), dtype=np.float32)
    k = rng.standard_normal((S, K, Hd), dtype=np.float32)
    v = rng.standard_normal((S, K, Hd), dtype=np.float32)
    allowed = sliding_window_mask(np.arange(S - T, S), np.arange(S), window)
    ours = grouped_attention(q, k, v, allowed)
    np.testing.assert_allclose(ours, mha_reference(q, k, v, allowed), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("T, S, window", [(20, 200, None), (40, 120, 50)])
def test_chunk_of_up_to_128_in_query_blocks_equals_mha_with_tied_heads(T, S, window):
    """From 17 new tokens on (the 7B's heads), a chunk goes through in blocks of 16 queries, each
    multiplying its keys in blocks, so that no product starts OpenBLAS's threads."""
    assert T <= FEW_QUERIES and query_rows(T, 32, 4, 128, S) == 16 < T
    check_7b_chunk(T, S, window)
