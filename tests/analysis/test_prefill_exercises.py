"""Notebook 05's checkers (analysis/prefill_exercises.py): the worked solutions' answers pass, the
usual wrong answers get a hint, and no hint holds the answer."""

import numpy as np

from minimistral.analysis.prefill_exercises import check


def test_right_answers_pass():
    q, k = np.arange(8, 12)[:, None], np.arange(12)[None, :]
    assert check(1, (3, 10_000 - 2 * 4096)) == "exercise 1: right"
    assert check(2, [2, 3, 4, 5]) == "exercise 2: right"
    assert check(3, (k <= q) & (q - k < 4)) == "exercise 3: right"
    assert check(4, [5, 6, 7]) == "exercise 4: right"


def test_usual_mistakes_get_a_hint_without_the_answer():
    q, k = np.arange(8, 12)[:, None], np.arange(12)[None, :]
    floor = check(1, (2, 1808))
    assert "round" in floor and "3" not in floor and "1808" not in floor
    assert "causal only" in check(3, k <= q)
    assert "W keys" in check(2, [3, 4, 5])
    lost = check(4, [4, 5, 6, 7])
    assert "wrong" in lost and "[5, 6, 7]" not in lost
    assert check(4, None).startswith("exercise 4: not yet")
