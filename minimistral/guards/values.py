"""What counts as a whole number and as a real number, for every option and field minimistral checks.

A whole number is any integer type (Python int, NumPy int64, ...) but not a bool: True is an
int in Python, and ``max_tokens=True`` is a mistake, not 1. A real number is any real type
(int, float, Fraction, NumPy float32, ...), again not a bool.

    is_whole(3), is_whole(np.int64(3)), is_whole(True), is_whole(3.0)  ->  True True False False
    whole_number(-1, "max_tokens")  ->  MinimistralError: max_tokens must be a whole number >= 0, got -1.
"""

from __future__ import annotations

import numbers

from ..errors import MinimistralError


def is_whole(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def whole_number(value, what: str, minimum: int = 0, unit: str = "", hint: str = "") -> int:
    """value as an int if it is a whole number >= minimum, else one sentence naming ``what``."""
    if not is_whole(value) or value < minimum:
        raise MinimistralError(f"{what} must be a whole number{' of ' + unit if unit else ''} >= {minimum}"
                               f"{hint}, got {value!r}.")
    return int(value)
