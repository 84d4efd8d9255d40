"""Figures of a trained model's attention: every head's map, heads that share a kv head (GQA),
what each head looks at, and what happens once <s> leaves the sliding window. Same contract as
figures.py: each function returns (figure, data), built with matplotlib.figure.Figure (no pyplot).

The figures of the two experiments (SWA's cost, the measured reach) are in figures_experiments.py;
``all_attention_figures`` and ``write_all`` here draw those too, so ``minimistral figures`` has
one path for everything after the paper's figures.

    figure, maps = fig_attention_heads(model, ids)      maps [L, H, T, T]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .figures import FONT
from .masks import sliding_window_mask


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
    oldest = sliding_window_mask(q, q, window).argmax(-1)                       # [T] first key allowed: q - W + 1
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
    even = 1 / sliding_window_mask(np.arange(T), np.arange(T), W).sum(-1)       # [T] 1 / keys a query sees
    for name, ax in (("<s>", a1), ("oldest in window", a2)):
        for l in range(L):
            ax.plot(np.arange(T), mass[name][l], label=f"layer {l}")
        ax.plot(np.arange(T), even, color="k", linestyle=":", label="even spread over the window")
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
    """file stem -> function for the figures drawn after the paper's whose data exist: this module's
    (the shipped model) and figures_experiments.py's (cached JSON)."""
    from . import DEFAULT_MODEL
    from .figures_experiments import all_experiment_figures

    figs = {}
    if (DEFAULT_MODEL / "model.safetensors").exists():
        figs["attention_heads"] = _on_default(fig_attention_heads)
        figs["attention_gqa_groups"] = _on_default(fig_gqa_sharing)
        figs["attention_head_roles"] = _on_default(fig_head_roles)
        figs["attention_bos_leaves_window"] = _on_default(fig_bos_leaves_window, max_tokens=100)
    figs.update(all_experiment_figures())
    return figs


def write_all(out_dir="figures") -> list[Path]:
    """Draw all_attention_figures() into out_dir/<name>.png; returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)        # figures.write_all has made it, or failed
    written = []
    for name, make in all_attention_figures().items():
        fig, _ = make()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=100)
        written.append(path)
    return written
