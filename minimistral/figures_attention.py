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
SWA_COST_BIG_BLOCKS_JSON = BENCHMARKS / "swa_cost_block256.json"   # the first run: arrays > 32 MB
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
        reach = k * (w - 1)
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
        theory = [k * (w - 1) for w, k in windowed]
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


# ---- attention maps of a (trained) model -------------------------------------------------------------

def subject_keys(tokenizer, ids, word: str) -> np.ndarray:
    """bool [T, T]: for every query, the keys holding one of word's tokens (e.g. a name)."""
    pieces = tokenizer.encode(word.strip(), bos=False)                        # 'Hugo' -> [id of '▁Hugo']
    ids = list(ids)
    hit = np.zeros(len(ids), dtype=bool)
    for s in range(len(ids) - len(pieces) + 1):
        if ids[s:s + len(pieces)] == pieces:
            hit[s:s + len(pieces)] = True
    return np.broadcast_to(hit[None, :], (len(ids), len(ids)))


def draw_map(ax, m: np.ndarray, window: int | None, title: str = "", labels=None) -> None:
    """One [T, T] probability map, square-root colour scale, the window band outlined."""
    from matplotlib.colors import PowerNorm

    T = m.shape[0]
    ax.imshow(m, cmap="viridis", norm=PowerNorm(0.5, vmin=0, vmax=1), interpolation="nearest")
    edge = np.arange(-0.5, T + 0.5)
    ax.plot(edge, edge, color="w", linewidth=0.8)                              # causal edge
    if window is not None and window < T:
        ax.plot(edge, edge + window, color="w", linewidth=0.8, linestyle="--")  # oldest key: q - W + 1
    ax.set_xlim(-0.5, T - 0.5)
    ax.set_ylim(T - 0.5, -0.5)
    ax.set_title(title, fontsize=FONT - 4)
    if labels is None:
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xticks(range(T), labels, fontsize=6, rotation=90)
        ax.set_yticks(range(T), labels, fontsize=6)


def fig_attention_heads(model, ids):
    """Every layer (rows) and head (columns): query (y) by key (x), the window band dashed.

    data: maps float32 [L, H, T, T] (model.attention_maps).
    """
    from .gqa import kv_head_of

    maps = model.attention_maps(ids)                                            # [L, H, T, T]
    L, H = maps.shape[:2]
    group = kv_head_of(H, model.args.n_kv_heads)
    fig = Figure(figsize=(2.1 * H, 2.2 * L), layout="constrained")
    axes = np.atleast_2d(fig.subplots(L, H))
    for l in range(L):
        for h in range(H):
            draw_map(axes[l, h], maps[l, h], model.args.sliding_window,
                     f"layer {l}, head {h} (kv {group[h]})")
    fig.suptitle(f"Attention probabilities of {L} layers x {H} heads over {maps.shape[2]} tokens "
                 f"(white: causal edge; dashed: oldest key of the window, W = {model.args.sliding_window})",
                 fontsize=FONT)
    return fig, maps


def head_similarity(maps_layer: np.ndarray, window: int | None) -> np.ndarray:
    """float32 [H, H]: how alike the heads' maps of one layer [H, T, T] are, beyond the mask.

    Every head shares the band and the first rows (query 0 can only read itself), which would
    make any two maps look alike; so each row's uniform spread over its allowed keys is taken
    away first, and the correlation is over the allowed entries of queries 1..T-1.
    """
    from .masks import sliding_window_mask

    H, T, _ = maps_layer.shape
    allowed = sliding_window_mask(np.arange(T), np.arange(T), window)          # [T, T]
    allowed[0] = False                                                          # query 0: no choice
    uniform = allowed / np.maximum(1, allowed.sum(-1, keepdims=True))           # [T, T]
    flat = (maps_layer - uniform)[:, allowed]                                   # [H, n allowed]
    return np.corrcoef(flat).astype(np.float32)


