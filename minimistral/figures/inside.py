"""Figures of what happens inside a model on one text: one attention map with the tokens on both
axes, and the logit lens as a grid of layers by positions. Same contract as the other figure
modules: each function returns (figure, data), built with matplotlib.figure.Figure (no pyplot).
The measurements are in attention_maps.py and analysis/logit_lens.py. These figures
are drawn in notebooks (notebooks/12_inside_the_model.ipynb), not committed to figures/.

    figure, m = fig_attention_tokens(model, ids, layer=1, head=3)     m [T, T]
    figure, reading = fig_logit_lens(model, ids)                      reading: LensReading
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..analysis.logit_lens import logit_lens
from ..errors import MinimistralError
from ..guards.values import check_tokens, whole_number
from .attention import checked_layer
from .style import FONT

# Cells are labelled with their numbers (maps) up to this many tokens; beyond, colour only.
MAX_ANNOTATED = 24


def piece_labels(tokenizer, ids) -> list[str]:
    """Each id's vocabulary piece as it is: '▁the' (a space, then 'the'), 'the', '<0x0A>', '<s>'."""
    if tokenizer is None:
        return [str(int(i)) for i in ids]
    return [tokenizer.piece(int(i)) for i in ids]


def fig_attention_tokens(model, ids, layer: int, head: int | None = None):
    """One layer's attention probabilities, query (rows) by key (columns), each axis labelled
    with the token pieces; one head, or the mean of the layer's heads (head None).

    data: float32 [T, T], the map drawn (rows sum to 1).
    """
    layer = checked_layer(layer, model)
    if layer is None:
        raise MinimistralError("fig_attention_tokens needs a layer, e.g. layer=0.")
    H = model.args.n_heads
    if head is not None:
        head = whole_number(head, "head", 0, maximum=H - 1, hint=f" (the model has {H} heads)")
    ids = check_tokens(ids, model.args.vocab_size)
    maps = model.attention_maps(ids)[layer]                                     # [H, T, T]
    m = (maps.mean(0, dtype=np.float32) if head is None else maps[head]).astype(np.float32)
    T, labels = len(ids), piece_labels(model.tokenizer, ids)
    size = max(4.0, 0.36 * T + 1.5)
    fig = Figure(figsize=(size + 1.2, size), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    if T <= MAX_ANNOTATED:
        for (q, k), value in np.ndenumerate(m):
            if value >= 0.005:
                ax.text(k, q, f"{value:.2f}"[1:] if value < 1 else "1", ha="center", va="center",
                        fontsize=7, color="k" if value > 0.6 else "w")
    W = model.args.sliding_window
    if W is not None and W < T:
        edge = np.arange(-0.5, T + 0.5)
        ax.plot(edge, edge + W, color="w", linewidth=0.8, linestyle="--")       # oldest key: q - W + 1
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_ylim(T - 0.5, -0.5)
    ax.set_xticks(range(T), labels, fontsize=FONT - 5, rotation=90)
    ax.set_yticks(range(T), labels, fontsize=FONT - 5)
    ax.set_xlabel("key (what is read)", fontsize=FONT - 3)
    ax.set_ylabel("query (who reads)", fontsize=FONT - 3)
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    fig.colorbar(im, ax=ax, shrink=0.7, label="attention probability")
    who = f"head {head}" if head is not None else f"mean of the {H} heads"
    ax.set_title(f"Layer {layer}, {who}: each row is one query's weights over the keys", fontsize=FONT - 2)
    return fig, m


def fig_logit_lens(model, ids):
    """The logit lens (analysis/logit_lens.py) on a text: a row per stage (embedding at the bottom,
    the last layer, i.e. the model's output, at the top), a column per position. Each cell holds
    the most likely next token read at that stage, coloured by its probability; bold where it is
    the token that actually comes next in the text (labelled along the top).

    data: the LensReading of the whole text (k = 5, no target).
    """
    ids = check_tokens(ids, model.args.vocab_size)
    T = len(ids)
    whole = logit_lens(model, ids, k=5)
    S = len(whole.stages)
    top, p = whole.top_ids[..., 0], whole.top_probs[..., 0]                     # [S, T]
    tok = model.tokenizer
    fig = Figure(figsize=(max(6.0, 0.95 * T + 2.5), max(3.0, 0.55 * S + 1.8)), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(p, cmap="viridis", vmin=0, vmax=1, origin="lower", aspect="auto", interpolation="nearest")
    for (s, t), tid in np.ndenumerate(top):
        hit = t < T - 1 and tid == ids[t + 1]
        ax.text(t, s, piece_labels(tok, [tid])[0], ha="center", va="center", fontsize=FONT - 6,
                color="k" if p[s, t] > 0.6 else "w", fontweight="bold" if hit else "normal")
    ax.set_yticks(range(S), whole.stages, fontsize=FONT - 4)
    ax.set_xticks(range(T), piece_labels(tok, ids), fontsize=FONT - 5, rotation=90)
    ax.set_xlabel("input token at each position", fontsize=FONT - 3)
    top_axis = ax.secondary_xaxis("top")
    top_axis.set_xticks(range(T), piece_labels(tok, ids[1:]) + [""], fontsize=FONT - 5, rotation=90)
    top_axis.set_xlabel("the token that comes next in the text", fontsize=FONT - 3)
    fig.colorbar(im, ax=ax, shrink=0.8, label="probability of the token shown")
    ax.set_title("Logit lens: each stage's residual stream through the final norm and output layer "
                 "(bold: the next token)", fontsize=FONT - 2)
    return fig, whole
