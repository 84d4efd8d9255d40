"""GQA = multi-head attention whose kv heads are tied in groups: grouped_attention against a
plain per-head float64 loop over repeated kv heads (transformers' repeat_kv formulation)."""

import numpy as np
import pytest

from minimistral.gqa import grouped_attention, key_blocks, kv_head_of
from minimistral.masks import sliding_window_mask


def mha_reference(q, k, v, allowed):
    """One head at a time, float64, each kv head copied to its G query heads first."""
    T, H, Hd = q.shape
    G = H // k.shape[1]
    k_rep = np.repeat(k.astype(np.float64), G, axis=1)          # [S, H, Hd]
    v_rep = np.repeat(v.astype(np.float64), G, axis=1)
    out = np.zeros((T, H, Hd))
    for h in range(H):
        for t in range(T):
            scores = np.array([q[t, h].astype(np.float64) @ k_rep[s, h] / np.sqrt(Hd)
                               for s in range(k.shape[0])])
            scores[~allowed[t]] = -np.inf
            p = np.exp(scores - scores.max())
            out[t, h] = (p / p.sum()) @ v_rep[:, h]
    return out


@pytest.mark.parametrize("H, K, window", [(8, 2, 3), (4, 4, None), (6, 1, 2), (32, 8, 4)])
def test_grouped_attention_equals_mha_with_tied_heads(H, K, window):
    rng = np.random.default_rng(H * 10 + K)
    T, Hd = 7, 16
    q = rng.standard_normal((T, H, Hd), dtype=np.float32)
    k = rng.standard_normal((T, K, Hd), dtype=np.float32)
    v = rng.standard_normal((T, K, Hd), dtype=np.float32)
    allowed = sliding_window_mask(np.arange(T), np.arange(T), window)
    ours = grouped_attention(q, k, v, allowed)
    assert ours.dtype == np.float32 and ours.shape == (T, H, Hd)
    np.testing.assert_allclose(ours, mha_reference(q, k, v, allowed), rtol=1e-5, atol=1e-5)


def test_query_heads_of_a_group_read_the_same_kv_head():
    assert kv_head_of(32, 8).tolist() == [g for g in range(8) for _ in range(4)]
    assert kv_head_of(4, 4).tolist() == [0, 1, 2, 3] and kv_head_of(6, 1).tolist() == [0] * 6


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
    from minimistral import gqa
    assert T <= gqa.FEW_QUERIES and gqa.ONE_THREAD_PRODUCT // (4 * 128 * gqa.MIN_BLOCK_KEYS) == 16 < T
    check_7b_chunk(T, S, window)
