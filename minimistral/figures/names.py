"""Names carried past the window, on the shipped model: how often it copies a name by how far
back the name was said (Fig. 1's k (W - 1) on real text), and one name's relay through the
layers, drawn over the tokens like Fig. 1's right panel. Same contract as the other figure
modules: each function returns (figure, data), no pyplot.

    figure, data = fig_names_by_distance(model)        data["bins"]: (lo, hi, mentions, top-1)
    figure, data = fig_relay(model, ids, source, query)
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..analysis.trace import carrier_cut, cut_experiment, sentence_ends
from ..errors import MinimistralError
from ..training import corpus
from ..training.evaluate import name_recall
from .style import FONT, ORANGE, YELLOW

EDGES = (1, 9, 17, 25, 33, 49, 65, 97, 129, 161, 187, 225, 275, 400)


def fig_names_by_distance(model, n_stories: int = 60):
    """Top-1 (among the story's names) of every re-mention, binned by how far back it was said."""
    r = name_recall(model, n_stories)
    W, reach = r["window"], r["reach"]
    d = np.array([row[0] for row in r["by_distance"]])
    right = np.array([row[1] for row in r["by_distance"]], dtype=np.float64)
    bins = []
    for lo, hi in zip(EDGES[:-1], EDGES[1:]):
        sel = (d - 1 >= lo - 1) & (d - 1 < hi - 1)                              # the query reads d - 1 back
        if sel.sum() >= 5:
            bins.append((lo, hi, int(sel.sum()), float(right[sel].mean())))
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.subplots()
    mids = [(lo + hi) / 2 for lo, hi, _, _ in bins]
    ax.plot(mids, [b[3] for b in bins], "o-", color="tab:blue", label="names said again (top-1 among the story's names)")
    first = r["bands"]["first"]["top1"]
    ax.axhline(first, color="grey", linestyle=":", label=f"first mentions (nothing to copy): {first:.2f}")
    ax.axvline(W - 1, color="k", linestyle="--", linewidth=1)
    ax.axvline(reach, color="k", linestyle="--", linewidth=1)
    ax.text(W - 1, 1.02, f" W - 1 = {W - 1}", fontsize=FONT - 4, va="bottom")
    ax.text(reach, 1.02, f" k (W - 1) = {reach}", fontsize=FONT - 4, va="bottom")
    ax.axvspan(0, W - 1, color=YELLOW, alpha=0.35, lw=0)
    ax.axvspan(reach, EDGES[-1], color=ORANGE, alpha=0.25, lw=0)
    for (lo, hi, n, acc), x in zip(bins, mids):
        ax.text(x, acc - 0.06, str(n), ha="center", fontsize=FONT - 7, color="tab:blue")
    ax.set_ylim(0, 1.08)
    ax.set_xlim(0, EDGES[-1])
    ax.set_xlabel("tokens back to the name's previous mention (what the query must reach)", fontsize=FONT - 3)
    ax.set_ylabel("top-1 among the story's names", fontsize=FONT - 3)
    ax.legend(fontsize=FONT - 5, loc="lower left")
    ax.set_title(f"One window reaches W - 1 = {W - 1} tokens back; {model.args.n_layers} layers reach "
                 f"{reach} (paper section 2, Fig. 1). {r['stories']} held-out stories; "
                 f"counts under the points", fontsize=FONT - 3)
    return fig, {"bins": bins, "bands": r["bands"], "window": W, "reach": reach}


def default_retrieval(model, n_stories: int = 30):
    """(ids, source, query, target) of the first mid-band name the model gets right in held-out stories."""
    tok, W, k = model.tokenizer, model.args.sliding_window, model.args.n_layers
    for text in corpus.stories("heldout", n_stories):
        ids = np.array(tok.encode(text), dtype=np.int64)
        mentions = corpus.name_mentions(ids, tok, first=True)
        cast = sorted({int(ids[m.position]) for m in mentions})
        logits = model.forward(ids)
        for m in mentions:
            if m.distance and corpus.band(m.distance, W, k) == "mid" and m.distance > 2 * W and \
                    cast[int(np.argmax(logits[m.position - 1][cast]))] == ids[m.position]:
                return ids, m.position - m.distance, m.position - 1, int(ids[m.position])
    return None


def fig_relay(model, ids=None, source=None, query=None, target=None):
    """The relay of one name from its mention (source) to the query that says it again, layer by
    layer over the tokens (Fig. 1, right), and the causal check: the name's probability with
    nothing cut, with the relay cut, with as many other positions cut; for a model with a
    tokenizer also with the sentence ends in between cut at every layer, and as many others."""
    if ids is None:
        found = default_retrieval(model)
        if found is None:
            raise MinimistralError("the model gets no name right more than 2 W tokens after its mention "
                                   "in the held-out stories: there is no relay to draw (pass ids, source, "
                                   "query and target, e.g. from training.reach.relay_example()).")
        ids, source, query, target = found
    r = cut_experiment(model, ids, source, query, target)
    path, L = r["path"], len(r["path"]) - 1
    tok = model.tokenizer

    def piece(i: int) -> str:                   # a copy-task model has no tokenizer: its ids
        return tok.piece(i).replace("\u2581", "") if tok is not None else str(i)
    lo = max(0, source - 2)
    span = np.arange(lo, query + 1)
    fig = Figure(figsize=(16, 5.6), layout="constrained")
    grid = fig.add_gridspec(1, 5 if tok is None else 4)
    ax = fig.add_subplot(grid[0, :-1])
    for l in range(L + 1):
        ax.scatter(span, np.full(len(span), l), s=6, color="lightgrey")
    for l in range(L):
        a, b = path[l], path[l + 1]
        ax.annotate("", xy=(b, l + 1), xytext=(a, l),
                    arrowprops={"arrowstyle": "->", "color": "tab:red" if a != b else "tab:blue", "lw": 1.6})
        if a != b:
            ax.text((a + b) / 2, l + 0.5, f"{b - a} back", fontsize=FONT - 6, color="tab:red", ha="center")
    ax.scatter([path[r["layer"]]], [r["layer"]], s=120, facecolors="none", edgecolors="k", lw=1.5,
               label=f"relay cut at layer {r['layer']}")
    ticks = sorted(set(path) | {source, query})
    ax.set_xticks(ticks, [f"{p}\n{piece(int(ids[p]))}" for p in ticks],
                  fontsize=FONT - 6)
    ax.set_yticks(range(L + 1), ["input"] + [f"after layer {l}" for l in range(L)], fontsize=FONT - 5)
    ax.set_xlabel("position (token)", fontsize=FONT - 4)
    ax.legend(fontsize=FONT - 5, loc="upper left")
    name = piece(target)
    ax.set_title(f"'{name}' said at {source}, needed at {query + 1}: {query - source} tokens back, W = "
                 f"{model.args.sliding_window}; red arrows hop within one window (strongest rollout chain)",
                 fontsize=FONT - 4)
    bx = fig.add_subplot(grid[0, -1])
    values = [r["p"], r["p_relay"], r["p_control"]]
    labels = ["no cut", f"relay cut\n(layer {r['layer']})", f"{len(r['control'])} other\ncut"]
    ends = sentence_ends(tok, ids, source + 1, query) if tok is not None else []
    if ends:
        c = carrier_cut(model, ids, source, query, target, ends)
        r["sentence_ends"] = c
        values += [c["p_carriers"], c["p_control"]]
        labels += [f"{len(ends)} sentence\nends cut", f"{len(c['control'])}\nothers cut"]
        ax.scatter(ends, np.full(len(ends), -0.35), marker="^", color="tab:purple", s=30,
                   label="sentence ends, cut at every layer (right)")
        ax.legend(fontsize=FONT - 5, loc="upper left")
    bx.bar(range(len(values)), values, color=["tab:blue", "tab:red", "tab:grey", "tab:purple", "tab:grey"][:len(values)])
    bx.set_xticks(range(len(values)), labels, fontsize=FONT - 7)
    bx.set_ylabel(f"p('{name}')", fontsize=FONT - 4)
    bx.set_ylim(0, 1)
    for x, v in enumerate(values):
        bx.text(x, v + 0.02, f"{v:.2f}", ha="center", fontsize=FONT - 5)
    return fig, r


def fig_relay_copy_task():
    """fig_relay on training.reach.relay_example(): a model trained on the copy task, which does
    carry a token past its window (W = 4, 2 layers, 5 back)."""
    from ..training.reach import relay_example

    model, ids, source, query, target = relay_example()
    return fig_relay(model, ids, source, query, target)
