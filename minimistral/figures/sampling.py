"""What temperature and top-p do to a next-token distribution (drawn in notebook 10, not committed).

    fig, probs = fig_sampling(logits, tokenizer.piece, temperature=1.0, top_p=0.9)

probs is the float64 [V] distribution a draw uses (sampling.softmax_with_temperature, then
sampling.top_p_filter: the functions sample_token calls). The bars are the top tokens before
the cut (grey) and after it, renormalised (orange); tokens outside the nucleus get none.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..sampling import softmax_with_temperature, top_p_filter
from .style import FONT, ORANGE


def fig_sampling(logits: np.ndarray, piece, temperature: float = 1.0, top_p: float = 0.9,
                 top: int = 15):
    """The top tokens' probabilities at this temperature, before and after the top-p cut.

    piece(token_id) -> str labels the bars (a tokenizer's ``piece``; '▁' is drawn as '_').
    """
    before = softmax_with_temperature(logits, temperature)             # float64 [V]
    after = top_p_filter(before, top_p)                                # float64 [V], renormalised
    order = np.argsort(-before, kind="stable")[:top]
    x = np.arange(len(order))
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.bar(x - 0.2, before[order], width=0.4, color="0.7", label=f"softmax(logits / {temperature:g})")
    ax.bar(x + 0.2, after[order], width=0.4, color=ORANGE,
           label=f"after top-p = {top_p:g}: {np.count_nonzero(after)} tokens kept, renormalised")
    ax.set_xticks(x, [piece(int(i)).replace("\u2581", "_") for i in order], rotation=45, ha="right", fontsize=FONT - 1)
    ax.set_ylabel("probability", fontsize=FONT)
    ax.set_ylim(0, 1.05 * max(before[order].max(), after[order].max()))
    ax.legend(fontsize=FONT - 1)
    ax.set_title(f"The next token at temperature {temperature:g}, top-p {top_p:g} "
                 f"(the {top} most likely tokens)", fontsize=FONT + 1)
    return fig, after
