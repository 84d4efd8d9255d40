"""The checkers of notebooks/09_swa_cost.ipynb's exercises, computed here, out of the notebook's sight.

Each expected value comes from analysis/swa_cost.py (attended_pairs, attention_flops, score_bytes)
and the 7B's config (ModelArgs, Table 1); a wrong answer gets a hint that names what to look at.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(2, 1234)   ->  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

from ..config import ModelArgs
from ._checking import no_exercise, outcome, whole
from .swa_cost import attended_pairs, attention_flops, score_bytes

EXERCISE_1_CASES = [(16384, 4096, 32, 128), (16384, None, 32, 128), (100, 4096, 32, 128), (4097, 4096, 8, 64),
                    (1, 1, 1, 1), (10, 3, 2, 4), (32768, None, 32, 128)]
EXERCISE_3_T = 32768
EXERCISE_4_T = 16384


def _window() -> int:
    return ModelArgs().sliding_window


def ratio(T: int, window: int | None = None) -> float:
    """Vanilla causal pairs over sliding-window pairs at T."""
    window = _window() if window is None else window
    return attended_pairs(T, None) / attended_pairs(T, window)


def first_twice() -> int:
    """Exercise 2: the smallest T at which the count gives causal at least 2x SWA's work (7B's W)."""
    lo, hi = 1, 1
    while ratio(hi) < 2:
        hi *= 2
    while lo < hi:                       # the ratio grows with T: bisect on it
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if ratio(mid) < 2 else (lo, mid)
    return lo


def score_sizes(T: int = EXERCISE_3_T) -> tuple[int, int]:
    """Exercise 3: bytes of one layer's float32 scores, [H, T, T] and the band [H, T, W]."""
    a = ModelArgs()
    return score_bytes(T, None, a.n_heads), score_bytes(T, a.sliding_window, a.n_heads)


def square_and_triangle(T: int = EXERCISE_4_T) -> tuple[float, float]:
    """Exercise 4: (T^2 / SWA pairs, causal pairs / SWA pairs)."""
    swa = attended_pairs(T, _window())
    return T * T / swa, attended_pairs(T, None) / swa


# ---- the hints ------------------------------------------------------------------------------------

def _judge_1(f):
    if not callable(f):
        return "a function answer_1(T, W, H, Hd), not a number"
    wrong = [c for c in EXERCISE_1_CASES if int(f(*c)) != attention_flops(*c)]
    if not wrong:
        return None
    T, W, H, Hd = wrong[0]
    got, want = int(f(*wrong[0])), attention_flops(*wrong[0])
    if got * 2 == want or got == 2 * want:
        return "count 2 FLOPs per multiply-add and two products per pair (q.k and p v): 4 Hd per pair and head"
    if W is None:
        return "vanilla causal: the query at position t reads t + 1 keys, so T (T + 1) / 2 pairs"
    if T <= W:
        return "while T <= W the window cuts nothing: the pairs are those of causal attention"
    return f"wrong for (T, W, H, Hd) = {wrong[0]}: the first W queries read 1, 2, ..., W keys, every later one W"


def _judge_2(answer):
    x = whole(answer)
    if x is None or x < 2:
        return "a sequence length is a whole number"
    if x == first_twice():
        return None
    if x == 2 * 2 * _window():
        return "T = 4W is where T / (2W) is 2, but the count's ratio is T / (2W - W^2/T): it reaches 2 sooner"
    if ratio(x) < 2:
        return "at that T the count's ratio is still below 2: look further"
    return "the ratio already reaches 2 before that T: look for the smallest one (solve the quadratic, or bisect)"


def _judge_3(answer):
    x = tuple(whole(v) for v in answer)
    y = score_sizes()
    if len(x) != 2 or None in x:
        return "a tuple of two whole numbers of bytes: (vanilla, band)"
    if x == y:
        return None
    if x == y[::-1]:
        return "the other order: the whole [H, T, T] matrix first, then the band"
    if x == (y[0] // 2, y[1] // 2):
        return "float32 takes 4 bytes per value, not 2"
    if x == (y[0] // ModelArgs().n_heads, y[1] // ModelArgs().n_heads):
        return "one matrix per query head: multiply by H"
    return "count the values of [H, T, T] and [H, T, W] with the 7B's H and W (Table 1), 4 bytes each"


def _judge_4(answer):
    sq, tri = (float(v) for v in answer)
    y_sq, y_tri = square_and_triangle()
    if abs(sq - y_sq) < 1e-3 and abs(tri - y_tri) < 1e-3:
        return None
    if abs(sq - y_tri) < 1e-3 and abs(tri - y_sq) < 1e-3:
        return "the other order: the square first, then the triangle"
    if abs(sq - y_sq) >= 1e-3:
        return "the square scores all T x T pairs; divide by SWA's attended_pairs(T, W)"
    return "the causal triangle is T (T + 1) / 2 pairs, the query's own key included"


def check(n: int, answer) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: _judge_1, 2: _judge_2, 3: _judge_3, 4: _judge_4}
    if n not in judges:
        return no_exercise(n)
    return outcome(n, answer, judges[n])
