"""Which NumPy calls let two Python threads multiply at the same time (the design of fastpath.py).

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_gil.py

fastpath.py multiplies widened weight chunks on two Python threads. That only helps if the
multiply lets go of the GIL while it runs. Each case below multiplies the same total work, small
one-thread sgemms of a short chunk (T = 13 rows of x), first on one thread, then the same
calls on each of two threads at once; "speed-up" is two threads' throughput over one thread's
(2.0 = both cores busy, 1.0 = the calls ran one after the other):

  np.dot         one [16, 1024] @ [1024, 13] per call
  matmul stack   np.matmul of a stack of N blocks [4, 256] @ [256, 13] per call (a gufunc: NumPy
                 releases the GIL when its loop has more than 500 items)

OpenBLAS runs each of these products on the calling thread (m n k <= 2^18), so BLAS threads
play no part.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_speed import machine  # noqa: E402

T = 13
SECONDS = 0.5                     # of work per measurement, on one thread


def speed_up(call, flops: float) -> tuple[float, float, float]:
    """(GFLOP/s on one thread, GFLOP/s on two, two / one), best of 3."""
    call()
    n = max(10, int(SECONDS / max(1e-7, timed(call))))
    one = two = 0.0
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            call()
        one = max(one, n * flops / (time.perf_counter() - t))
        threads = [threading.Thread(target=lambda: [call() for _ in range(n)]) for _ in range(2)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        two = max(two, 2 * n * flops / (time.perf_counter() - t))
    return one / 1e9, two / 1e9, two / one


def timed(call) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def main() -> None:
    rng = np.random.default_rng(0)
    print(machine())
    print(f"| case | GFLOP/s, 1 thread | GFLOP/s, 2 threads | speed-up |")
    print("|---|---|---|---|")
    w = rng.standard_normal((16, 1024), dtype=np.float32)
    x = rng.standard_normal((T, 1024), dtype=np.float32).T
    out = np.empty((16, T), dtype=np.float32)
    one, two, s = speed_up(lambda: np.dot(w, x, out=out), 2 * 16 * 1024 * T)
    print(f"| np.dot [16, 1024] @ [1024, {T}] | {one:.0f} | {two:.0f} | {s:.2f} |")
    for n in (1, 8, 64, 256, 512):
        ws = rng.standard_normal((n, 4, 256), dtype=np.float32)
        xs = rng.standard_normal((n, T, 256), dtype=np.float32).transpose(0, 2, 1)
        outs = np.empty((n, 4, T), dtype=np.float32)
        one, two, s = speed_up(lambda: np.matmul(ws, xs, out=outs), 2 * n * 4 * 256 * T)
        print(f"| np.matmul, stack of {n} x [4, 256] @ [256, {T}] | {one:.0f} | {two:.0f} | {s:.2f} |")


if __name__ == "__main__":
    main()
