"""Speed against PyTorch bf16 (issue 7): load, pre-fill and decode, side by side, on one checkpoint.

    python benchmarks/make_synthetic.py --layers 4                 # once: the 4-layer slice
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_speed.py             # 4-layer slice
    flock /tmp/minimistral-heavy.lock python benchmarks/bench_speed.py --model benchmarks/work/synthetic-7b-hf

Each side runs in its own subprocess (so peak memory is its own): minimistral (NumPy, float32
compute over the memory-mapped bf16 weights) and transformers.MistralForCausalLM (torch bf16,
torch.set_num_threads(2), loaded from the same directory). Both stay loaded and every
measurement alternates between them, so a burst of load from other programs on the machine
hits both alike. Both pre-fill with a KV cache and compute the logits of the last position
only (what generation does), then decode one token at a time from there. Reported: load time, pre-fill tokens/s per prompt length, decode s/token
(median), peak RSS (VmHWM) and peak anonymous memory (RssAnon, sampled every 5 ms), which
excludes the page cache that holds memory-mapped weights.

--plot writes a bar chart; --json appends the raw numbers to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "benchmarks" / "work" / "synthetic-4layers-hf"


def status_kb(field: str) -> int:
    """A field of /proc/self/status in KiB (VmHWM, RssAnon, ...)."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class AnonPeak:
    """Samples RssAnon in a thread: the peak of anonymous (non-file) memory while running."""

    def __init__(self, period: float = 0.005):
        self.peak, self.period, self._stop = 0, period, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, status_kb("RssAnon"))
            self._stop.wait(self.period)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, status_kb("RssAnon"))


def prompt(n: int, vocab: int, seed: int = 0) -> list[int]:
    """n token ids: BOS then pseudo-random ids (the same for both sides)."""
    import random
    r = random.Random(seed)
    return [1] + [r.randrange(3, vocab) for _ in range(n - 1)]


# ---- the two sides: each is (load, prefill(ids) -> state, decode(state, id) -> next id) --------

class MinimistralSide:
    def load(self, model_dir):
        from minimistral.checkpoints.layout import open_checkpoint
        from minimistral.model import Mistral
        args, weights, _ = open_checkpoint(model_dir)
        self.model, self.vocab = Mistral(args, weights), args.vocab_size

    def prefill(self, ids):
        import numpy as np
        cache = self.model.new_cache()
        logits = self.model.run(np.asarray(ids), np.arange(len(ids)), cache, last_only=True)
        return [cache, len(ids), int(logits[-1].argmax())]

    def full_window(self, n=None):
        """A cache already holding n positions (default W, or 4096 without a window) of random keys
        and values, as after a long prompt."""
        import numpy as np
        a, rng = self.model.args, np.random.default_rng(0)
        n = n or a.sliding_window or 4096
        cache, positions = self.model.new_cache(), np.arange(n)
        cache.begin(positions)
        for layer in range(a.n_layers):
            k = rng.standard_normal((len(positions), a.n_kv_heads, a.head_dim), dtype=np.float32)
            cache.write(layer, k, k, positions)
        cache.advance(positions)
        return [cache, n, 1]

    def decode(self, state):
        import numpy as np
        cache, pos, tok = state
        logits = self.model.run(np.asarray([tok]), np.asarray([pos]), cache, last_only=True)
        state[1:] = [pos + 1, int(logits[-1].argmax())]


class TorchSide:
    def load(self, model_dir):
        import torch
        from transformers import MistralForCausalLM
        torch.set_num_threads(2)
        self.torch = torch
        self.model = MistralForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
        self.vocab = self.model.config.vocab_size

    def prefill(self, ids):
        torch = self.torch
        with torch.inference_mode():
            out = self.model(torch.tensor([ids]), use_cache=True, logits_to_keep=1)
        return [out.past_key_values, len(ids), int(out.logits[0, -1].argmax())]

    def decode(self, state):
        torch = self.torch
        past, pos, tok = state
        with torch.inference_mode():
            out = self.model(torch.tensor([[tok]]), past_key_values=past, use_cache=True,
                             position_ids=torch.tensor([[pos]]), logits_to_keep=1)
        state[:] = [out.past_key_values, pos + 1, int(out.logits[0, -1].argmax())]


SIDES = {"minimistral": MinimistralSide, "torch": TorchSide}


def worker(side_name: str, model_dir: str) -> None:
    """Serve one side in this process: load, then answer commands read from stdin, one per line.

    prefill N | decode | window [N] | quit  ->  one JSON line each on stdout (times, or memory at quit).
    """
    anon = AnonPeak()
    side = SIDES[side_name]()
    t = time.perf_counter()
    side.load(model_dir)
    reply({"load_s": time.perf_counter() - t})
    state = None
    for line in sys.stdin:
        cmd, *arg = line.split()
        t, c = time.perf_counter(), time.process_time()
        if cmd == "prefill":
            state = side.prefill(prompt(int(arg[0]), side.vocab))
        elif cmd == "decode":
            side.decode(state)
        elif cmd == "window":
            state = side.full_window(*map(int, arg)) if hasattr(side, "full_window") else None
        elif cmd == "quit":
            reply({"peak_rss_gb": status_kb("VmHWM") / 1e6 * 1.024, "peak_anon_gb": anon.stop() / 1e6 * 1.024})
            return
        reply({"wall": time.perf_counter() - t, "cpu": time.process_time() - c})


