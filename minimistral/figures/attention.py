"""Figures of a trained model's attention: every head's map, heads that share a kv head (GQA),
what each head looks at, and what happens once <s> leaves the sliding window. Same contract as
the other figure modules: each function returns (figure, data), built with
matplotlib.figure.Figure (no pyplot). The measurements they draw are in analysis/heads.py.

    figure, maps = fig_attention_heads(model, ids)      maps [L, H, T, T]
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..analysis.heads import (
    bos_mass,
    group_similarity,
    head_scores,
    head_similarity,
    subject_keys,
)
from ..errors import MinimistralError
from ..gqa import kv_head_of
from ..guards.values import whole_number
from ..masks import sliding_window_mask
from .style import FONT


def checked_layer(layer, model) -> int | None:
    """None (choose one) or a layer of the model: a whole number in [0, L - 1] (-1 is not the last)."""
    L = model.args.n_layers
    return None if layer is None else whole_number(layer, "layer", 0, maximum=L - 1,
                                                   hint=f" (the model has {L} layers)")

# ---- attention maps of a (trained) model -------------------------------------------------------------


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


def fig_gqa_sharing(model, ids, layer: int | None = None, show: int = 48):
    """One layer's query heads grouped by the kv head they share, and how alike their maps are.

    layer None: the layer where heads of one group are most alike compared with other groups.
    The maps drawn are the first ``show`` tokens; the correlations use all of them.
    data: {"similarity": [H, H], "within", "across" (mean correlations), "layer", "per_layer"}.
    """
    layer, show = checked_layer(layer, model), whole_number(show, "show", 1, "tokens")
    all_maps = model.attention_maps(ids)                                        # [L, H, T, T]
    per_layer = group_similarity(all_maps, model.args.n_kv_heads, model.args.sliding_window)
    if layer is None:
        differences = [w - a for w, a in per_layer]
        if np.isnan(differences).all():         # MHA or MQA (no pairs to compare), or too few tokens
            raise MinimistralError(f"no layer's heads can be compared within and across kv groups (H = "
                                   f"{model.args.n_heads}, K = {model.args.n_kv_heads}, {all_maps.shape[2]} "
                                   f"tokens); pass layer= and a longer text.")
        layer = int(np.nanargmax(differences))
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
    maps = model.attention_maps(ids)                                            # [L, H, T, T]
    special = {} if subject is None else {f"subject ({subject})": subject_keys(model.tokenizer, ids, subject)}
    if subject is not None and not special[f"subject ({subject})"].any():
        raise MinimistralError(f"the subject {subject!r} does not occur in the text; pass a word of it "
                               f"(its panel would be all zeros).")
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


def fig_bos_leaves_window(model, prompt_ids, max_tokens: int = 60, layer: int | None = None):
    """A long greedy generation through the rolling buffer: what happens once <s> leaves the window.

    data: {"ids": [T], "maps": [L, H, T, T] (traced, on absolute positions), "mass": bos_mass}.
    """
    from ..attention_maps import traced_generate

    W, layer = model.args.sliding_window, checked_layer(layer, model)
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

    from ..training.corpus import stories

    model = minimistral.load_default()
    text = stories(STORY[0], STORY[1])[STORY[2]]
    hero = text.split(" called ")[1].split()[0] if " called " in text else text.split()[0]
    return model, model.tokenizer.encode(text), hero


