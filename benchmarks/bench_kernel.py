"""Where decode time goes: y = x @ W.T for one token, bf16 W, the 7B's feed-forward shapes.

Decoding is this product over every weight matrix, so its cost per weight sets the speed.
This script measures it piece by piece on the same matrices (random bf16 bits, in RAM, far
bigger than the L3 cache), next to PyTorch's bf16 kernel:

    read        stream the bf16 bytes once (np.dot over float32 views): the memory floor
    widen only  fastpath.bf16_matmul_transposed with the dot product switched off
    minimistral fastpath.bf16_matmul_transposed, 1 thread and all threads
    torch bf16  torch.nn.functional.linear on bf16 tensors (if torch is installed)

Then decode attention at a full window (W = 4096 keys, the 7B's 32 query and 8 kv heads),
alone and followed by the weights as in a decode step, three ways: gqa.grouped_attention
(keys in blocks, one BLAS thread per product), one einsum, one threaded BLAS matmul.

    python benchmarks/bench_kernel.py [--layers 2] [--repeats 5]

Prints ns per weight and G weights/s for each (best of --repeats), then ms per layer.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from minimistral.fast import linear as fastpath  # noqa: E402
from minimistral.fast.linear import float32_to_bf16  # noqa: E402
from minimistral.gqa import grouped_attention, softmax  # noqa: E402

D, F = 4096, 14336                                   # the 7B's model and hidden dimensions


def matrices(layers: int, seed: int = 0) -> list[np.ndarray]:
    """w1, w3 [F, D] and w2 [D, F] per layer as bf16 bits (uint16), values like N(0, 0.02)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(layers):
        for shape in [(F, D), (F, D), (D, F)]:
            out.append(float32_to_bf16(rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)))
    return out


def best_of(repeats: int, fn) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def read_all(ws: list[np.ndarray], threads: int) -> None:
    """Touch every byte once, split over threads (np.dot on float32 views releases the GIL)."""
    def part(w, lo, hi):
        f = w.reshape(-1).view(np.float32)
        for s in range(lo, hi, 1 << 18):
            np.dot(f[s:min(hi, s + (1 << 18))], f[s:min(hi, s + (1 << 18))])
    for w in ws:
        n = w.size // 2
        jobs = [threading.Thread(target=part, args=(w, i * n // threads, (i + 1) * n // threads))
                for i in range(threads)]
        for j in jobs:
            j.start()
        for j in jobs:
            j.join()


def attention_einsum(q, k, v, allowed):
    """Decode attention as one einsum per product (single-threaded, not BLAS)."""
    K, Hd = k.shape[1], k.shape[2]
    qg = q.reshape(K, -1, Hd)                                               # [K, G, Hd] (T = 1)
    p = softmax(np.where(allowed, np.einsum("kgd,skd->kgs", qg, k) / np.float32(np.sqrt(Hd)), -np.inf))
    return np.einsum("kgs,skd->kgd", p, v).reshape(1, -1, Hd)


def attention_blas(q, k, v, allowed):
    """Decode attention as one batched matmul per product (BLAS picks its threads)."""
    K, Hd = k.shape[1], k.shape[2]
    qg = q.reshape(K, -1, Hd)
    p = softmax(np.where(allowed, (qg @ k.transpose(1, 2, 0)) / np.float32(np.sqrt(Hd)), -np.inf))
    return (p @ v.transpose(1, 0, 2)).reshape(1, -1, Hd)


def attention_part(a, ws, xs) -> None:
    """ms per layer: attention over a full window alone, then followed by the weights."""
    W, H, K, Hd, layers = 4096, 32, 8, 128, 4
    rng = np.random.default_rng(3)
    kv = [(rng.standard_normal((W, K, Hd), dtype=np.float32), rng.standard_normal((W, K, Hd), dtype=np.float32))
          for _ in range(layers)]                                           # 4 x 33.5 MB > L3
    q = rng.standard_normal((1, H, Hd), dtype=np.float32)
    allowed = np.ones((1, W), dtype=bool)
    ways = {"gqa.grouped_attention": grouped_attention, "einsum": attention_einsum, "threaded BLAS": attention_blas}
    expected = grouped_attention(q, *kv[0], allowed)
    weights_alone = best_of(a.repeats, lambda: [fastpath.bf16_matmul_transposed(xs[w.shape[1]], w) for w in ws])
    for name, attend in ways.items():
        np.testing.assert_allclose(attend(q, *kv[0], allowed), expected, rtol=1e-4, atol=1e-5)
        alone = best_of(a.repeats, lambda: [attend(q, k, v, allowed) for k, v in kv]) / layers

        def step():
            for k, v in kv:
                attend(q, k, v, allowed)
                for w in ws:
                    fastpath.bf16_matmul_transposed(xs[w.shape[1]], w)
        both = best_of(a.repeats, step)
        print(f"{name:28s} attention {alone * 1e3:6.1f} ms/layer; attention + weights "
              f"{both / layers * 1e3:6.1f} ms/layer (weights alone {weights_alone * 1e3:.1f})", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=2, help="feed-forward layers' worth of matrices")
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()

    ws = matrices(a.layers)
    n = sum(w.size for w in ws)
    x = np.random.default_rng(1).standard_normal((1, D), dtype=np.float32)
    xs = {D: x, F: np.random.default_rng(2).standard_normal((1, F), dtype=np.float32)}
    T = fastpath.THREADS                                   # imported there from fast/threads.py
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}; "
          f"{n / 1e6:.0f} M bf16 weights ({2 * n / 1e9:.2f} GB), best of {a.repeats}")

    def report(name, seconds):
        print(f"{name:28s} {seconds * 1e3:8.1f} ms  {seconds / n * 1e9:6.3f} ns/weight  "
              f"{n / seconds / 1e9:5.2f} G weights/s", flush=True)

    for threads in sorted({1, T}):
        report(f"read ({threads} thread{'s' * (threads > 1)})", best_of(a.repeats, lambda: read_all(ws, threads)))

    real_dot = fastpath.vecdot
    fastpath.vecdot = lambda a_, b_, out: None
    try:
        report(f"widen only ({T} threads)", best_of(a.repeats, lambda: [
            fastpath.bf16_matmul_transposed(xs[w.shape[1]], w) for w in ws]))
    finally:
        fastpath.vecdot = real_dot
    for threads in sorted({1, T}):
        report(f"minimistral ({threads} thread{'s' * (threads > 1)})", best_of(a.repeats, lambda: [
            fastpath.bf16_matmul_transposed(xs[w.shape[1]], w, threads=threads) for w in ws]))

    try:
        import torch
    except ImportError:
        print("torch not installed: no torch row")
    else:
        torch.set_num_threads(T)
        tws = [torch.from_numpy(w.view(np.int16)).view(torch.bfloat16) for w in ws]
        txs = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in xs.items()}
        with torch.inference_mode():
            report(f"torch bf16 ({T} threads)", best_of(a.repeats, lambda: [
                torch.nn.functional.linear(txs[w.shape[1]], w) for w in tws]))
        time.sleep(0.5)                                   # let torch's idle threads stop spinning
    print()
    attention_part(a, ws[:3], xs)


if __name__ == "__main__":
    main()
