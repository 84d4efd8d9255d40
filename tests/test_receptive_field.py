"""Receptive field: composed masks and a perturbed real model against the theory k * (W - 1)."""

import numpy as np
import pytest

from minimistral.receptive_field import (
    farthest_back,
    measure_influence,
    measured_reach,
    reach_matrix,
    reach_per_layer,
    theory_reach,
)
from minimistral.training.init import TINY, tiny_model


def test_the_7b_reaches_131040_tokens_not_the_papers_131072():
    # Reference §2: 32 layers x (4096 - 1); the paper's "k x W" = 131,072 counts W + 1 keys.
    assert theory_reach(4096, 32) == 131_040
    assert reach_per_layer(4096, 32)[-1] == 131_040
    assert 32 * 4096 - reach_per_layer(4096, 32)[-1] == 32


def test_two_layers_of_w3_written_out():
    # Each output sees itself and 2 back; two layers: 4 back (drawn by hand from Fig. 1 middle).
    expected = np.array([
        [1, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
        [0, 1, 1, 1, 1, 1, 0],
        [0, 0, 1, 1, 1, 1, 1]], dtype=bool)
    assert (reach_matrix(7, 3, 2) == expected).all()


@pytest.mark.parametrize("window", [2, 3, 4, 7])
def test_composed_masks_reach_k_times_w_minus_1(window):
    for k in range(6):
        assert farthest_back(reach_matrix(40, window, k)) == k * (window - 1)
    assert list(reach_per_layer(window, 5)) == [k * (window - 1) for k in range(6)]


def test_without_a_window_one_layer_reaches_everything():
    assert reach_matrix(9, None, 1)[-1].all()


@pytest.mark.parametrize("window, n_layers, position", [(3, 4, 0), (3, 4, 5), (4, 5, 2)])
def test_measured_frontier_of_a_real_model_matches_theory(window, n_layers, position):
    # Swap one input token of a random model and watch which outputs change, layer by layer.
    args = TINY.replace(sliding_window=window, n_layers=n_layers)
    model = tiny_model(args, seed=3, tokenizer=False)
    tokens = np.arange(500, 500 + position + n_layers * (window - 1) + 4)
    influence = measure_influence(model.hidden_states, tokens, position, replacement=31_999)
    assert influence.shape == (n_layers + 1, len(tokens))
    reach = measured_reach(influence, position)
    assert list(reach) == [k * (window - 1) for k in range(n_layers + 1)]
    # Nothing before the swapped token ever changes (causality), and the reached band is full.
    for k, row in enumerate(influence):
        assert not row[:position].any()
        assert row[position:position + k * (window - 1) + 1].all()
