"""The checkers of notebook 11: 'not yet' for the placeholder, 'right' for a right answer, and for
a wrong one a hint that does not print the expected value."""

import numpy as np
import pytest

pytest.importorskip("gguf")

import minimistral
from minimistral.analysis import quant_exercises as qe


@pytest.fixture(scope="module")
def model():
    return minimistral.load_default()


def test_placeholders_say_not_yet(model):
    assert all("not yet" in qe.check(n, None, model) for n in range(1, 5))


def test_expected_values():
    assert qe.q5_0_bits_per_weight() == 5.5                      # 22 bytes per 32 weights
    assert abs(qe.q6_k_7b_gib() - 5.53) < 0.005


def test_right_answers(model):
    block = qe.exercise_2_block(model)
    d, q = float(block[:2].view(np.float16)[0]), int(block[2 + 21 - 16] >> 4)

    def rms_dp(b, qq, t):
        return qe.rms_delta_p(b, qq, t)

    answers = {1: 5.5, 2: d * (q - 8), 3: qe.q6_k_7b_gib(), 4: rms_dp}
    assert all(qe.check(n, a, model) == f"exercise {n}: right" for n, a in answers.items())


def test_wrong_answers_get_a_hint_without_the_answer(model):
    block = qe.exercise_2_block(model)
    d, low = float(block[:2].view(np.float16)[0]), int(block[2 + 21 - 16] & 0x0F)
    wrong = {1: 4.5, 2: d * (low - 8), 3: qe.q6_k_7b_gib() * 2**30 / 1e9,
             4: lambda b, q, t: float(np.mean(np.exp(q) - np.exp(b))), 5: 1}
    for n, answer in wrong.items():
        text = qe.check(n, answer, model)
        assert text.startswith(f"exercise {n}: wrong; hint: "), text
    assert "5.5" not in qe.check(1, 4.5) and "high halves" in qe.check(2, wrong[2], model)
    assert "GiB is 2^30" in qe.check(3, wrong[3])
    assert "overflow" in qe.check(4, wrong[4])                   # exp(1000) in the second case
