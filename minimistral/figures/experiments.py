"""Figures of the experiments, redrawn from the cached results their benchmark scripts write:
SWA's measured compute cost (data/experiments/swa_cost.json), the measured reach of trained
SWA stacks (data/experiments/reach.json) and the ablations of the shipped recipe
(data/experiments/ablations.json), written there by benchmarks/bench_swa_cost.py,
benchmarks/reach_experiment.py and benchmarks/ablations.py and shipped in the package. ``minimistral figures`` redraws them; it does not re-measure.
Same contract as the other figure modules: each function returns (figure, data), built with
matplotlib.figure.Figure (no pyplot).

    figure, curves = fig_reach_measured()    curves[(W, k)] = (deltas, mean accuracy, per seed)
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..errors import MinimistralError
from ..receptive_field import theory_reach
from .style import FONT

RESULTS = Path(__file__).resolve().parent.parent / "data" / "experiments"   # shipped in the package
SWA_COST_JSON = RESULTS / "swa_cost.json"
SWA_COST_BIG_BLOCKS_JSON = RESULTS / "swa_cost_block256.json"   # the first run: arrays > 32 MB
REACH_JSON = RESULTS / "reach.json"
PAPER_SPEEDUP = 2.0          # paper section 2: 2x over vanilla attention at 16K tokens, W = 4096


def load_results(path: Path, command: str) -> dict:
    """The cached JSON a benchmark wrote, or a clear error naming the command that writes it."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise MinimistralError(f"{path} is missing: run `{command}` from the repository "
                               f"to measure it.") from None


# ---- SWA's compute cost (paper section 2) ------------------------------------------------------

def fig_swa_cost(path: Path = SWA_COST_JSON, big_blocks: Path | None = SWA_COST_BIG_BLOCKS_JSON):
    """Attention FLOPs, measured time, their ratio and score memory vs T: causal vs W = 4096.

    data: the cached results (rows of T with "causal" and "swa" entries; see bench_swa_cost.py).
    ``big_blocks``, if it exists, is a run with larger query blocks whose time ratio is drawn too.
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
    ax_r.plot(T, time_ratio, color="C2", marker="D",
              label=f"time ratio (measured, NumPy, {res['block']} queries per block)")
    if big_blocks is not None and Path(big_blocks).exists():
        big = json.loads(Path(big_blocks).read_text())
        ax_r.plot([r["T"] for r in big["rows"]], [r["time_ratio"] for r in big["rows"]], color="grey",
                  marker="D", alpha=0.6, label=f"same, {big['block']} queries per block (causal arrays "
                                               f"> 32 MB from 8K on: page faults)")
    ax_r.plot([16384], [PAPER_SPEEDUP], marker="*", markersize=20, color="C1", linestyle="none",
              label="paper: 2x at 16K (FlashAttention / xFormers)")
    ax_r.axhline(1.0, color="grey", linewidth=0.8)
    at16 = [r for r in rows if r["T"] == 16384]
    if at16:
        ax_r.text(0.03, 0.62, f"at T = 16384:\n  counted {at16[0]['flop_ratio']:.2f}x\n  measured "
                  f"{at16[0]['time_ratio']:.2f}x\n  paper 2x (GPU kernels)", transform=ax_r.transAxes,
                  fontsize=FONT - 3, va="top")
    ax_r.set_ylabel("vanilla / SWA", fontsize=FONT)
    ax_r.set_title("Speed-up of SWA over vanilla causal attention", fontsize=FONT)

    for kind, st in styles.items():
        ax_m.plot(T, get(kind, "score_bytes_full") / 2 ** 30, **{**st, "label": st["label"] + ", whole"})
        ax_m.plot(T, get(kind, "score_bytes_block") / 2 ** 30,
                  **{**st, "linestyle": "--", "label": st["label"] + f", {res['block']} queries at a time"})
    for m in res.get("measured_block_memory", []):
        ax_m.plot([m["T"]], [m["causal_peak_block_bytes"] / 2 ** 30], "x", color="C3", markersize=10)
        ax_m.plot([m["T"]], [m["swa_peak_block_bytes"] / 2 ** 30], "x", color="C0", markersize=10)
    ax_m.plot([], [], "x", color="grey", label="measured peak of the widest block, all temporaries (tracemalloc)")
    ax_m.set_yscale("log")
    ax_m.set_ylim(bottom=1e-3)                   # room for the legend below the curves
    ax_m.set_ylabel("GiB of float32 scores per layer", fontsize=FONT)
    ax_m.set_title("Memory of the score matrix", fontsize=FONT)

    for ax in (ax_f, ax_t, ax_r, ax_m):
        ax.axvline(W, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("sequence length T (tokens)", fontsize=FONT)
        ax.legend(fontsize=FONT - 4, loc="lower right" if ax is ax_m else "best")
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
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, (w, k) in zip(axes, windowed):
        deltas, mean, acc = curves[(w, k)]
        reach = theory_reach(w, k)                                              # k (W - 1)
        for c in full:
            fd, fm, _ = curves[c]
            ax.plot(fd, fm, color="grey", marker=".", label=f"full attention, k = {c[1]}")
        ax.axvspan(reach + 0.5, max(deltas.max(), reach) + 1, color="C3", alpha=0.08)
        ax.axvline(reach, color="C3", linestyle="--", label=f"theory: k (W - 1) = {reach}")
        for d, a in zip(deltas, acc):
            ax.plot([d] * len(a), a, "o", color="C0", alpha=0.3, markersize=4)
        n_seeds = len(acc[0])
        ax.plot(deltas, mean, color="C0", marker="o",
                label="measured (one model per point)" if n_seeds == 1 else f"measured, mean of {n_seeds} seeds")
        ax.axhline(res["chance"], color="k", linestyle=":", linewidth=1, label=f"chance 1/{res['vocab']}")
        ax.set_title(f"W = {w}, k = {k} layers", fontsize=FONT)
        ax.set_xlabel("copy distance delta (positions back)", fontsize=FONT - 2)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=FONT - 6, loc="center right")
    for ax in axes[:len(windowed)][::ncols]:
        ax.set_ylabel("held-out accuracy", fontsize=FONT - 2)
    rest = list(axes[len(windowed):])
    if rest:                                      # summary: farthest distance learnt vs theory
        ax = rest.pop(0)
        theory = [theory_reach(w, k) for w, k in windowed]
        learnt = [max([d for d, m in zip(*curves[c][:2]) if m > 0.5], default=0) for c in windowed]
        top = max(theory + learnt) + 2
        ax.plot([0, top], [0, top], color="C3", linestyle="--", label="theory: k (W - 1)")
        ax.set_xlim(0, top + 3)
        ax.set_ylim(0, top)
        for (w, k), t, m in zip(windowed, theory, learnt):
            ax.plot(t, m, "o", color="C0", markersize=9)
            ax.annotate(f"W={w}, k={k}", (t, m), textcoords="offset points", xytext=(6, -12), fontsize=FONT - 5)
        ax.set_xlabel("theoretical reach k (W - 1)", fontsize=FONT - 2)
        ax.set_ylabel("farthest distance learnt (accuracy > 0.5)", fontsize=FONT - 3)
        ax.set_title("Measured limit vs theory", fontsize=FONT)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=FONT - 5)
    for ax in rest:
        ax.set_visible(False)
    fig.suptitle(f"Does a trained SWA stack use its reach? Copy task, V = {res['vocab']}, "
                 f"{res['steps']} AdamW steps per model ({res['date']})", fontsize=FONT)
    return fig, curves


# ---- ablations of the shipped recipe ----------------------------------------------------------------

ABLATIONS_JSON = RESULTS / "ablations.json"
ABLATION_PANELS = [   # (row key, axis label, scale)
    ("heldout_ce", "held-out stories\n(nats per token, lower is better)", 1.0),
    ("passages_ce", "hand-written passages\n(nats per token)", 1.0),
    ("train_tokens_per_s", "training\n(thousand tokens/s, 1 thread)", 1e-3),
    ("decode_tokens_per_s", "decode after 512 tokens\n(tokens/s, bf16, 1 thread)", 1.0),
    ("kv_cache_bytes_at_4096", "KV cache after 4096 tokens\n(KiB, float32)", 1 / 1024),
]


def ablation_value(row: dict, key: str) -> float:
    """One number of one run: passages_ce is nested in the run's handwritten_ce."""
    return row["handwritten_ce"]["passages"] if key == "passages_ce" else row[key]


