"""What every figure shares: the paper's colours, a readable font size, its example sentences,
the real tokenizer's labels, and the 0/1 grid the paper draws its masks with."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap

YELLOW, ORANGE = "#FCEC7F", "#F09366"          # the paper's attended / masked cells (Fig. 1)
MASK_COLORS = ListedColormap([ORANGE, YELLOW])  # 0 -> orange, 1 -> yellow
FONT = 14                                       # readable on a slide

FIG1_TEXT = "The cat sat on the"
FIG3_TEXT = "The cat sat on the mat and saw the dog go to"


def token_labels(text: str) -> list[str]:
    """The real tokenizer's pieces for text, without <s>, '▁' shown as nothing: 'The', 'cat', ...

    The paper's grids have one cell per word and no <s>; these sentences are one piece per
    word, so the labels are the model's tokens and the grids are the paper's.
    """
    from ..tokenizer import SHIPPED_TOKENIZER, Tokenizer

    tok = Tokenizer(SHIPPED_TOKENIZER)
    return [tok.piece(i).replace("\u2581", "") for i in tok.encode(text, bos=False)]


def draw_grid(ax, grid: np.ndarray, rows: list[str], cols: list[str], title: str) -> None:
    """A 0/1 matrix as the paper draws it: yellow 1, orange 0, the digit in each cell."""
    ax.imshow(grid.astype(np.int8), cmap=MASK_COLORS, vmin=0, vmax=1)
    for (r, c), value in np.ndenumerate(grid.astype(np.int8)):
        ax.text(c, r, str(value), ha="center", va="center", fontsize=FONT)
    ax.set_xticks(range(len(cols)), cols, fontsize=FONT, rotation=90)
    ax.set_yticks(range(len(rows)), rows, fontsize=FONT)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=FONT + 2, pad=12)
