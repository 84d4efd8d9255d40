"""Which NumPy calls let two Python threads multiply at the same time (the design of fastpath.py).

    flock /tmp/minimistral-heavy.lock python benchmarks/bench_gil.py

fastpath.py multiplies widened weight chunks on two Python threads. That only helps if the
multiply lets go of the GIL while it runs. Each case below multiplies the same total work, small
one-thread sgemms of a short chunk (T = 13 rows of x), first on one thread, then the same
calls on each of two threads at once; "speed-up" is two threads' throughput over one thread's
(2.0 = both cores busy, 1.0 = the calls ran one after the other):

  np.dot         one [16, 1024] @ [1024, 13] per call (the first fix's calls were of this size)
  matmul stack   np.matmul of a stack of N blocks [4, 256] or [16, 512] @ [., 13] per call
                 (fastpath.py now makes one such call per 2 MiB chunk: 64 blocks of [16, 512])

Both let go of the GIL while they multiply; what decides is how long a call runs, because
between calls each thread must take the GIL back.

OpenBLAS runs each of these products on the calling thread (m n k <= 2^18), so BLAS threads
play no part. Results: benchmarks/RESULTS.md, "Cost against the number of new tokens T".
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


def speed_up(call, flops: float) -> tuple[float, float, float, float]:
    """(microseconds a call, GFLOP/s on one thread, GFLOP/s on two, two / one), best of 3."""
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
    return 1e6 * flops / one, one / 1e9, two / 1e9, two / one


def timed(call) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t


def main() -> None:
    rng = np.random.default_rng(0)
    print(machine())
    print("| case | us a call | GFLOP/s, 1 thread | GFLOP/s, 2 threads | speed-up |")
    print("|---|---|---|---|---|")
    w = rng.standard_normal((16, 1024), dtype=np.float32)
    x = rng.standard_normal((T, 1024), dtype=np.float32).T
    out = np.empty((16, T), dtype=np.float32)
    us, one, two, s = speed_up(lambda: np.dot(w, x, out=out), 2 * 16 * 1024 * T)
    print(f"| np.dot [16, 1024] @ [1024, {T}] | {us:.1f} | {one:.0f} | {two:.0f} | {s:.2f} |")
    for rows, cols, counts in ((4, 256, (1, 8, 64, 512)), (16, 512, (1, 8, 64))):
        for n in counts:
            ws = rng.standard_normal((n, rows, cols), dtype=np.float32)
            xs = rng.standard_normal((n, T, cols), dtype=np.float32).transpose(0, 2, 1)
            outs = np.empty((n, rows, T), dtype=np.float32)
            us, one, two, s = speed_up(lambda: np.matmul(ws, xs, out=outs), 2 * n * rows * cols * T)
            print(f"| np.matmul, stack of {n} x [{rows}, {cols}] @ [{cols}, {T}] | {us:.1f} | {one:.0f} "
                  f"| {two:.0f} | {s:.2f} |")


if __name__ == "__main__":
    main()