def reply(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Worker:
    """A side running in its own subprocess (its own memory), driven one command at a time."""

    def __init__(self, side: str, model: Path):
        self.side = side
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", side, "--model", str(model)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.load_s = self._read()["load_s"]

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"the {self.side} worker died (exit {self.proc.wait()}); see its error above.")
        return json.loads(line)

    def ask(self, command: str) -> dict:
        time.sleep(PAUSE)                      # let the other side's idle BLAS/OpenMP threads stop spinning
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()


PAUSE = 0.3


def median(xs):
    return sorted(xs)[len(xs) // 2]


def measure(a) -> list[dict]:
    """Both sides loaded side by side; every measurement alternates between them (same conditions)."""
    workers = [Worker(side, a.model) for side in a.sides]        # loaded one after the other
    results = {w.side: {"side": w.side, "load_s": w.load_s, "prefill_tok_s": {}} for w in workers}
    for n in a.prompts:
        times = {w.side: [] for w in workers}
        for _ in range(a.repeats):
            for w in workers:
                times[w.side].append(w.ask(f"prefill {n}")["wall"])
        for w in workers:
            results[w.side]["prefill_tok_s"][str(n)] = n / median(times[w.side])
    for w in workers:
        w.ask(f"prefill {min(a.prompts)}")
    steps = {w.side: [] for w in workers}
    for _ in range(a.decode):
        for w in workers:
            steps[w.side].append(w.ask("decode"))
    for w in workers:
        r = results[w.side]
        r["decode_s"] = median([s["wall"] for s in steps[w.side]])
        r["decode_cpu_s"] = median([s["cpu"] for s in steps[w.side]])       # CPU seconds, all threads
        r["decode_steps_s"] = [s["wall"] for s in steps[w.side]]
    if a.window and "minimistral" in results:
        w = next(w for w in workers if w.side == "minimistral")
        w.ask("window")
        results["minimistral"]["decode_at_window_s"] = median([w.ask("decode")["wall"] for _ in range(a.decode)])
    for w in workers:
        results[w.side].update(w.ask("quit"))
        w.proc.wait()
    return [results[side] for side in a.sides]


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {mem:.0f} GiB RAM"


def table(results: list[dict], prompts: list[int]) -> str:
    head = ["", "load s"] + [f"pre-fill {n} tok/s" for n in prompts] + ["decode s/token", "decode CPU s/token", "peak RSS GB",
                                                                         "peak anon GB"]
    rows = [head, ["---"] * len(head)]
    for r in results:
        rows.append([r["side"], f"{r['load_s']:.1f}"] + [f"{r['prefill_tok_s'][str(n)]:.1f}" for n in prompts]
                    + [f"{r['decode_s']:.3f}", f"{r['decode_cpu_s']:.3f}", f"{r['peak_rss_gb']:.2f}", f"{r['peak_anon_gb']:.2f}"])
    by_side = {r["side"]: r for r in results}
    if len(by_side) == 2:
        m, t = by_side["minimistral"], by_side["torch"]
        rows.append(["ratio minimistral/torch", f"{m['load_s'] / t['load_s']:.2f}"]
                    + [f"{m['prefill_tok_s'][str(n)] / t['prefill_tok_s'][str(n)]:.2f}" for n in prompts]
                    + [f"{m['decode_s'] / t['decode_s']:.2f}", f"{m['decode_cpu_s'] / t['decode_cpu_s']:.2f}", "", ""])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def plot(results: list[dict], prompts: list[int], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
    width = 0.8 / len(results)
    for k, r in enumerate(results):
        xs = [i + k * width for i in range(len(prompts))]
        ax1.bar(xs, [r["prefill_tok_s"][str(n)] for n in prompts], width, label=r["side"])
        ax2.bar([k], [r["decode_s"]], 0.6, label=r["side"])
    ax1.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(prompts))],
                   [f"{n}-token prompt" for n in prompts])
    ax1.set_ylabel("pre-fill tokens/s (higher is better)")
    ax2.set_xticks(range(len(results)), [r["side"] for r in results])
    ax2.set_ylabel("decode s/token (lower is better)")
    ax1.legend()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="checkpoint directory (HF layout)")
    ap.add_argument("--sides", nargs="+", default=["minimistral", "torch"], choices=list(SIDES))
    ap.add_argument("--prompts", nargs="+", type=int, default=[128, 512], help="pre-fill prompt lengths")
    ap.add_argument("--decode", type=int, default=16, help="decode steps (median reported)")
    ap.add_argument("--repeats", type=int, default=3, help="pre-fill runs per prompt length (median)")
    ap.add_argument("--window", action="store_true",
                    help="minimistral only: also decode with a cache holding a full window W (memory, speed)")
    ap.add_argument("--plot", type=Path, default=None, help="write a bar chart (PNG) here")
    ap.add_argument("--json", type=Path, default=None, help="append the raw numbers to this file")
    ap.add_argument("--worker", choices=list(SIDES), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        worker(a.worker, str(a.model))
        return
    if not (a.model / "config.json").exists():
        raise SystemExit(f"{a.model} has no config.json; run benchmarks/make_synthetic.py first.")
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = measure(a)
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS") if k in os.environ}
    print(f"{date}; {machine()}; model {a.model.name}; env {env or 'default'}")
    print(f"command: python {' '.join(sys.argv)}")
    print(table(results, a.prompts))
    for r in results:
        if "decode_at_window_s" in r:
            print(f"{r['side']}: decode at a full window W: {r['decode_at_window_s']:.3f} s/token")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"date": date, "machine": machine(), "model": str(a.model), "env": env,
                                "results": results}) + "\n")
    if a.plot:
        plot(results, a.prompts, a.plot, f"{a.model.name}, {machine()}, {date}")


if __name__ == "__main__":
    main()
