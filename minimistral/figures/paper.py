"""The paper's figures, redrawn from what the modules really compute (``minimistral figures``).

Every function returns ``(figure, data)``: a matplotlib Figure and the matrix it draws, so the
tests can check the drawing against the paper's grids (docs/mistral-7b.md §3). Nothing here
computes a mask, a reach or a slot by itself: masks come from masks.py (the function the
attention calls), reach from receptive_field.py, slots from a real RollingBufferCache.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot), so writing PNGs needs no
display and does not touch a notebook's backend.

    figure, grid = fig_masks()       grid["sliding window"] is the 5x5 0/1 matrix of Fig. 1
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..masks import causal_mask, sliding_window_mask
from ..receptive_field import reach_matrix, reach_per_layer, theory_reach
from .style import FIG1_TEXT, FONT, ORANGE, YELLOW, draw_grid, token_labels

# ---- Fig. 1, left and middle: vanilla vs sliding-window attention -------------------------------


def fig_masks(text: str = FIG1_TEXT, window: int = 3, n_layers: int = 1):
    """Fig. 1 left and middle: causal and sliding-window masks over the sentence's tokens.

    n_layers > 1 draws, on the right, which inputs each position sees after that many layers
    (the mask composed n_layers times, receptive_field.reach_matrix) instead of the mask.
    """
    labels = token_labels(text)
    pos = np.arange(len(labels))
    window_grid = (sliding_window_mask(pos, pos, window) if n_layers == 1     # what the model calls
                   else reach_matrix(len(labels), window, n_layers))
    grids = {"vanilla": causal_mask(len(labels)), "sliding window": window_grid}
    fig = Figure(figsize=(12, 6.2), layout="constrained")
    axes = fig.subplots(1, 2)
    draw_grid(axes[0], grids["vanilla"], labels, labels, "Vanilla attention")
    draw_grid(axes[1], grids["sliding window"], labels, labels,
              f"Sliding window attention (W = {window})" if n_layers == 1 else
              f"Sliding window (W = {window}) after {n_layers} layers")
    for ax in axes:
        ax.set_ylabel("query (token attending)", fontsize=FONT)
        ax.set_xlabel("key (token attended to)", fontsize=FONT)
    fig.suptitle("Which keys each query may attend to (1 = attended). Tokens from the real "
                 "tokenizer, no <s>, as in the paper's Fig. 1", fontsize=FONT)
    return fig, grids


# ---- Fig. 1, right: the effective context length ------------------------------------------------

def fig_receptive_field(n_tokens: int = 10, window: int = 3, n_layers: int = 4):
    """Fig. 1 right: layers x tokens; the boxes the last token of the top layer depends on.

    data [n_layers + 1, T] bool: row k is the residual stream after k layers (row 0 = inputs);
    a box is True when it can influence the top layer's last token. Row k is the last row of
    the mask composed (n_layers - k) times, so the reach grows by W - 1 per layer down.
    """
    t = n_tokens - 1
    cone = np.stack([reach_matrix(n_tokens, window, n_layers - k)[t] for k in range(n_layers + 1)])
    fig = Figure(figsize=(12, 6), layout="constrained")
    ax = fig.subplots()
    for (k, s), inside in np.ndenumerate(cone):
        color = YELLOW if inside else "#EEEEEE"
        if k == n_layers and s == t:
            color = ORANGE
        ax.add_patch(_box(s, k, color))
    # Lines of reach: from each box of the frontier to the W boxes it reads in the layer below.
    for k in range(n_layers, 0, -1):
        lo = t - (n_layers - k) * (window - 1)
        for s in range(max(lo - window + 1, 0), lo + 1):
            ax.plot([lo, s], [k - 0.3, k - 0.7], color="0.35", linewidth=1.2)
    ax.plot([t, t - n_layers * (window - 1)], [n_layers, 0], "--", color="#B03A2E", linewidth=2,
            label=f"reach: {n_layers} layers x (W - 1) = {theory_reach(window, n_layers)} tokens back")
    # The window bracket under the inputs: the W keys one query reads.
    left, right = t - window + 1, t
    ax.annotate("", xy=(left - 0.4, -0.75), xytext=(right + 0.4, -0.75),
                arrowprops=dict(arrowstyle="|-|", color="black", linewidth=1.5))
    ax.text((left + right) / 2, -1.15, f"window size W = {window}", ha="center", fontsize=FONT)
    ax.set_xlim(-0.7, n_tokens - 0.3)
    ax.set_ylim(-1.5, n_layers + 0.6)
    ax.set_xticks(range(n_tokens), [str(i) for i in range(n_tokens)], fontsize=FONT)
    ax.set_yticks(range(n_layers + 1), ["input"] + [f"layer {k}" for k in range(1, n_layers + 1)],
                  fontsize=FONT)
    ax.set_xlabel("token position", fontsize=FONT)
    ax.legend(loc="lower left", fontsize=FONT - 1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title("Effective context length: after k layers, information moves forward by up to "
                 "k x (W - 1) tokens", fontsize=FONT + 1)
    return fig, cone


def _box(x, y, color):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x - 0.3, y - 0.3), 0.6, 0.6, boxstyle="round,pad=0.02",
                          facecolor=color, edgecolor="0.3", linewidth=1)


def fig_reach_vs_layer(window: int = 4096, n_layers: int = 32):
    """How far back the last token sees after each layer of the 7B: 131,040 tokens after 32.

    data int [n_layers + 1]: reach after 0..n_layers layers, by composing the model's mask.
    Left, the reach on the scale of the paper's 131K; right, what the two readings of the window
    differ by, k tokens after k layers, which the left panel's scale cannot show.
    """
    reach = reach_per_layer(window, n_layers)
    prose = reach_per_layer(window + 1, n_layers)     # the same mask function, W + 1 keys per query
    layers = np.arange(n_layers + 1)
    fig = Figure(figsize=(15, 6), layout="constrained")
    ax, diff = fig.subplots(1, 2, width_ratios=[1.6, 1])
    ax.plot(layers, reach, "o-", color="#B03A2E", label=f"composed masks: k x (W - 1), W = {window}")
    ax.plot(layers, prose, ":", color="0.4", linewidth=2,
            label="the paper's k x W (W + 1 keys), hidden under it")
    ax.axhline(8192, color="#2471A3", linestyle="--", label="context length 8192 (Table 1)")
    ax.annotate(f"{reach[-1]:,} tokens\n(paper: \"approximately 131K\",\nk x W = {n_layers * window:,})",
                xy=(n_layers, reach[-1]), xytext=(n_layers * 0.6, reach[-1] * 0.3), fontsize=FONT,
                arrowprops=dict(arrowstyle="->"))
    ax.set_xlabel("number of attention layers k", fontsize=FONT)
    ax.set_ylabel("tokens back the last token can see", fontsize=FONT)
    ax.tick_params(labelsize=FONT - 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:.0f}K")
    ax.legend(fontsize=FONT - 1, loc="upper left")
    ax.grid(alpha=0.3)
    ax.set_title(f"Receptive field of sliding window attention, W = {window}, {n_layers} layers",
                 fontsize=FONT + 1)
    diff.bar(layers, prose - reach, color="0.55", edgecolor="0.3")
    diff.set_xlabel("number of attention layers k", fontsize=FONT)
    diff.set_ylabel("k x W  minus  k x (W - 1), tokens", fontsize=FONT)
    diff.tick_params(labelsize=FONT - 1)
    diff.grid(alpha=0.3, axis="y")
    diff.set_title(f"The off-by-one, magnified: {prose[-1] - reach[-1]} tokens after {n_layers} layers\n"
                   f"({prose[-1]:,} vs {reach[-1]:,}, invisible on the left)", fontsize=FONT)
    return fig, reach
