"""Sharing a product's rows between threads, for the bf16 path (linear.py) and the quantized one
(quant.py) alike: a pool, chunks of rows handed out as threads come free, and the two NumPy
facts that decide how the work is cut.

- A thread needs the GIL between NumPy calls; a ufunc loop lets go of it only for more than
  GIL_FREE_LOOP items, so each dot product is cut in ``pieces`` long enough for that.
- OpenBLAS runs a product on the calling thread alone only when m * n * k <= 2^18
  (ONE_THREAD_PRODUCT: SMP_THRESHOLD_MIN 65536 x GEMM_MULTITHREAD_THRESHOLD 4, in its
  interface/gemm.c); a bigger one wakes its own threads, which then spin on the cores the
  row threads need (linear.py, attention.py).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

GIL_FREE_LOOP = 500          # NumPy releases the GIL in a ufunc loop of more than this many items
ONE_THREAD_PRODUCT = 1 << 18


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # not Linux
        return max(1, os.cpu_count() or 1)


THREADS = available_cores()


_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=max(1, THREADS - 1), thread_name_prefix="minimistral")
    return _pool


class Chunks:
    """Row ranges handed out one at a time to whichever thread asks first (thread-safe).

    Threads that take work as they come free finish together even when one of them shares its
    core with another program; fixed halves would wait for the slower one.
    """

    def __init__(self, n_rows: int, rows: int):
        self.n_rows, self.rows = n_rows, rows
        self.starts, self.lock = iter(range(0, n_rows, rows)), threading.Lock()

    def take(self) -> tuple[int, int] | None:
        with self.lock:
            r = next(self.starts, None)
        return None if r is None else (r, min(self.rows, self.n_rows - r))


def pieces(half: int, outer: int) -> int:
    """How many pieces to cut each dot product into so NumPy releases the GIL.

    A gufunc such as vecdot releases the GIL only for more than GIL_FREE_LOOP = 500 outer
    iterations, whatever the length of each dot product; 2 x 64 rows of 2048 are 128
    iterations and would hold it, cut in 4 pieces of 512 they are 512. pieces(2048, 128) -> 4.
    """
    s = 1
    while outer * s <= GIL_FREE_LOOP and half % (2 * s) == 0 and s < 64:
        s *= 2
    return s


vecdot = getattr(np, "vecdot", None) or (lambda a, b, out: np.einsum("...i,...i->...", a, b, out=out))


def run_chunks(work, pairs, xs, y, chunks, threads) -> None:
    """work(pairs, xs, y, chunks) on this thread and enough pool threads to share the chunks."""
    helpers = min(threads or THREADS, -(-chunks.n_rows // chunks.rows)) - 1
    jobs = [pool().submit(work, pairs, xs, y, chunks) for _ in range(helpers)]
    work(pairs, xs, y, chunks)                                                # this thread works too
    for job in jobs:
        job.result()