def group_similarity(model, maps: np.ndarray) -> list[tuple[float, float]]:
    """Per layer, (mean correlation of heads sharing a kv head, mean across groups); maps [L, H, T, T]."""
    from .gqa import kv_head_of

    group = kv_head_of(model.args.n_heads, model.args.n_kv_heads)
    same = group[:, None] == group[None, :]
    off = ~np.eye(len(group), dtype=bool)
    out = []
    for layer_maps in maps:
        sim = head_similarity(layer_maps, model.args.sliding_window)            # [H, H]
        within = float(sim[same & off].mean()) if (same & off).any() else float("nan")
        across = float(sim[~same].mean()) if (~same).any() else float("nan")
        out.append((within, across))
    return out


def fig_gqa_sharing(model, ids, layer: int | None = None, show: int = 48):
    """One layer's query heads grouped by the kv head they share, and how alike their maps are.

    layer None: the layer where heads of one group are most alike compared with other groups.
    The maps drawn are the first ``show`` tokens; the correlations use all of them.
    data: {"similarity": [H, H], "within", "across" (mean correlations), "layer", "per_layer"}.
    """
    from .gqa import kv_head_of

    all_maps = model.attention_maps(ids)                                        # [L, H, T, T]
    per_layer = group_similarity(model, all_maps)
    if layer is None:
        layer = int(np.nanargmax([w - a for w, a in per_layer]))
    maps = all_maps[layer]                                                      # [H, T, T]
    H, K = model.args.n_heads, model.args.n_kv_heads
    group = kv_head_of(H, K)
    sim = head_similarity(maps, model.args.sliding_window)                      # [H, H]
    within, across = per_layer[layer]
    G = H // K
    fig = Figure(figsize=(2.6 * G + 5, 2.6 * K), layout="constrained")
    grid = fig.add_gridspec(K, G + 2)
    for h in range(H):
        ax = fig.add_subplot(grid[group[h], h % G])
        draw_map(ax, maps[h, :show, :show], model.args.sliding_window, f"query head {h}")
        if h % G == 0:
            ax.set_ylabel(f"kv head {group[h]}", fontsize=FONT - 2)
    ax = fig.add_subplot(grid[:, G:])
    im = ax.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(H))
    ax.set_yticks(range(H))
    ax.set_title(f"correlation of the heads' maps (minus uniform)\nwithin a kv group {within:.2f}, "
                 f"across groups {across:.2f}",
                 fontsize=FONT - 2)
    fig.colorbar(im, ax=ax, shrink=0.6)
    fig.suptitle(f"Layer {layer}: query heads that share a kv head read the same keys and values, "
                 f"with their own queries", fontsize=FONT)
    return fig, {"similarity": sim, "within": within, "across": across, "layer": layer,
                 "per_layer": per_layer}


def fig_head_roles(model, ids, subject: str | None = None):
    """Mean attention of every (layer, head) on the previous token, itself, <s> and the subject.

    data: head_scores -> {name: float32 [L, H]}.
    """
    from .attention_maps import head_scores

    maps = model.attention_maps(ids)                                            # [L, H, T, T]
    special = {} if subject is None else {f"subject ({subject})": subject_keys(model.tokenizer, ids, subject)}
    scores = head_scores(maps, model.args.sliding_window, special)
    fig = Figure(figsize=(4.2 * len(scores), 3.8), layout="constrained")
    axes = fig.subplots(1, len(scores))
    for ax, (name, s) in zip(np.atleast_1d(axes), scores.items()):
        top = max(0.05, float(s.max()))
        ax.imshow(s, cmap="magma", vmin=0, vmax=top)
        for (l, h), value in np.ndenumerate(s):
            ax.text(h, l, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="k" if value > 0.6 * top else "w")
        ax.set_title(f"weight on {name}", fontsize=FONT - 2)
        ax.set_xlabel("head", fontsize=FONT - 4)
        ax.set_ylabel("layer", fontsize=FONT - 4)
    fig.suptitle(f"Which heads look where: mean weight over the queries that can see those keys "
                 f"({maps.shape[2]} tokens, W = {model.args.sliding_window})", fontsize=FONT)
    return fig, scores


def bos_mass(maps: np.ndarray, window: int) -> dict[str, np.ndarray]:
    """Per layer and query position, mean over heads: weight on <s> (key 0) and on the oldest key
    still in the window (q - W + 1): {"<s>": [L, T], "oldest in window": [L, T]}."""
    L, H, T, _ = maps.shape
    q = np.arange(T)
    oldest = np.maximum(0, q - window + 1)                                      # [T]
    return {"<s>": maps[:, :, q, 0].mean(1), "oldest in window": maps[:, :, q, oldest].mean(1)}


