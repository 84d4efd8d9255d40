"""The checkers of notebooks/05_prefill_chunking.ipynb's exercises, computed here, out of the
notebook's sight: chunk counts from the 7B's window, what a query of a chunk reads from
masks.chunk_mask, and which cached positions a premature write destroys, from
RollingBufferCache.slot (position mod W, Fig. 2). A wrong answer gets a hint naming what to
look at.

    check(1, None)      ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(2, [5])       ->  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..masks import chunk_mask
from ._checking import no_exercise, outcome, whole

PROMPT = 10_000                       # exercise 1: a prompt pre-filled in chunks of W
FIG3 = (12, 4, 4)                     # the paper's Fig. 3: 12 tokens, chunks of 4, W = 4


def chunks_of(prompt: int = PROMPT) -> tuple[int, int]:
    """Exercise 1: (number of chunks, length of the last) for chunks of the 7B's W."""
    W = ModelArgs().sliding_window
    n = -(-prompt // W)
    return n, prompt - (n - 1) * W


def first_query_reads(chunk_start: int = 5, chunk_len: int = 5, seq_len: int = 12, window: int = 4) -> list[int]:
    """Exercise 2: the positions the first query of a chunk attends to."""
    return [int(p) for p in np.flatnonzero(chunk_mask(chunk_start, chunk_len, seq_len, window)[0])]


def lost_to_early_write(window: int = 4, chunk_start: int = 8) -> list[int]:
    """Exercise 4: positions the chunk's first query needs that writing the chunk into the buffer
    before attending overwrites (the buffer held the W positions before the chunk)."""
    held = {p % window: p for p in range(chunk_start - window, chunk_start)}       # slot -> position
    for p in range(chunk_start, chunk_start + window):
        held[p % window] = p
    needed = range(chunk_start - window + 1, chunk_start + 1)
    return sorted(set(needed) - set(held.values()))


def _judge_1(x):
    x, want = tuple(whole(v) for v in x), chunks_of()
    if x == want:
        return None
    if len(x) != 2:
        return "a pair: (number of chunks, length of the last chunk)"
    if x[0] != want[0]:
        return "every chunk but the last is W long; round the number of chunks up"
    return "the last chunk holds what the full chunks before it leave of the prompt"


def _judge_2(x):
    x, want = [whole(v) for v in x], first_query_reads()
    if x == want:
        return None
    if x == want[1:] or x == want[:-1]:
        return "W keys, the query's own position included"
    return "the first query of the chunk reads the cache (the positions just before it) and itself"


def _judge_3(x):
    x = np.asarray(x)
    T, chunk, W = FIG3
    want = chunk_mask(2 * chunk, chunk, T, W)
    if x.shape != want.shape:
        return f"one row per query of the chunk, one column per position: shape {want.shape}"
    if x.dtype != bool:
        return "a comparison of positions gives a bool array"
    if (x == want).all():
        return None
    if (x == (np.arange(T)[None, :] <= np.arange(2 * chunk, 3 * chunk)[:, None])).all():
        return "that is causal only: add the window (query - key < W)"
    return "keys k with k <= q and q - k < W, for queries q = 8..11 and keys 0..11"


def _judge_4(x):
    x, want = [whole(v) for v in x], lost_to_early_write()
    if x == want:
        return None
    if x == sorted(x) and set(x) >= set(want):
        return "only the positions query 8 needs: its window is 5..8, and 8 is in the chunk itself"
    return "write positions 8..11 into slots p mod 4 over a buffer holding 4..7, then see which of " \
           "query 8's window is left"


def check(n: int, answer) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: lambda a: _judge_1(list(a)), 2: lambda a: _judge_2(list(a)), 3: _judge_3,
              4: lambda a: _judge_4(list(a))}
    return outcome(n, answer, judges[n]) if n in judges else no_exercise(n)
