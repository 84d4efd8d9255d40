"""What counts as a whole number, a real number, a shape and a callback, for every option and field.

A whole number is any integer type (Python int, NumPy int64, ...) but not a bool: True is an
int in Python, and ``max_tokens=True`` is a mistake, not 1. A real number is any real type
(int, float, Fraction, NumPy float32, ...) or a Decimal, again not a bool; it is converted to a
float once, here, so NumPy never meets a Fraction.

    is_whole(3), is_whole(np.int64(3)), is_whole(True), is_whole(3.0)  ->  True True False False
    whole_number(-1, "max_tokens")  ->  MinimistralError: max_tokens must be a whole number >= 0, got -1.
    real_number(Fraction(1, 2), "top_p", "a number in (0, 1]", lambda p: 0 < p <= 1)  ->  0.5
    checked_shape([0, 2**70], "x.safetensors: tensor 'a'")
      ->  MinimistralError: x.safetensors: tensor 'a' has the shape [0, 1180591620717411303424], ...

A shape becomes a size here only, in Python integers (no int64 to wrap), each size and their
product bounded (limits.MAX_ELEMENTS) before NumPy sees them. Values shown in messages go
through ``describe``: a 5000-digit integer has no repr in Python (the 4300-digit limit).

Token ids and chunk sizes from a caller are checked here too, once, for the model, generation,
training and the attention maps alike.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal

import numpy as np

from ..errors import MinimistralError
from .limits import MAX_ELEMENTS, MAX_NDIM


def is_whole(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x) -> bool:
    return isinstance(x, (numbers.Real, Decimal)) and not isinstance(x, bool)


def as_float(x) -> float:
    """A real number as a float: too large for a float is +-inf, a signaling NaN is NaN."""
    try:
        return float(x)
    except OverflowError:                                # an int beyond 1.8e308
        return math.inf if x > 0 else -math.inf
    except ValueError:                                   # Decimal('sNaN')
        return math.nan


def shown(value) -> str:
    """repr(value) for a message, whatever the value: cut when long, never a 5000-digit repr."""
    if is_whole(value) and abs(int(value)).bit_length() > 128:
        digits = int(abs(int(value)).bit_length() * math.log10(2)) + 1
        return f"{'a negative' if value < 0 else 'an'} integer of about {digits:,} digits"
    try:
        text = repr(value)
    except ValueError:                                    # a list holding a huge int: show each item
        if not isinstance(value, (list, tuple)):
            return f"a {type(value).__name__}"
        text = "[" + ", ".join(shown(x) for x in value[:4]) + (", ...]" if len(value) > 4 else "]")
    return text if len(text) <= 80 else text[:77] + "..."


def whole_number(value, what: str, minimum: int = 0, unit: str = "", hint: str = "",
                 maximum: int | None = None) -> int:
    """value as an int if it is a whole number in [minimum, maximum], else one sentence naming ``what``."""
    if not is_whole(value) or value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise MinimistralError(f"{what} must be a whole number{' of ' + unit if unit else ''} {bound}"
                               f"{hint}, got {shown(value)}.")
    return int(value)


def real_number(value, what: str, rule: str, accept) -> float:
    """value as a float if it is a finite real number for which accept(x) holds, else
    MinimistralError: "{what} must be {rule}, got {value}."."""
    x = as_float(value) if is_real(value) else math.nan
    if not (math.isfinite(x) and accept(x)):
        raise MinimistralError(f"{what} must be {rule}, got {shown(value)}.")
    return x


def callback(fn, what: str, signature: str):
    """fn if it is None or callable, else MinimistralError ("progress=5" would fail much later)."""
    if fn is not None and not callable(fn):
        raise MinimistralError(f"{what} must be a function, called as {signature}, or None; got {describe(fn)}.")
    return fn


def describe(value) -> str:
    """A short, safe description of a bad argument: its type, and its value if small."""
    text = shown(value)
    if len(text) > 40 or text.startswith(("a ", "an ")):        # long, or no repr to show
        return type(value).__name__
    return f"{type(value).__name__} {text}"


def is_count(x) -> bool:
    """A whole number in [0, MAX_ELEMENTS]: a tensor size, offset or stride a file may claim."""
    return is_whole(x) and 0 <= x <= MAX_ELEMENTS


def layer_index(text: str) -> int | None:
    """The layer number a tensor name spells: '7' -> 7; None for '07', '²' or 5000 digits (the
    one place a name becomes a number: ASCII digits, no leading zero, at most 10 of them;
    '²'.isdigit() is True, but int('²') fails).

        layer_index("31"), layer_index("031"), layer_index("\u00b2")  ->  31 None None
    """
    if text.isascii() and text.isdigit() and len(text) <= 10 and (text == "0" or text[0] != "0"):
        return int(text)
    return None


def checked_shape(shape, what: str) -> tuple[int, ...]:
    """shape as a tuple of ints, once it can be a tensor's: a list or tuple of at most MAX_NDIM
    whole numbers >= 0 whose product, leaving out any 0, is at most MAX_ELEMENTS; else
    MinimistralError "{what} has the shape ..., which no tensor has; the file is corrupt."

    The product without its zeros is what NumPy needs to fit in int64 even for an empty array
    (np.empty((0, 2**70)) fails), so [0, 2**70] is refused although it holds no number.
    """
    ok = isinstance(shape, (list, tuple)) and len(shape) <= MAX_NDIM and all(is_count(d) for d in shape)
    if ok and math.prod(int(d) for d in shape if d) <= MAX_ELEMENTS:    # Python ints: no wrap
        return tuple(int(d) for d in shape)
    raise MinimistralError(f"{what} has the shape {shown(shape)}, which no stored tensor has (at most "
                           f"{MAX_NDIM} sizes, each a whole number, together at most 2^48 numbers); "
                           f"the file is corrupt.")


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
