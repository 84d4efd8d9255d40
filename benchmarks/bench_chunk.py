"""Cost against the number of new tokens T (issue 15): one product and one step through a warm cache.

    python benchmarks/make_synthetic.py --layers 4                 # once: the 4-layer slice
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_chunk.py --plot benchmarks/chunk_cost.png
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_chunk.py --model benchmarks/work/synthetic-7b-hf \\
        --what step --T 1 2 3 4 5 8 13 --repeats 3

Decoding reads and widens every weight once per step; T new tokens in one step share that
widening, so T tokens should cost little more than one (this is what makes verifying k draft
tokens at once, speculative.py, pay). Two measurements, each at T = 1..64 and a few larger:

  product   y = x @ W.T for x float32 [T, I] and the 7B's feed-forward matrices in bf16:
            W [14336, 4096] (w1, w3) and W [4096, 14336] (w2). minimistral:
            fastpath.bf16_matmul_transposed; torch: F.linear on bf16 tensors. Each run is 50 ms
            of untimed calls, then 3 timed back to back, as a model step runs them (warm_time).
  step      T new tokens through a warm cache (64 positions already in it) of a checkpoint,
            all T positions' logits (what verifying T - 1 drafts needs); the cache is cut back
            after each run (RollingBufferCache.truncate / DynamicCache.crop), so every run
            sees the same cache. minimistral: Mistral.run; torch: transformers forward.

Each side runs in its own subprocess (torch.set_num_threads(2) on the torch side) and every
measurement alternates between them, so a burst of load from other programs hits both alike.
Reported: the median of --repeats runs, in ms, and time(T) / time(1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_speed import machine, median, prompt  # noqa: E402

DEFAULT_MODEL = ROOT / "benchmarks" / "work" / "synthetic-4layers-hf"
SHAPES = [(14336, 4096), (4096, 14336)]          # the 7B's w1/w3 and w2, [out, in]
DEFAULT_T = list(range(1, 17)) + [20, 24, 32, 40, 48, 56, 64, 128, 512]
CONTEXT = 64                                     # positions already in the cache for "step"
PRODUCTS_TIMED = 3                               # "product": calls timed back to back (warm_time)
WARM_UP = 0.05                                   # ... after this many seconds of untimed calls
PAUSE = 0.2                                      # let the other side's idle threads stop spinning


def warm_time(run, n: int = PRODUCTS_TIMED) -> float:
    """Seconds per call of run(), timed over n calls back to back after WARM_UP seconds of calls.

    A model step runs its products back to back. One call timed alone after the pause between
    measurements also times the cores waking up: on the 2-core machine of 2026-11-27, 14336 x
    4096 at T = 1 took 13.5-17.6 ms that way against 7.8-8.1 ms back to back."""
    start = time.perf_counter()
    while time.perf_counter() - start < WARM_UP:
        run()
    t = time.perf_counter()
    for _ in range(n):
        run()
    return (time.perf_counter() - t) / n


class MinimistralSide:
    def __init__(self, model_dir, what):
        import numpy as np

        from minimistral.fast.linear import float32_to_bf16
        self.np, rng = np, np.random.default_rng(0)
        self.mats = {s: float32_to_bf16((0.02 * rng.standard_normal(s, dtype=np.float32))) for s in SHAPES} \
            if "product" in what else {}
        if "step" in what:
            from minimistral.checkpoints.layout import open_checkpoint
            from minimistral.model import Mistral
            args, weights, _ = open_checkpoint(model_dir)
            self.model = Mistral(args, weights)
            self.cache = self.model.new_cache()
            self.model.prefill(prompt(CONTEXT, args.vocab_size), self.cache)

    def product(self, shape, T):
        from minimistral.fast.linear import bf16_matmul_transposed
        x = self.np.random.default_rng(T).standard_normal((T, shape[1]), dtype=self.np.float32)
        return warm_time(lambda: bf16_matmul_transposed(x, self.mats[shape]))

    def step(self, T):
        np, cache = self.np, self.cache
        ids = np.asarray(prompt(T + 1, self.model.args.vocab_size, seed=T)[1:])
        mark = cache.mark(T)
        t = time.perf_counter()
        self.model.run(ids, cache.length + np.arange(T), cache)                     # [T, V]
        wall = time.perf_counter() - t
        cache.truncate(mark["length"], mark)
        return wall


class TorchSide:
    def __init__(self, model_dir, what):
        import torch
        torch.set_num_threads(2)
        self.torch, g = torch, torch.Generator().manual_seed(0)
        self.mats = {s: (0.02 * torch.randn(s, generator=g)).to(torch.bfloat16) for s in SHAPES} \
            if "product" in what else {}
        if "step" in what:
            from transformers import DynamicCache, MistralForCausalLM
            self.model = MistralForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
            self.cache = DynamicCache()
            with torch.inference_mode():
                self.model(torch.tensor([prompt(CONTEXT, self.model.config.vocab_size)]),
                           past_key_values=self.cache, use_cache=True)

    def product(self, shape, T):
        torch = self.torch
        x = torch.randn((T, shape[1]), generator=torch.Generator().manual_seed(T)).to(torch.bfloat16)
        with torch.inference_mode():
            return warm_time(lambda: torch.nn.functional.linear(x, self.mats[shape]))

    def step(self, T):
        torch = self.torch
        ids = torch.tensor([prompt(T + 1, self.model.config.vocab_size, seed=T)[1:]])
        with torch.inference_mode():
            t = time.perf_counter()
            self.model(ids, past_key_values=self.cache, use_cache=True,
                       position_ids=torch.arange(CONTEXT, CONTEXT + T)[None])      # all T logits
            wall = time.perf_counter() - t
        self.cache.crop(-T)                                       # drop the T new positions again
        return wall


SIDES = {"minimistral": MinimistralSide, "torch": TorchSide}


def worker(side_name: str, model_dir: str, what: list[str]) -> None:
    """Serve one side: answer "product O I T" / "step T" / "quit" from stdin, one JSON line each."""
    side = SIDES[side_name](model_dir, what)
    reply({"ready": True})
    for line in sys.stdin:
        cmd, *arg = line.split()
        if cmd == "quit":
            return
        if cmd == "product":
            reply({"wall": side.product((int(arg[0]), int(arg[1])), int(arg[2]))})
        elif cmd == "step":
            reply({"wall": side.step(int(arg[0]))})


def reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Worker:
    def __init__(self, side: str, model: Path, what: list[str]):
        self.side = side
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", side, "--model", str(model),
                                      "--what", *what], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.side} worker died (exit {self.proc.wait()}); see its error above.")
        return json.loads(line)

    def ask(self, command: str) -> float:
        time.sleep(PAUSE)
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()["wall"]


def measure(a) -> dict:
    """{case: {side: {T: median seconds}}}, cases "product OxI" and "step"."""
    workers = [Worker(side, a.model, a.what) for side in a.sides]
    cases = [(f"product {o}x{i}", f"product {o} {i}") for o, i in SHAPES if "product" in a.what]
    cases += [("step", "step")] if "step" in a.what else []
    out = {}
    for name, command in cases:
        out[name] = {w.side: {} for w in workers}
        for w in workers:
            w.ask(f"{command} 1")                       # warm-up (page cache, scratch, pools)
        for T in a.T:
            times = {w.side: [] for w in workers}
            for _ in range(a.repeats):
                for w in workers:
                    times[w.side].append(w.ask(f"{command} {T}"))
            for w in workers:
                out[name][w.side][T] = median(times[w.side])
            print(name, T, " ".join(f"{s} {1e3 * v[T]:.1f} ms" for s, v in out[name].items()), flush=True)
    for w in workers:
        w.proc.stdin.write("quit\n")
        w.proc.stdin.flush()
        w.proc.wait()
    return out


def table(out: dict) -> str:
    lines = []
    for name, sides in out.items():
        Ts = list(next(iter(sides.values())))
        head = ["T"] + [f"{s} ms" for s in sides] + [f"{s} / T=1" for s in sides]
        lines += [f"\n{name}:", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for T in Ts:
            row = [str(T)] + [f"{1e3 * v[T]:.1f}" for v in sides.values()]
            row += [f"{v[T] / v[Ts[0]]:.2f}" for v in sides.values()]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot(out: dict, path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(out), figsize=(4.2 * len(out), 3.6), squeeze=False)
    for ax, (name, sides) in zip(axes[0], out.items()):
        for side, v in sides.items():
            Ts = list(v)
            ax.plot(Ts, [1e3 * v[T] for T in Ts], "o-", ms=3, label=side)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("T new tokens in one pass")
        ax.set_ylabel("ms (lower is better)")
        ax.set_title(name, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def replot(files: list[Path], path: Path) -> None:
    """One figure from saved runs: a panel per case ("product ...", "step <model>"), a line per
    side and run (the run's date in the legend when a case was measured more than once)."""
    out: dict = {}
    for f in files:
        for line in open(f):
            run = json.loads(line)
            model = Path(run["model"]).name
            for case, sides in run["results"].items():
                name = f"step, {model}" if case == "step" else case
                for side, d in sides.items():
                    out.setdefault(name, {})[f"{side} {run['date'][11:16]}"] = {int(T): v for T, v in d.items()}
    plot(out, path, f"bench_chunk.py, {machine()}; dates and load in benchmarks/RESULTS.md")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="checkpoint for 'step' (HF layout)")
    ap.add_argument("--what", nargs="+", default=["product", "step"], choices=["product", "step"])
    ap.add_argument("--sides", nargs="+", default=["minimistral", "torch"], choices=list(SIDES))
    ap.add_argument("--T", nargs="+", type=int, default=DEFAULT_T, help="numbers of new tokens")
    ap.add_argument("--repeats", type=int, default=5, help="runs per T and side (median)")
    ap.add_argument("--plot", type=Path, default=None, help="write a line chart (PNG) here")
    ap.add_argument("--json", type=Path, default=None, help="append the raw numbers to this file")
    ap.add_argument("--replot", type=Path, nargs="+", default=None, metavar="JSON",
                    help="no measuring: plot the runs saved with --json (one panel per case and model)")
    ap.add_argument("--worker", choices=list(SIDES), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.replot:
        replot(a.replot, a.plot or Path("chunk_cost.png"))
        return
    if a.worker:
        worker(a.worker, str(a.model), a.what)
        return
    if "step" in a.what and not (a.model / "config.json").exists():
        raise SystemExit(f"{a.model} has no config.json; run benchmarks/make_synthetic.py first.")
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = measure(a)
    print(f"{date}; {machine()}; model {a.model.name}; load average {os.getloadavg()[0]:.1f} at the end")
    print(f"command: python {' '.join(sys.argv)}")
    print(table(out))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"date": date, "machine": machine(), "model": str(a.model),
                                "results": {n: {s: {str(T): v for T, v in d.items()} for s, d in sides.items()}
                                            for n, sides in out.items()}}) + "\n")
    if a.plot:
        plot(out, a.plot, f"{a.model.name}, {machine()}, {date}")


if __name__ == "__main__":
    main()
