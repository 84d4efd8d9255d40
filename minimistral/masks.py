"""Which keys a query may attend to: causal, sliding-window, and chunk-vs-cache (Fig. 1, Fig. 3).

One rule covers all three: a query at position q sees the key at position k when

    0 <= q - k < W          (exactly W keys, itself included; W = None means no lower bound)

The paper's prose (section 2) says "positions between i - W and i", which read inclusively is
W + 1 keys; its figures, the caption of Fig. 1 ("each token can attend to at most W tokens from
the previous layer (here, W = 3)") and its rolling buffer of W slots use W. Mistral's code did
both: the pre-fill mask of mistral-src's one_file_ref.py, torch.triu(..., diagonal=-sliding_window),
keeps W + 1 keys (reported as mistral-src issue 60), while the release's xFormers path
(make_local_attention(W)) keeps W, as transformers does since its PR 26792 (every attention
backend in current versions). minimistral keeps W; the history, with sources, is in
docs/mistral-7b.md §2. The model, the figures and the tests call this same function, so what
is drawn is what the attention does.

    sliding_window_mask(range(5), range(5), window=3)   "The cat sat on the" (Fig. 1, middle)
        The  1 0 0 0 0
        cat  1 1 0 0 0
        sat  1 1 1 0 0
        on   0 1 1 1 0
        the  0 0 1 1 1
"""

from __future__ import annotations

import numpy as np


def sliding_window_mask(q_pos, k_pos, window: int | None) -> np.ndarray:
    """bool [T, S]: may the query at q_pos[t] attend to the key at k_pos[s]?"""
    q = np.asarray(q_pos, dtype=np.int64)[:, None]        # [T, 1]
    k = np.asarray(k_pos, dtype=np.int64)[None, :]        # [1, S]
    allowed = k <= q                                       # causal: no looking ahead
    if window is not None:
        allowed &= q - k < window                          # ... and at most W keys, self included
    return allowed                                         # [T, S]


def causal_mask(n: int) -> np.ndarray:
    """bool [n, n]: vanilla causal attention (Fig. 1, left), the lower triangle with its diagonal."""
    return sliding_window_mask(np.arange(n), np.arange(n), None)


def chunk_mask(chunk_start: int, chunk_len: int, seq_len: int, window: int | None) -> np.ndarray:
    """bool [chunk_len, seq_len]: what one pre-fill chunk attends to over the whole sequence (Fig. 3).

    Columns before the chunk are the past (beyond the window: never attended) and the cache (a
    sliding-window band); the chunk's own columns are causal. For the paper's example, 12 tokens
    in chunks of 4 with W = 4, the third chunk (start 8) gives

        the  0000 0111 1000
        dog  0000 0011 1100
        go   0000 0001 1110
        to   0000 0000 1111
    """
    q = np.arange(chunk_start, chunk_start + chunk_len)
    return sliding_window_mask(q, np.arange(seq_len), window)


def additive_mask(allowed: np.ndarray) -> np.ndarray:
    """float32 [T, S]: 0 where attention is allowed, -inf where it is not (added to the scores)."""
    return np.where(allowed, np.float32(0.0), np.float32(-np.inf)).astype(np.float32)
