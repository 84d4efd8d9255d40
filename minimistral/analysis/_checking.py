"""What the exercise checkers of notebooks 01 to 04 share: the three answers a checker gives.

    outcome(1, None, judge)  ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    outcome(1, 4, judge)     ->  'exercise 1: right'  or  'exercise 1: wrong; hint: ...'

``judge(answer)`` returns None for a right answer, else the hint; a malformed answer (one that
raises) is wrong, not a crash.
"""

from __future__ import annotations

import numpy as np


def outcome(n: int, answer, judge) -> str:
    if answer is None:
        return f"exercise {n}: not yet (replace the None placeholder above with your answer)"
    try:
        with np.errstate(all="ignore"):
            hint = judge(answer)
    except Exception as error:  # noqa: BLE001 -- a malformed answer is wrong, not a crash
        hint = f"your answer raised {type(error).__name__}: {error}"
    return f"exercise {n}: right" if hint is None else f"exercise {n}: wrong; hint: {hint}"


def whole(x) -> int | None:
    """x as an int if it is a whole number (5, 5.0, np.int64(5)), else None."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return int(f) if np.isfinite(f) and f == int(f) else None


def no_exercise(n: int):
    raise ValueError(f"there is no exercise {n}")
