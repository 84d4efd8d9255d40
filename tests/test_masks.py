"""The masks against the paper's figures (0/1 grids transcribed in docs/mistral-7b.md §3)."""

import numpy as np

from minimistral.masks import causal_mask, chunk_mask, sliding_window_mask


def grid(text):
    return np.array([[c == "1" for c in row.replace(" ", "")] for row in text.strip().splitlines()])


def test_fig1_vanilla_attention_is_lower_triangle():
    assert (causal_mask(5) == grid("""
        10000
        11000
        11100
        11110
        11111""")).all()


def test_fig1_sliding_window_w3():
    # Fig. 1 middle panel on "The cat sat on the": row "on" attends cat, sat, on.
    assert (sliding_window_mask(range(5), range(5), 3) == grid("""
        10000
        11000
        11100
        01110
        00111""")).all()


def test_window_counts_exactly_w_keys_self_included():
    m = sliding_window_mask(range(50), range(50), 7)
    assert (m.sum(1)[6:] == 7).all() and m.diagonal().all()


def test_fig3_third_chunk():
    # "The cat sat on the mat and saw the dog go to", chunks of 4, W = 4: chunk "the dog go to".
    assert (chunk_mask(8, 4, 12, 4) == grid("""
        0000 0111 1000
        0000 0011 1100
        0000 0001 1110
        0000 0000 1111""")).all()
