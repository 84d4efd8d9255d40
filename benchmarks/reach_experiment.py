"""Does a trained SWA stack use its reach? Accuracy vs copy distance for several (W, k).

Trains one tiny model per (window W, layers k, distance delta) on the copy task of
minimistral/training/reach.py (period delta + 1, vocabulary 16, NumPy backward pass + AdamW) and writes
the held-out accuracy of each to minimistral/data/experiments/reach.json; ``minimistral figures`` draws
figures/reach_measured.png from it. Theory (receptive_field.py): learnable only when
delta <= k (W - 1); beyond it the answer is independent of everything the model can see.

    flock /tmp/minimistral-heavy.lock python benchmarks/reach_experiment.py    # ~10-15 min alone, 2 cores

Each model is small enough that one BLAS thread is fastest (the products are 1024 x 64), so the
jobs run two at a time in two processes, one per core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # before NumPy loads BLAS: tiny products
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from minimistral.training.reach import VOCAB, run_one  # noqa: E402

HERE = Path(__file__).resolve().parent
# (W, k): reach k (W - 1) = 3, 6, 9, 7, 14, and full attention (None) for comparison.
CONFIGS = [(4, 1), (4, 2), (4, 3), (8, 1), (8, 2), (None, 2)]
DELTAS = list(range(1, 13)) + [14, 15, 16, 18, 20, 24]


def job(spec):
    window, n_layers, delta, steps, seed, train = spec
    t0 = time.time()
    row = run_one(window, n_layers, delta, steps, seed=seed, **train)
    row["seconds"] = round(time.time() - t0, 1)
    print(f"W={window} k={n_layers} delta={delta:2d}: accuracy {row['accuracy']:.3f} "
          f"(loss {row['final_loss']:.3f}, {row['seconds']} s)", flush=True)
    return row


def run(configs, deltas, steps: int, seeds: int, processes: int, train: dict) -> list[dict]:
    specs = [(w, k, d, steps, s, train) for (w, k) in configs for d in deltas for s in range(seeds)]
    specs.sort(key=lambda sp: -sp[2])                    # long distances first: slowest to learn
    if processes == 1:
        return [job(sp) for sp in specs]
    with Pool(processes) as pool:
        return pool.map(job, specs, chunksize=1)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--configs", default=None, help="e.g. '4:1,4:2,none:2' (default: the six above)")
    ap.add_argument("--deltas", default=None, help="e.g. '1,2,3' (default: 1..12, 14, 15, 16, 18, 20, 24)")
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out", default=str(HERE.parent / "minimistral" / "data" / "experiments" / "reach.json"))
    opts = ap.parse_args(argv)
    configs = CONFIGS if opts.configs is None else [
        (None if w.lower() == "none" else int(w), int(k)) for w, k in (c.split(":") for c in opts.configs.split(","))]
    deltas = DELTAS if opts.deltas is None else [int(d) for d in opts.deltas.split(",")]
    train = {"T": opts.seq_len, "batch": opts.batch}
    t0 = time.time()
    rows = run(configs, deltas, opts.steps, opts.seeds, opts.processes, train)
    rows.sort(key=lambda r: (str(r["window"]), r["n_layers"], r["delta"], r["seed"]))
    result = {
        "what": "greedy next-token accuracy on the copy task at distance delta (period delta + 1), "
                "one model per (W, k, delta, seed); chance = 1/V",
        "vocab": VOCAB, "chance": 1 / VOCAB, "steps": opts.steps, "seq_len": opts.seq_len,
        "batch": opts.batch, "configs": [list(c) for c in configs], "deltas": deltas,
        "model": "D=64, 4 query heads on 2 kv heads, Hd=16, F=128, AdamW lr 3e-3, warm-up 30, cosine",
        "command": "flock /tmp/minimistral-heavy.lock python benchmarks/reach_experiment.py",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, NumPy {np.__version__}",
        "shared": "yes: other agents' jobs ran on the same 2 cores",
        "wall_seconds": round(time.time() - t0),
        "rows": rows,
    }
    Path(opts.out).write_text(json.dumps(result, indent=1) + "\n")
    print("wrote", opts.out, flush=True)
    return result


if __name__ == "__main__":
    main()
