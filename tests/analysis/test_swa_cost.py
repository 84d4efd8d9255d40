"""SWA's cost, counted: pairs and FLOPs by hand, and attention computed block by block against
attention written out here."""

import numpy as np

from minimistral.analysis.swa_cost import (
    attended_pairs,
    attention_flops,
    blocked_attention,
    score_bytes,
)


def test_swa_counts_by_hand():
    """Pairs counted row by row: W = 3 over 6 tokens reads 1+2+3+3+3+3 keys."""
    assert attended_pairs(6, 3) == 15 and attended_pairs(6, None) == 21
    assert attended_pairs(16384, 4096) == sum(min(t + 1, 4096) for t in range(16384))
    assert attention_flops(16384, None) == 4 * 128 * 32 * 16384 * 16385 // 2
    assert score_bytes(16384, None) == 32 * 16384 ** 2 * 4                    # 34.4 GB


def naive_attention(q, k, v, window):
    """Written out here, not taken from gqa.py / masks.py: query head h reads kv head h // G,
    keys k <= q with q - k < W (paper Fig. 1), softmax over them in float64."""
    T, H, Hd = q.shape
    G = H // k.shape[1]
    out = np.zeros((T, H, Hd))
    for t in range(T):
        lo = 0 if window is None else max(0, t - window + 1)
        for h in range(H):
            s = k[lo:t + 1, h // G].astype(np.float64) @ q[t, h] / np.sqrt(Hd)     # [keys]
            p = np.exp(s - s.max())
            out[t, h] = (p / p.sum()) @ v[lo:t + 1, h // G]
    return out


def test_blocked_attention_equals_one_shot_attention():
    """Block by block with only the visible keys = attention over the whole window, written out."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((70, 4, 8), dtype=np.float32)
    k, v = rng.standard_normal((2, 70, 2, 8), dtype=np.float32)
    for window in (None, 9):
        full = naive_attention(q, k, v, window)
        np.testing.assert_allclose(blocked_attention(q, k, v, window, block=16), full, rtol=1e-5, atol=1e-5)