def fig_ablations(path: Path = ABLATIONS_JSON, steps: int | None = None):
    """One row per design choice (window, kv heads, layers), one column per measurement; a dot per
    seed, a bar at their mean. ``steps`` picks the budget (default: the largest one in the file).

    data: {group: {variant: {key: [one value per seed]}}}.
    """
    res = load_results(path, "flock /tmp/minimistral-heavy.lock python benchmarks/ablations.py --seeds 0 1")
    steps = steps or max(r["steps"] for r in res["runs"])
    runs = [r for r in res["runs"] if r["steps"] == steps]
    groups = res["groups"]
    fig = Figure(figsize=(18, 3.3 * len(groups)), layout="constrained")
    axes = fig.subplots(len(groups), len(ABLATION_PANELS), squeeze=False)
    data = {}
    for i, (group, variants) in enumerate(groups.items()):
        data[group] = {}
        for v in variants:
            sel = sorted((r for r in runs if r["variant"] == v), key=lambda r: r["seed"])
            data[group][v] = {key: [ablation_value(r, key) for r in sel] for key, _, _ in ABLATION_PANELS}
        for j, (key, label, scale) in enumerate(ABLATION_PANELS):
            ax = axes[i, j]
            for x, v in enumerate(variants):
                vals = np.array(data[group][v][key], dtype=np.float64) * scale
                if len(vals) == 0:
                    continue
                ax.bar(x, vals.mean(), 0.6, color="C1" if v == "recipe" else "C0", alpha=0.5)
                ax.plot([x] * len(vals), vals, "o", color="k", markersize=4)
            ax.set_xticks(range(len(variants)), variants, fontsize=FONT - 4)
            if key.startswith("kv_"):
                ax.set_yscale("log")                     # a window caps the cache: orders of magnitude
            elif key.endswith("_ce"):
                lows = [min(data[group][v][key]) for v in variants if data[group][v][key]]
                if lows:
                    ax.set_ylim(bottom=0.95 * min(lows))
            if i == 0:
                ax.set_title(label, fontsize=FONT - 3)
            ax.grid(alpha=0.3, axis="y")
        axes[i, 0].set_ylabel(group.replace("_", " "), fontsize=FONT)
    tokens = runs[0]["tokens"] if runs else 0
    fig.suptitle(f"The shipped recipe with one change at a time: {steps} steps ({tokens / 1e6:.1f} M tokens) "
                 f"each, a dot per seed ({res['date']}; recipe in orange)", fontsize=FONT - 1)
    return fig, data
