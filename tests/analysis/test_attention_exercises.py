"""Notebook 08's checkers (analysis/attention_exercises.py): the notebook's worked solutions pass,
the usual wrong answers get a hint, and a hint never gives the number away."""

import numpy as np

from minimistral.analysis.attention_exercises import check


def maps_of(seed=0, L=2, H=4, T=10):
    """Row-stochastic causal maps [L, H, T, T]."""
    m = np.random.default_rng(seed).random((L, H, T, T)).astype(np.float32)
    m = np.tril(m)
    return (m / m.sum(-1, keepdims=True)).astype(np.float32)


def closed_form(T, W):
    return T * (T + 1) // 2 if T <= W else W * (W + 1) // 2 + (T - W) * W


def test_exercise_1_the_closed_form_passes_and_t_times_w_gets_a_hint():
    assert check(1, closed_form) == "exercise 1: right"
    wrong = check(1, lambda T, W: T * W)
    assert wrong.startswith("exercise 1: wrong; hint:") and "t + 1" in wrong
    assert check(1, None).startswith("exercise 1: not yet")


def test_exercise_2_the_subdiagonal_mean_of_the_strongest_head():
    maps = maps_of()
    means = np.array([[np.diagonal(maps[l, h], offset=-1).mean() for h in range(4)] for l in range(2)])
    l, h = np.unravel_index(np.argmax(means), means.shape)
    assert check(2, float(means[l, h]), maps=maps) == "exercise 2: right"
    wrong = check(2, float(np.diagonal(maps[l, h]).mean()), maps=maps)
    assert "wrong" in wrong and f"{means[l, h]:.3f}" not in wrong


def test_exercise_3_group_means_by_reshape():
    maps = maps_of()
    right = maps[1].reshape(2, 2, 10, 10).mean(axis=1)
    assert check(3, right, maps=maps, n_kv_heads=2) == "exercise 3: right"
    interleaved = maps[1].reshape(2, 2, 10, 10).transpose(1, 0, 2, 3).mean(axis=1)   # heads 0, 2 / 1, 3
    assert "group by group" in check(3, interleaved, maps=maps, n_kv_heads=2)
    assert "float32" in check(3, right.astype(np.float64), maps=maps, n_kv_heads=2)


def test_exercise_4_where_bos_leaves_the_buffer():
    mass = np.ones((2, 40), dtype=np.float32)
    mass[:, 32:] = 0                                  # W = 32: query 32 no longer sees <s>
    assert check(4, (32, 4096, 0), mass_bos=mass) == "exercise 4: right"
    wrong = check(4, (31, 4096, 0), mass_bos=mass)
    assert "wrong" in wrong and "32" not in wrong
    assert "mod W" in check(4, (32, 4096, 4096), mass_bos=mass)
