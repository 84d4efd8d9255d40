"""The fast path: y = x @ W.T for W stored as bf16 bits, exactly, on every core, in pure NumPy.

Decoding one token reads every weight once: for the 7B that is 7.2 G bf16 numbers per token,
and the work per number (widen to float32, multiply, add) is what sets the speed. Two ideas:

1. Widen pairs, not numbers. Two neighbouring bf16 numbers a (even index) and b (odd index) are
   one little-endian uint32 u = b << 16 | a. Two uint32 operations give both as float32 bits,
   exactly, with no uint16 -> uint32 conversion:

       a = u << 16              the low half moved up:   0x3F80_4000 -> 0x4000_0000 = 2.0
       b = u & 0xFFFF0000       the high half kept:      0x3F80_4000 -> 0x3F80_0000 = 1.0

   So the even columns of W come out of one operation and the odd columns out of the other,
   and W @ x = W_even @ x_even + W_odd @ x_odd. We lay a widened block out as [even | odd]
   columns and permute x once the same way (``split_pairs``): one dot product per row again.

       W row [w0 w1 w2 w3] . x [x0 x1 x2 x3]  =  [w0 w2 | w1 w3] . [x0 x2 | x1 x3]

2. Stay in cache, use both cores. For a few rows of x (decoding), the rows of W are split
   between threads; each widens a chunk of rows into its own L2-sized scratch and multiplies it
   right away, while the chunk is still in cache. NumPy's ufuncs and dot products release the
   GIL, so the threads really run at once. Chunks are kept small enough that OpenBLAS runs each
   product on one thread (its own threads would fight ours). For many rows (pre-fill) the work
   is sgemm: one thread widens big blocks and OpenBLAS's threads multiply.

The result is float32 arithmetic on exactly the stored weights: only the order of the additions
differs from a plain ``x @ widen(W).T``, as it does between any two BLAS builds.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

HIGH_HALF = np.uint32(0xFFFF0000)
SIXTEEN = np.uint32(16)

DECODE_MAX_ROWS = 2          # x with at most this many rows takes the threaded, cache-sized path
CHUNK_FLOATS = 1 << 17       # per thread: 512 KiB of float32 scratch, within a 1 MiB L2 cache
BLOCK_FLOATS = 1 << 22       # pre-fill: 16 MiB blocks, big enough for sgemm to run at full speed


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # not Linux
        return max(1, os.cpu_count() or 1)


THREADS = available_cores()


def split_pairs(x: np.ndarray) -> np.ndarray:
    """Columns reordered even first, then odd: [x0 x1 x2 x3 x4 x5] -> [x0 x2 x4 x1 x3 x5]."""
    return np.concatenate([x[..., 0::2], x[..., 1::2]], axis=-1)


def widen_pairs(pairs: np.ndarray, out: np.ndarray) -> np.ndarray:
    """uint32 pairs of bf16 [R, C/2] -> float32 [R, C] with the even columns first, then odd.

    widen_pairs([[0x3F80_4000]]) -> [[2.0, 1.0]]   (2.0 = bf16 0x4000, 1.0 = bf16 0x3F80)
    ``out`` is uint32 or float32 scratch of shape [R, C]; it is returned as float32.
    """
    half = pairs.shape[1]
    bits = out.view(np.uint32)
    np.left_shift(pairs, SIXTEEN, out=bits[:, :half])        # even columns: low halves moved up
    np.bitwise_and(pairs, HIGH_HALF, out=bits[:, half:])     # odd columns: high halves kept
    return bits.view(np.float32)


_scratch = threading.local()
_pool: ThreadPoolExecutor | None = None


def scratch(n: int) -> np.ndarray:
    """This thread's reusable uint32 buffer of at least n elements (allocated once, then kept)."""
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < n:
        buf = _scratch.buf = np.empty(n, dtype=np.uint32)
    return buf


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(1, THREADS - 1), thread_name_prefix="minimistral")
    return _pool


def _rows_times_x(pairs: np.ndarray, xp: np.ndarray, y: np.ndarray, lo: int, hi: int) -> None:
    """y[:, lo:hi] = xp @ widen(pairs[lo:hi]).T, a cache-sized chunk of rows at a time.

    pairs uint32 [O, I/2], xp float32 [T, I] (split_pairs order), y float32 [T, O].
    """
    in_features = 2 * pairs.shape[1]
    rows = max(1, CHUNK_FLOATS // in_features)
    buf = scratch(rows * in_features)
    for r in range(lo, hi, rows):
        n = min(rows, hi - r)
        w = widen_pairs(pairs[r:r + n], buf[:n * in_features].reshape(n, in_features))   # [n, I]
        dot(w, xp, y[:, r:r + n])                                                        # [T, n]


def _dot_vecdot(w, xp, out):
    np.vecdot(w, xp[:, None, :], out=out)        # one sdot per (row of x, row of w): one thread


def _dot_matmul(w, xp, out):
    np.matmul(xp, w.T, out=out)                   # NumPy < 2.0 has no vecdot


dot = _dot_vecdot if hasattr(np, "vecdot") else _dot_matmul


def bf16_matmul_transposed(x: np.ndarray, w: np.ndarray, threads: int | None = None) -> np.ndarray:
    """y = x @ widen(w).T in float32, for x float32 [T, I] and w raw bf16 bits uint16 [O, I].

    I must be even and w's rows contiguous (true of every Mistral matrix); the caller checks.
    """
    T, (out_features, in_features) = x.shape[0], w.shape
    pairs = w.view(np.uint32)                                                 # [O, I/2]
    xp = split_pairs(x)                                                       # [T, I]
    y = np.empty((T, out_features), dtype=np.float32)
    if T <= DECODE_MAX_ROWS:
        n = max(1, min(threads or THREADS, out_features))
        bounds = [out_features * k // n for k in range(n + 1)]
        jobs = [pool().submit(_rows_times_x, pairs, xp, y, lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:])]
        _rows_times_x(pairs, xp, y, bounds[0], bounds[1])                      # our own share
        for job in jobs:
            job.result()
        return y
    rows = max(1, BLOCK_FLOATS // in_features)
    buf = scratch(min(rows, out_features) * in_features)
    for r in range(0, out_features, rows):
        n = min(rows, out_features - r)
        block = widen_pairs(pairs[r:r + n], buf[:n * in_features].reshape(n, in_features))  # [n, I]
        np.matmul(xp, block.T, out=y[:, r:r + n])                                          # [T, n]
    return y
