"""GQA = multi-head attention whose kv heads are tied in groups: grouped_attention against a
plain per-head float64 loop over repeated kv heads (transformers' repeat_kv formulation)."""

import numpy as np
import pytest

from minimistral.gqa import grouped_attention, kv_head_of
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
