"""The measures of what heads do, on attention maps made by hand (each row a distribution over
the keys the window allows), where the right answer is known without the code."""

import numpy as np

from minimistral.analysis.heads import bos_mass, group_similarity, head_similarity

T, W = 8, 3


def one_hot_map(offset):
    """[T, T]: every query puts all its weight on key t - offset (on itself where that is < 0)."""
    m = np.zeros((T, T), dtype=np.float32)
    for t in range(T):
        m[t, max(0, t - offset)] = 1.0
    return m


def spread_map():
    """[T, T]: every query spreads its weight evenly over the W keys it may read."""
    m = np.zeros((T, T), dtype=np.float32)
    for t in range(T):
        lo = max(0, t - W + 1)
        m[t, lo:t + 1] = 1.0 / (t + 1 - lo)
    return m


def test_identical_heads_correlate_one_and_opposite_habits_negatively():
    previous, itself, spread = one_hot_map(1), one_hot_map(0), spread_map()
    sim = head_similarity(np.stack([previous, previous, itself, spread]), W)      # [4, 4]
    assert np.allclose(np.diag(sim), 1) and np.isclose(sim[0, 1], 1)
    assert sim[0, 2] < -0.3                                                       # one reads t-1, the other t
    # even spreading is the baseline taken away first: nothing is left to correlate with
    assert np.isnan(sim[0, 3]) or abs(sim[0, 3]) < 1e-6


def test_group_similarity_separates_heads_that_share_a_kv_head():
    """4 query heads on 2 kv heads: heads 0, 1 (kv head 0) read t-1, heads 2, 3 (kv head 1) read t."""
    prev, itself = one_hot_map(1), one_hot_map(0)
    maps = np.stack([np.stack([prev, prev, itself, itself])])                   # [L=1, H=4, T, T]
    (within, across), = group_similarity(maps, n_kv_heads=2, window=W)
    assert np.isclose(within, 1) and across < 0
    (within, across), = group_similarity(maps, n_kv_heads=4, window=W)         # MHA: no pair shares
    assert np.isnan(within) and across < 1
    (within, across), = group_similarity(maps, n_kv_heads=1, window=W)         # MQA: one group
    assert np.isnan(across)


def test_bos_mass_on_a_hand_made_map():
    """Heads that always read key 0 while they can, then the oldest key in the window."""
    m = np.zeros((T, T), dtype=np.float32)
    for t in range(T):
        m[t, 0 if t < W else t - W + 1] = 1.0
    mass = bos_mass(m[None, None], W)                                             # [L=1, T] each
    assert mass["<s>"][0].tolist() == [1.0] * W + [0.0] * (T - W)
    assert mass["oldest in window"][0].tolist() == [1.0] * T                      # key 0 is the oldest early on
