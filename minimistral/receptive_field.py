"""How far back a token can see after k sliding-window layers (paper section 2, Fig. 1 right).

One layer lets the output at position t read the inputs at t-W+1 .. t (masks.py: exactly W keys,
itself included), so information moves forward by at most W - 1 positions per layer. Stacking
layers composes the masks: output t after k layers depends on input s when there is a chain
s -> ... -> t of allowed (query, key) pairs, one per layer, i.e. when (M^k)[t, s] > 0 for the
0/1 mask matrix M. Hence the reach after k layers is

    k * (W - 1)          e.g. W = 3, 4 layers: 2, 4, 6, 8 positions back

For the 7B (W = 4096, 32 layers) that is 32 * 4095 = 131,040 tokens. The paper says "k x W"
= 131,072 ("approximately 131K"): the same picture counted with the W + 1 keys of its prose
("positions between i - W and i"), which is also what the pre-fill mask of mistral-src's
one_file_ref.py keeps (torch.triu(..., diagonal=-sliding_window); mistral-src issue 60). Its
figures, its W-slot buffer, the xFormers path of the release and transformers keep W
(docs/mistral-7b.md §2). The difference is 32 positions out of 131K.

    reach_matrix(6, window=3, n_layers=2)      output (rows) <- input (columns)
        1 0 0 0 0 0
        1 1 0 0 0 0
        1 1 1 0 0 0
        1 1 1 1 0 0
        1 1 1 1 1 0
        0 1 1 1 1 1       row 5 reaches back 4 = 2 * (3 - 1) positions

``measure_influence`` checks this on a real model: change one input token, and see which
positions of the residual stream change after each layer.
"""

from __future__ import annotations

import numpy as np

from .masks import sliding_window_mask


def theory_reach(window: int, n_layers: int) -> int:
    """Positions back a token can be influenced from after n_layers: n_layers * (W - 1).

    theory_reach(4096, 32) -> 131040 (the paper's k x W = 131072 counts W + 1 keys per layer).
    """
    return n_layers * (window - 1)


def reach_matrix(n_tokens: int, window: int | None, n_layers: int) -> np.ndarray:
    """bool [T, T]: may input s (column) influence output t (row) after n_layers layers?

    The boolean matrix power of the attention mask the model uses, computed in int64 so
    counting paths cannot overflow a small dtype; zero layers is the identity.
    """
    pos = np.arange(n_tokens)
    mask = sliding_window_mask(pos, pos, window).astype(np.int64)   # [T, T] one layer
    reach = np.eye(n_tokens, dtype=np.int64)                        # [T, T] zero layers
    for _ in range(n_layers):
        reach = ((mask @ reach) > 0).astype(np.int64)               # one more layer on top
    return reach.astype(bool)


def farthest_back(reach: np.ndarray) -> int:
    """Largest t - s over the allowed (t, s) cells of a reach matrix: how far back it sees."""
    t, s = np.nonzero(reach)
    return int((t - s).max())


def reach_per_layer(window: int, n_layers: int) -> np.ndarray:
    """int [n_layers + 1]: how far back the newest token sees after 0, 1, ..., n_layers layers.

    Works for the 7B's 131K positions without a 131K x 131K matrix: every row of the mask is
    one contiguous band, so what a token reaches stays an interval [lo, t], and one more layer
    extends it to whatever the earliest reachable query, lo, attends to. That query's keys come
    from the model's own mask function. For small sizes this equals farthest_back(reach_matrix).
    """
    reach = [0]
    lo = 0                                        # t - lo: the current reach, t fixed at 0
    for _ in range(n_layers):
        keys = np.arange(lo - window - 1, lo + 1)                     # a few keys around lo
        allowed = sliding_window_mask([lo], keys, window)[0]          # [S] what query lo sees
        lo = int(keys[allowed].min())
        reach.append(-lo)
    return np.array(reach, dtype=np.int64)


def measure_influence(hidden_states, tokens, position: int, replacement: int) -> np.ndarray:
    """bool [L + 1, T]: which positions of the residual stream change after each layer.

    ``hidden_states(tokens)`` returns the residual stream before each block and the final normed
    output (``Mistral.hidden_states``); row k is the stream after k layers (row 0: embeddings).
    Input ``position`` is swapped for token ``replacement``; a cell is True when any of its D
    numbers differ at all (positions out of reach compute on identical numbers, so they are
    bit-identical, not merely close).
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    changed = tokens.copy()
    changed[position] = replacement
    before, after = hidden_states(tokens), hidden_states(changed)     # L + 1 arrays [T, D]
    return np.stack([(a != b).any(axis=-1) for a, b in zip(before, after)])   # [L + 1, T]


def measured_reach(influence: np.ndarray, position: int) -> np.ndarray:
    """int [L + 1]: how far forward the change at ``position`` got after each layer."""
    return np.array([int(np.nonzero(row)[0].max()) - position for row in influence], dtype=np.int64)
