"""The checkers of notebooks 01 to 04 and 10 (analysis/masks_exercises.py, receptive_field_exercises.py,
gqa_exercises.py, rolling_buffer_exercises.py, cpu_inference_exercises.py): 'not yet' for the
placeholder, 'right' for a right answer, and for a wrong one a hint that does not print the
expected value."""

import re

import numpy as np
import pytest

from minimistral.analysis import cpu_inference_exercises as ci
from minimistral.analysis import gqa_exercises as gq
from minimistral.analysis import masks_exercises as me
from minimistral.analysis import receptive_field_exercises as rf
from minimistral.analysis import rolling_buffer_exercises as rb
from minimistral.masks import additive_mask, sliding_window_mask
from minimistral.training.init import tiny_model

CONFIG = {"hidden_size": 8192, "num_hidden_layers": 80, "num_attention_heads": 64,
          "num_key_value_heads": 8, "torch_dtype": "bfloat16"}


def hint_of(text: str, n: int) -> str:
    assert text.startswith(f"exercise {n}: wrong; hint: "), text
    return text.split("hint: ", 1)[1]


def mentions(hint: str, value) -> bool:
    """The hint writes the number (as a whole word: 3 is not in 32), with or without thousands commas."""
    return any(re.search(rf"(?<![\d.,]){re.escape(s)}(?![\d.,]*\d)", hint)
               for s in {str(value), f"{value:,}"})


# ---- notebook 01 ---------------------------------------------------------------------------------

def softmax_masked(s, allowed):
    z = s + additive_mask(allowed)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_masks_expected_values():
    assert me.keys_of_query() == 4096 and me.prose_reach_7b() == 32 * 4096
    assert me.prose_mask().sum(1).tolist() == [1, 2, 3, 4, 4, 4]


def test_masks_right_wrong_and_hints():
    s = np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32)
    window = sliding_window_mask(np.arange(5), np.arange(5), 3)
    assert all("not yet" in me.check(n, None, s, window) for n in range(1, 5))
    right = {1: 4096, 2: np.triu(np.tril(np.ones((6, 6), dtype=bool)), k=-3), 3: 131_072,
             4: softmax_masked(s, window)}
    assert all(me.check(n, a, s, window) == f"exercise {n}: right" for n, a in right.items())
    e = np.exp(s - s.max(1, keepdims=True))
    wrong = {1: 10_001, 2: sliding_window_mask(np.arange(6), np.arange(6), 3), 3: 131_040,
             4: e / e.sum(1, keepdims=True)}
    for n, a in wrong.items():
        hint = hint_of(me.check(n, a, s, window), n)
        if n in (1, 3):
            assert not mentions(hint, right[n]), hint
    assert "causal" in me.check(1, 10_001) and "model's mask" in me.check(2, wrong[2])
    assert "W + 1" in me.check(3, 131_040) and "exactly 0" in me.check(4, wrong[4], s, window)
    assert "whole number" in me.check(1, "many") and "raised" in rb.check(2, 5)


# ---- notebook 02 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    model = tiny_model()
    return model, np.array(model.tokenizer.encode("The cat sat on the mat and saw the dog go to"))


def reach_after(W, n_layers):
    return n_layers * (W - 1)


def test_receptive_field_right_wrong_and_hints(tiny):
    model, tokens = tiny
    assert rf.reach_of(5, 5) == 20 and rf.layers_to_reach() == 3
    measured = rf.measured_reach_at(model, tokens)
    assert measured == [min(2 * k, len(tokens) - 1 - 5) for k in range(5)]
    assert all("not yet" in rf.check(n, None) for n in range(1, 5))
    right = {1: 20, 2: 3, 3: measured, 4: reach_after}
    assert all(rf.check(n, a, model, tokens) == f"exercise {n}: right" for n, a in right.items())
    wrong = {1: 25, 2: 2, 3: [2 * k for k in range(5)], 4: lambda W, k: W * k}
    for n, a in wrong.items():
        hint = hint_of(rf.check(n, a, model, tokens), n)
        if n in (1, 2):
            assert not mentions(hint, right[n]), hint
    assert "k x W" in rf.check(1, 25) and "k x W" in rf.check(2, 2)
    assert "last token" in rf.check(3, wrong[3], model, tokens)
    assert "W - 1" in rf.check(4, wrong[4])


# ---- notebook 03 ---------------------------------------------------------------------------------

