"""Figures of what attention does and costs: SWA's measured cost, the measured reach of trained
SWA stacks, and attention maps of a trained model. Same contract as figures.py: each function
returns (figure, data), built with matplotlib.figure.Figure (no pyplot).

The measured figures are drawn from the cached results the benchmark scripts write
(benchmarks/swa_cost.json, benchmarks/reach.json); they are redrawn, not re-measured, by
``minimistral figures``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .errors import MinimistralError
from .figures import FONT

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SWA_COST_JSON = BENCHMARKS / "swa_cost.json"
REACH_JSON = BENCHMARKS / "reach.json"
PAPER_SPEEDUP = 2.0          # paper section 2: 2x over vanilla attention at 16K tokens, W = 4096


def load_results(path: Path, command: str) -> dict:
    """The cached JSON a benchmark wrote, or a clear error naming the command that writes it."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise MinimistralError(f"{path} is missing: run `{command}` from the repository "
                               f"to measure it.") from None


# ---- SWA's compute cost (paper section 2) ------------------------------------------------------

def fig_swa_cost(path: Path = SWA_COST_JSON):
    """Attention FLOPs, measured time, their ratio and score memory vs T: causal vs W = 4096.

    data: the cached results (rows of T with "causal" and "swa" entries; see bench_swa_cost.py).
    """
    res = load_results(path, "flock /tmp/minimistral-heavy.lock python benchmarks/bench_swa_cost.py")
    rows, W = res["rows"], res["window"]
    T = np.array([r["T"] for r in rows])                                        # [n]
    get = lambda kind, key: np.array([r[kind][key] for r in rows], dtype=np.float64)   # noqa: E731
    fig = Figure(figsize=(15, 10), layout="constrained")
    (ax_f, ax_t), (ax_r, ax_m) = fig.subplots(2, 2)
    styles = {"causal": dict(color="C3", marker="o", label="vanilla causal"),
              "swa": dict(color="C0", marker="s", label=f"sliding window W = {W}")}

    for kind, st in styles.items():
        ax_f.plot(T, get(kind, "flops") / 1e12, **st)
        ax_t.plot(T, get(kind, "cpu_s"), **st)
    ax_f.set_ylabel("TFLOP per layer (q.k and p v)", fontsize=FONT)
    ax_f.set_title("Counted: the curves part at T = W", fontsize=FONT)
    ax_t.set_ylabel("CPU seconds per layer (NumPy, 1 thread)", fontsize=FONT)
    ax_t.set_title(f"Measured: one layer, {res['n_heads']} query heads on {res['n_kv_heads']} kv heads, "
                   f"Hd = {res['head_dim']}", fontsize=FONT - 2)

    flop_ratio = np.array([r["flop_ratio"] for r in rows])
    time_ratio = np.array([r["time_ratio"] for r in rows])
    ax_r.plot(T, flop_ratio, color="k", marker="^", label="FLOP ratio (counted)")
    ax_r.plot(T, time_ratio, color="C2", marker="D", label="time ratio (measured, NumPy)")
    ax_r.plot([16384], [PAPER_SPEEDUP], marker="*", markersize=20, color="C1", linestyle="none",
              label="paper: 2x at 16K (FlashAttention / xFormers)")
    ax_r.axhline(1.0, color="grey", linewidth=0.8)
    ax_r.set_ylabel("vanilla / SWA", fontsize=FONT)
    ax_r.set_title("Speed-up of SWA over vanilla causal attention", fontsize=FONT)

    for kind, st in styles.items():
        ax_m.plot(T, get(kind, "score_bytes_full") / 2 ** 30, **{**st, "label": st["label"] + ", whole"})
        ax_m.plot(T, get(kind, "score_bytes_block") / 2 ** 30,
                  **{**st, "linestyle": "--", "label": st["label"] + f", {res['block']} queries at a time"})
    for m in res.get("measured_block_memory", []):
        ax_m.plot([m["T"]], [m["causal_peak_block_bytes"] / 2 ** 30], "x", color="C3", markersize=10)
        ax_m.plot([m["T"]], [m["swa_peak_block_bytes"] / 2 ** 30], "x", color="C0", markersize=10)
    ax_m.plot([], [], "x", color="grey", label="measured peak of one block (tracemalloc, all temporaries)")
    ax_m.set_yscale("log")
    ax_m.set_ylabel("GiB of float32 scores per layer", fontsize=FONT)
    ax_m.set_title("Memory of the score matrix", fontsize=FONT)

    for ax in (ax_f, ax_t, ax_r, ax_m):
        ax.axvline(W, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("sequence length T (tokens)", fontsize=FONT)
        ax.legend(fontsize=FONT - 4)
        ax.grid(alpha=0.3)
    fig.suptitle(f"SWA's compute cost ({res['date']}, {res['machine']}; shared machine, CPU time, "
                 f"min of {res['repeats']} runs)", fontsize=FONT - 2)
    return fig, res


# ---- the measured reach of trained SWA stacks ------------------------------------------------------

def reach_curves(res: dict) -> dict:
    """{(W, k): (deltas [n], mean accuracy [n], every seed's accuracy [n, seeds])} from reach.json rows."""
    curves = {}
    for w, k in res["configs"]:
        rows = [r for r in res["rows"] if r["window"] == w and r["n_layers"] == k]
        deltas = np.array(sorted({r["delta"] for r in rows}))
        acc = [[r["accuracy"] for r in rows if r["delta"] == d] for d in deltas]
        curves[(w, k)] = (deltas, np.array([np.mean(a) for a in acc]), acc)
    return curves


def fig_reach_measured(path: Path = REACH_JSON):
    """Accuracy vs copy distance delta for each (W, k), its theoretical reach k (W - 1) marked.

    data: {(W, k): (deltas, mean accuracy, per-seed accuracies)} (reach_curves).
    """
    res = load_results(path, "flock /tmp/minimistral-heavy.lock python benchmarks/reach_experiment.py")
    curves = reach_curves(res)
    windowed = [c for c in curves if c[0] is not None]
    full = [c for c in curves if c[0] is None]
    ncols = 3
    nrows = -(-len(windowed) // ncols)
    fig = Figure(figsize=(16, 4.8 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=True)).ravel()
    for ax, (w, k) in zip(axes, windowed):
        deltas, mean, acc = curves[(w, k)]
        reach = k * (w - 1)
        for c in full:
            fd, fm, _ = curves[c]
            ax.plot(fd, fm, color="grey", marker=".", label=f"full attention, k = {c[1]}")
        ax.axvspan(reach + 0.5, max(deltas.max(), reach) + 1, color="C3", alpha=0.08)
        ax.axvline(reach, color="C3", linestyle="--", label=f"theory: k (W - 1) = {reach}")
        for d, a in zip(deltas, acc):
            ax.plot([d] * len(a), a, "o", color="C0", alpha=0.3, markersize=4)
        ax.plot(deltas, mean, color="C0", marker="o", label=f"measured, mean of {len(acc[0])} seeds")
        ax.axhline(res["chance"], color="k", linestyle=":", linewidth=1, label=f"chance 1/{res['vocab']}")
        ax.set_title(f"W = {w}, k = {k} layers", fontsize=FONT)
        ax.set_xlabel("copy distance delta (positions back)", fontsize=FONT - 2)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=FONT - 6, loc="center right")
    for ax in axes[::ncols]:
        ax.set_ylabel("held-out accuracy", fontsize=FONT - 2)
    for ax in axes[len(windowed):]:
        ax.set_visible(False)
    fig.suptitle(f"Does a trained SWA stack use its reach? Copy task, V = {res['vocab']}, "
                 f"{res['steps']} AdamW steps per model ({res['date']})", fontsize=FONT)
    return fig, curves


def all_attention_figures() -> dict:
    """file stem -> function for this module's figures whose cached data exist."""
    figs = {}
    if SWA_COST_JSON.exists():
        figs["swa_cost"] = fig_swa_cost
    if REACH_JSON.exists():
        figs["reach_measured"] = fig_reach_measured
    return figs


def write_all(out_dir="figures") -> list[Path]:
    """Draw this module's figures into out_dir/<name>.png; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)        # figures.write_all has made it, or failed
    written = []
    for name, make in all_attention_figures().items():
        fig, _ = make()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=100)
        written.append(path)
    return written