def fig_bos_leaves_window(model, prompt_ids, max_tokens: int = 60, layer: int | None = None):
    """A long greedy generation through the rolling buffer: what happens once <s> leaves the window.

    data: {"ids": [T], "maps": [L, H, T, T] (traced, on absolute positions), "mass": bos_mass}.
    """
    from .attention_maps import traced_generate

    W = model.args.sliding_window
    ids, trace = traced_generate(model, prompt_ids, max_tokens)
    maps = trace.maps()                                                         # [L, H, T, T]
    L, H, T, _ = maps.shape
    mass = bos_mass(maps, W if W is not None else T)
    if layer is None:                           # the layer whose heads weigh <s> most, early on
        layer = int(mass["<s>"][:, 1:min(T, W or T)].mean(1).argmax())
    fig = Figure(figsize=(17, 6), layout="constrained")
    a0, a1, a2 = fig.subplots(1, 3, width_ratios=[1.1, 1, 1])
    draw_map(a0, maps[layer].mean(0), W, f"layer {layer}, mean of the {H} heads, read from the buffer")
    a0.set_xlabel("key position", fontsize=FONT - 4)
    a0.set_ylabel("query position", fontsize=FONT - 4)
    for name, ax in (("<s>", a1), ("oldest in window", a2)):
        for l in range(L):
            ax.plot(np.arange(T), mass[name][l], label=f"layer {l}")
        ax.plot(np.arange(T), 1 / np.minimum(np.arange(T) + 1, W or T), color="k", linestyle=":",
                label="even spread over the window")
        if W is not None:
            ax.axvline(W - 0.5, color="k", linestyle="--", linewidth=1)
            ax.text(W, ax.get_ylim()[1] * 0.95, f" <s> leaves the window\n (query {W} = W)", fontsize=FONT - 5,
                    va="top")
        ax.set_xlabel("query position (prompt, then generated)", fontsize=FONT - 4)
        ax.set_ylabel(f"mean weight on {name}", fontsize=FONT - 4)
        ax.legend(fontsize=FONT - 6)
        ax.grid(alpha=0.3)
    a1.set_title("weight on <s> (key 0)", fontsize=FONT - 2)
    a2.set_title("weight on the oldest key still in the buffer (q - W + 1)", fontsize=FONT - 2)
    fig.suptitle(f"{len(prompt_ids)}-token prompt + {max_tokens} greedy tokens through the rolling "
                 f"buffer (W = {W})", fontsize=FONT)
    return fig, {"ids": ids, "maps": maps, "mass": mass, "layer": layer}


# The story the notebook and `minimistral figures` look at: held-out story 1 of corpus seed 0.
STORY = ("heldout", 2, 1)


def default_inputs():
    """(shipped model, ids of the held-out story, its hero's name) for the attention-map figures."""
    import minimistral
    from .corpus import stories

    model = minimistral.load_default()
    text = stories(STORY[0], STORY[1])[STORY[2]]
    hero = text.split(" called ")[1].split()[0] if " called " in text else text.split()[0]
    return model, model.tokenizer.encode(text), hero


def _on_default(make, **kwargs):
    def draw():
        model, ids, hero = default_inputs()
        extra = {"subject": hero} if make is fig_head_roles else {}
        if make is fig_bos_leaves_window:
            return make(model, ids[:12], **kwargs)
        if make is fig_attention_heads:
            return make(model, ids[:40])
        return make(model, ids, **kwargs, **extra)
    return draw


def all_attention_figures() -> dict:
    """file stem -> function for this module's figures whose data exist (cached JSON, shipped model)."""
    from . import DEFAULT_MODEL

    figs = {}
    if (DEFAULT_MODEL / "model.safetensors").exists():
        figs["attention_heads"] = _on_default(fig_attention_heads)
        figs["attention_gqa_groups"] = _on_default(fig_gqa_sharing)
        figs["attention_head_roles"] = _on_default(fig_head_roles)
        figs["attention_bos_leaves_window"] = _on_default(fig_bos_leaves_window, max_tokens=100)
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
