"""What counts as a whole number and as a real number, for every option and field minimistral checks.

A whole number is any integer type (Python int, NumPy int64, ...) but not a bool: True is an
int in Python, and ``max_tokens=True`` is a mistake, not 1. A real number is any real type
(int, float, Fraction, NumPy float32, ...), again not a bool.

    is_whole(3), is_whole(np.int64(3)), is_whole(True), is_whole(3.0)  ->  True True False False
    whole_number(-1, "max_tokens")  ->  MinimistralError: max_tokens must be a whole number >= 0, got -1.

Token ids and chunk sizes from a caller are checked here too, once, for the model, generation,
training and the attention maps alike.
"""

from __future__ import annotations

import numbers

import numpy as np

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


def describe(value) -> str:
    """A short, safe description of a bad argument: its type, and its value if small."""
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__


def check_tokens(tokens, vocab_size: int, allow_empty: bool = False, batched: bool = False) -> np.ndarray:
    """The one check of token ids from a caller: integer ids in [0, V) -> int64 [T] (or [B, T]).

    ``batched`` (training) takes [T] or [B, T] with T >= 2, a token and its successor, and
    returns [B, T]; otherwise a non-empty 1-D sequence (empty too with ``allow_empty``).
    """
    try:
        ids = np.asarray(tokens) if not isinstance(tokens, (str, bytes)) else None
    except (ValueError, TypeError):                  # ragged lists and the like
        ids = None
    if batched:
        if ids is not None and ids.ndim == 1:
            ids = ids[None, :]                                                   # [T] -> [1, T]
        if (ids is None or ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer)
                or ids.shape[0] < 1 or ids.shape[1] < 2):
            raise MinimistralError(f"tokens must be integer ids of shape [T] or [B, T] with T >= 2; got "
                                   f"{describe(tokens) if ids is None else f'{ids.dtype} of shape {ids.shape}'}.")
    else:
        if ids is not None and ids.size == 0 and ids.ndim == 1 and allow_empty:
            return ids.astype(np.int64)
        if ids is None or ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
            raise MinimistralError(f"tokens must be a non-empty 1-D sequence of integer ids, got "
                                   f"{describe(tokens)}.")
    if ids.min() < 0 or ids.max() >= vocab_size:
        raise MinimistralError(f"token ids must lie in [0, {vocab_size}); "
                               f"got {int(ids.min())}..{int(ids.max())}.")
    return ids.astype(np.int64)


def check_chunk_size(chunk_size) -> int | None:
    """chunk_size: None (the default) or a whole number of tokens >= 1."""
    return None if chunk_size is None else whole_number(chunk_size, "chunk_size", 1, "tokens", " (or None)")