def test_gqa_right_wrong_and_hints():
    w = np.random.default_rng(1).standard_normal((32, 16)).astype(np.float32)
    assert gq.kv_head_7b() == 3 and gq.bytes_per_token(CONFIG) == 327_680
    assert gq.mha_ratio_and_gib(CONFIG) == (8, 1.25)
    assert all("not yet" in gq.check(n, None) for n in range(1, 5))
    right = {1: 3, 2: 327_680, 3: (8, 1.25), 4: w.reshape(2, 4, 4, -1).mean(axis=1).reshape(8, -1)}
    assert all(gq.check(n, a, config=CONFIG, w=w) == f"exercise {n}: right" for n, a in right.items())
    wrong = {1: 13 % 8, 2: 163_840, 3: (8, 1.25 * 2**30 / 1e9), 4: w.reshape(2, 4, 4, -1).sum(axis=1).reshape(8, -1)}
    for n, a in wrong.items():
        hint = hint_of(gq.check(n, a, config=CONFIG, w=w), n)
        for value in np.ravel(right[n]) if n < 4 else ():
            assert not mentions(hint, value.item() if hasattr(value, "item") else value), hint
    assert "consecutive" in gq.check(1, 5) and "AND values" in gq.check(2, 163_840, config=CONFIG)
    assert "2^30" in gq.check(3, wrong[3], config=CONFIG) and "mean, not the sum" in gq.check(4, wrong[4], w=w)


# ---- notebook 04 ---------------------------------------------------------------------------------

def time_order(positions):
    W = len(positions)
    return [(int(np.max(positions)) + 1 + i) % W for i in range(W)]


def test_rolling_buffer_right_wrong_and_hints():
    assert rb.slot_7b() == 1808 and rb.buffer_after(10, 4) == [8, 9, 6, 7]
    assert rb.cache_bytes_7b() == (2 * 32 * 8 * 128 * 4096 * 4, 2 * 32 * 8 * 128 * 100_000 * 2)
    assert all("not yet" in rb.check(n, None) for n in range(1, 5))
    right = {1: 1808, 2: [8, 9, 6, 7], 3: rb.cache_bytes_7b(), 4: time_order}
    assert all(rb.check(n, a) == f"exercise {n}: right" for n, a in right.items())
    wrong = {1: 10_000 - 4096, 2: [6, 7, 8, 9], 3: (2 * 32 * 8 * 128 * 100_000 * 4, right[3][1]),
             4: lambda pos: list(np.argsort(pos))[::-1]}
    for n, a in wrong.items():
        hint = hint_of(rb.check(n, a), n)
        for value in (right[n] if n in (2, 3) else [right[n]] if n == 1 else []):
            assert not mentions(hint, int(value)), hint
    assert "wrapped around more than once" in rb.check(1, wrong[1]) and "slot order" in rb.check(2, wrong[2])
    assert "at most W positions" in rb.check(3, wrong[3]) and "oldest first" in rb.check(4, wrong[4])


# ---- notebook 10 ---------------------------------------------------------------------------------

def test_cpu_inference_right_wrong_and_hints():
    # written out here: the crossing T > 160e9 * 2 / (2 * 14e9) = 11.4; the 7B's layer matrices, Table 1
    per_layer = 4096 * 4096 * 2 + 2 * 4096 * 8 * 128 + 3 * 4096 * 14336
    assert ci.first_compute_bound_t() == 12 and ci.decode_step_bytes() == 32 * per_layer * 2
    a = ci.break_even()
    assert abs(sum(a ** i for i in range(8)) - 1.55) < 1e-9 and 0.35 < a < 0.36
    assert all("not yet" in ci.check(n, None) for n in range(1, 4))
    right = {1: 12, 2: 32 * per_layer * 2, 3: round(a, 2)}
    assert all(ci.check(n, v) == f"exercise {n}: right" for n, v in right.items())
    wrong = {1: 11, 2: 32 * per_layer * 4, 3: 0.55 / 7}
    for n, v in wrong.items():
        hint = hint_of(ci.check(n, v), n)
        assert not mentions(hint, right[n]), hint
    assert "not yet crossed" in ci.check(1, 11) and "2 bytes per weight" in ci.check(2, wrong[2])
    assert "n_kv_heads" in ci.check(2, 32 * (4096 * 4096 * 4 + 3 * 4096 * 14336) * 2)
    assert "first rejection" in ci.check(3, wrong[3]) and "between 0 and 1" in ci.check(3, 1.5)
    assert "2 FLOP" in ci.check(1, 23) and "whole number" in ci.check(2, 1.5)
