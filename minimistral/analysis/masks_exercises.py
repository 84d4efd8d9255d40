"""The checkers of notebooks/01_masks.ipynb's exercises, computed here, out of the notebook's sight.

Each expected value comes from the library (masks.sliding_window_mask, receptive_field) and the
7B's config (ModelArgs, Table 1); a wrong answer gets a hint that names what to look at.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(1, 1234)   ->  'exercise 1: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..masks import sliding_window_mask
from ..receptive_field import reach_per_layer
from ._checking import no_exercise, outcome, whole

EXERCISE_1_QUERY = 10_000
EXERCISE_2_TOKENS, EXERCISE_2_W = 6, 3


def keys_of_query(position: int = EXERCISE_1_QUERY, window: int | None = None) -> int:
    """Exercise 1: how many keys the 7B's query at ``position`` attends to (its mask row's Trues)."""
    window = ModelArgs().sliding_window if window is None else window
    return int(sliding_window_mask([position], np.arange(position + 1), window).sum())


def prose_mask(n: int = EXERCISE_2_TOKENS, window: int = EXERCISE_2_W) -> np.ndarray:
    """Exercise 2: the prose's mask, keys i - W .. i inclusive: the model's mask with W + 1 keys."""
    return sliding_window_mask(np.arange(n), np.arange(n), window + 1)


def prose_reach_7b() -> int:
    """Exercise 3: how far back the 7B's last token sees after all its layers, with W + 1 keys."""
    a = ModelArgs()
    return int(reach_per_layer(a.sliding_window + 1, a.n_layers)[-1])


def softmax_over_allowed(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Exercise 4: each row's softmax over its allowed keys only, 0 elsewhere."""
    scores = np.asarray(scores, dtype=np.float64)
    out = np.zeros(scores.shape)
    for q in range(len(scores)):
        e = np.exp(scores[q, allowed[q]] - scores[q, allowed[q]].max())
        out[q, allowed[q]] = e / e.sum()
    return out.astype(np.float32)


# ---- the hints ------------------------------------------------------------------------------------

def _judge_1(answer):
    x, y = whole(answer), keys_of_query()
    if x == y:
        return None
    if x is None:
        return "a number of keys is a whole number"
    if x == y + 1:
        return "count the keys of the window with the model's rule: W keys, the query's own position included"
    if x == EXERCISE_1_QUERY + 1 or x == EXERCISE_1_QUERY:
        return "that is what a causal mask alone allows; the sliding window caps it"
    return "the window is full this far into the text: count the True entries of the query's mask row " \
           "(sliding_window_mask with the 7B's W)"


def _judge_2(answer):
    a = np.asarray(answer)
    if a.shape != (EXERCISE_2_TOKENS, EXERCISE_2_TOKENS):
        return f"a bool array of shape ({EXERCISE_2_TOKENS}, {EXERCISE_2_TOKENS}), queries as rows"
    a, y = a.astype(bool), prose_mask()
    if (a == y).all():
        return None
    if (a == sliding_window_mask(np.arange(len(a)), np.arange(len(a)), EXERCISE_2_W)).all():
        return "that is the model's mask (W keys); the prose's reading, i - W .. i inclusive, keeps one key more"
    if (a == y.T).all():
        return "rows are queries and columns keys: a query sees keys at or before it (np.tril)"
    return "keep the keys k <= q (np.tril of ones) and drop those with q - k > W (np.triu with a negative k)"


def _judge_3(answer):
    x, y = whole(answer), prose_reach_7b()
    if x == y:
        return None
    if x is None:
        return "a number of positions is a whole number"
    a = ModelArgs()
    if x == int(reach_per_layer(a.sliding_window, a.n_layers)[-1]):
        return "that is the reach with the model's W keys; this exercise reads the prose: W + 1 keys per query"
    return "compose the masks layer by layer with reach_per_layer(window, n_layers) and the 7B's number of " \
           "layers; the prose's reading means a window one key wider"


def _judge_4(answer, scores, allowed):
    a = np.asarray(answer)
    if a.shape != np.shape(scores):
        return f"one weight per (query, key): shape {np.shape(scores)}"
    if np.isnan(a).any():
        return "a NaN: subtract each row's maximum before exp, and use a mask whose blocked entries are -inf " \
               "(exp(-inf) is 0), not 0 * inf"
    if (a[~allowed] != 0).any():
        return "a masked key must get exactly 0: add additive_mask(window) to the scores before the softmax"
    if np.allclose(a.sum(0), 1, atol=1e-5) and not np.allclose(a.sum(1), 1, atol=1e-5):
        return "the softmax goes along each row (axis=1, over the keys of one query), not down the columns"
    return "exp of the masked scores, each row divided by its own sum"


def check(n: int, answer, scores=None, allowed=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint.

    Exercise 4 needs the notebook's scores ``s`` and mask ``window``."""
    if n == 1:
        return outcome(n, answer, _judge_1)
    if n == 2:
        return outcome(n, answer, _judge_2)
    if n == 3:
        return outcome(n, answer, _judge_3)
    if n == 4:
        allowed = np.asarray(allowed, dtype=bool)

        def judge(a):
            a = np.asarray(a)
            ok = a.shape == allowed.shape and (a[~allowed] == 0).all() and \
                np.allclose(a, softmax_over_allowed(scores, allowed), atol=1e-6)
            return None if ok else _judge_4(a, scores, allowed)
        return outcome(n, answer, judge)
    return no_exercise(n)
