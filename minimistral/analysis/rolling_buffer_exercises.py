"""The checkers of notebooks/04_rolling_buffer.ipynb's exercises, computed here, out of the
notebook's sight: slots from the library's RollingBufferCache.slot (position mod W, Fig. 2),
bytes from gqa.kv_cache_bytes and the 7B's config; a wrong answer gets a hint naming what to look at.

    check(1, None)  ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(2, [0, 1, 2, 3])  ->  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..gqa import kv_cache_bytes
from ..rolling_buffer import RollingBufferCache
from ._checking import no_exercise, outcome, whole

EXERCISE_1_POSITION = 10_000
EXERCISE_2_POSITIONS, EXERCISE_2_W = 10, 4
EXERCISE_3_TOKENS = 100_000


def _slot(position, window: int):
    """RollingBufferCache.slot for a window W, on a cache of one tiny layer (nothing 7B-sized allocated)."""
    a = ModelArgs(dim=2, n_layers=1, head_dim=2, hidden_dim=2, n_heads=1, n_kv_heads=1,
                  sliding_window=window, vocab_size=2)
    return RollingBufferCache(a).slot(position)


def slot_7b(position: int = EXERCISE_1_POSITION) -> int:
    """Exercise 1: the slot of the 7B's buffer that holds ``position``."""
    return int(_slot(position, ModelArgs().sliding_window))


def buffer_after(n: int, window: int) -> list[int]:
    """The position each slot holds after positions 0..n-1 went through a W-slot buffer (-1: empty)."""
    held = [-1] * window
    for p in range(n):
        held[int(_slot(p, window))] = p                 # a later position overwrites an earlier one
    return held


def cache_bytes_7b(tokens: int = EXERCISE_3_TOKENS) -> tuple[int, int]:
    """Exercise 3: (minimistral's float32 rolling buffer, a bf16 cache without it) after ``tokens``, bytes."""
    a = ModelArgs()
    return (kv_cache_bytes(a.n_layers, a.n_kv_heads, a.head_dim, min(tokens, a.sliding_window), 4),
            kv_cache_bytes(a.n_layers, a.n_kv_heads, a.head_dim, tokens, 2))


def _judge_1(answer):
    x, y = whole(answer), slot_7b()
    if x == y:
        return None
    if x is None:
        return "a slot is a whole number"
    if x == EXERCISE_1_POSITION - ModelArgs().sliding_window:
        return "the buffer has wrapped around more than once: keep subtracting W, or take the position mod W"
    return "position i is stored in slot i mod W (the paper, Fig. 2), with the 7B's W"


def _judge_2(answer):
    x, y = [whole(p) for p in answer], buffer_after(EXERCISE_2_POSITIONS, EXERCISE_2_W)
    if x == y:
        return None
    if len(x) != EXERCISE_2_W:
        return f"one position per slot: {EXERCISE_2_W} ints"
    if x == sorted(y):
        return "list the positions in slot order (slot 0 first), not in time order"
    return "write the positions one after another, each into slot position mod W; a later one overwrites " \
           "what the slot held"


def _judge_3(answer):
    x, y = [whole(b) for b in answer], list(cache_bytes_7b())
    if x == y:
        return None
    if len(x) != 2:
        return "a pair: (float32 rolling buffer, bf16 cache without it)"
    hints = []
    if x[0] != y[0]:
        hints.append("the buffer's bytes: it holds at most W positions, whatever the text's length; "
                     "float32 is 4 bytes a value" if x[0] * 2 != y[0] else "keys AND values, in float32")
    if x[1] != y[1]:
        hints.append("the full cache: every one of the tokens stays, 2 bytes a value in bf16, keys and values "
                     "of every layer's kv heads")
    return "; ".join(hints)


def _judge_4(f):
    if not callable(f):
        return "answer_4 should be a function time_order(positions) -> list of slot indices"
    for n in range(EXERCISE_2_W, 13):
        held = np.array(buffer_after(n, EXERCISE_2_W))
        want = [s for _, s in sorted((p, s) for s, p in enumerate(held))]
        if list(f(held)) != want:
            if list(f(held)) == want[::-1]:
                return "oldest first: the newest slot comes last"
            return f"check it on the buffer after {n} positions: the oldest slot is the one right after the " \
                   f"newest's, (newest + 1) mod W"
    return None


def check(n: int, answer) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: _judge_1, 2: lambda a: _judge_2(list(a)), 3: lambda a: _judge_3(list(a)), 4: _judge_4}
    return outcome(n, answer, judges[n]) if n in judges else no_exercise(n)
