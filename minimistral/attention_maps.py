"""What attention actually does: the softmax probabilities of every layer and head, recorded.

The masks (masks.py) say which keys a query *may* read; the probabilities say how much it *does*.
An ``AttentionTrace`` is handed down the forward pass (Mistral.run -> block -> attention ->
gqa.grouped_attention); each layer's attention gives it its probabilities together with the
absolute positions of its queries and keys. Without a trace nothing is recorded and nothing is
copied: grouped_attention only checks ``record is None``.

The key positions are what make maps from the rolling buffer readable. In a cached step the keys
come in slot order, not time order (slot = position mod W, Fig. 2), so a row of probabilities
over the buffer means nothing until each column is put back on its absolute position.
Worked example, W = 4, decoding position 5 of "The cat sat on the mat":

    buffer slots        0    1    2    3        (the chunk's own key stored in place)
    key positions       4    5    2    3
    probabilities      .1   .4   .3   .2        one head, query at position 5
    on positions 0..5   0    0   .3   .2   .1   .4      <- trace.maps() puts them here

Positions 0 and 1 left the buffer: their probability is exactly 0, as in the full map, where
the sliding-window mask gives them -inf before the softmax.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import MinimistralError
from .guards.values import check_tokens, whole_number

# attention_maps returns a dense float32 [L, H, T, P]; refuse sizes that cannot be meant.
MAX_MAP_BYTES = 2 ** 31


class LayerAttention(NamedTuple):
    """One layer's probabilities for one pass: probs [H, T, S], query_pos [T], key_pos [S]."""
    layer: int
    probs: np.ndarray
    query_pos: np.ndarray
    key_pos: np.ndarray


class AttentionTrace:
    """Collects LayerAttention records from every pass it is handed to (see the module docstring).

        trace = AttentionTrace()
        model.run(ids, np.arange(len(ids)), trace=trace)
        trace.records[0].probs.shape            # layer 0: [H, T, T]
        trace.maps().shape                      # [L, H, T, T]
    """

    def __init__(self):
        self.records: list[LayerAttention] = []

    def recorder(self, layer: int, query_pos, key_pos):
        """A callable for grouped_attention: it stores probs [H, T, S] with these positions."""
        query_pos = np.asarray(query_pos, dtype=np.int64)
        key_pos = np.asarray(key_pos, dtype=np.int64)

        def record(probs: np.ndarray) -> None:
            # probs is the fresh softmax output; grouped_attention only reads it afterwards.
            self.records.append(LayerAttention(layer, probs, query_pos, key_pos))
        return record

    def maps(self) -> np.ndarray:
        """float32 [L, H, Tq, P]: every recorded row placed on absolute key positions 0..P-1.

        Rows are the distinct query positions recorded, in order (for a cached step, the new
        positions only); P = 1 + the last position seen. Keys never read (outside the window,
        gone from the buffer, or in the future) are 0.
        """
        if not self.records:
            raise MinimistralError("the attention trace is empty: pass it to a forward pass first.")
        rows = np.unique(np.concatenate([r.query_pos for r in self.records]))          # [Tq]
        n_pos = int(max(rows.max(), max(r.key_pos.max() for r in self.records))) + 1     # P
        n_layers = max(r.layer for r in self.records) + 1
        n_heads = self.records[0].probs.shape[0]
        out = np.zeros((n_layers, n_heads, len(rows), n_pos), dtype=np.float32)         # [L, H, Tq, P]
        for r in self.records:
            at = np.searchsorted(rows, r.query_pos)                                      # [T] row index
            out[r.layer][:, at[:, None], r.key_pos[None, :]] = r.probs                   # [H, T, S]
        return out


def check_map_size(n_layers: int, n_heads: int, n_rows: int, n_positions: int) -> None:
    """Raise before a dense [L, H, T, P] float32 map would exceed MAX_MAP_BYTES."""
    size = 4 * n_layers * n_heads * n_rows * n_positions
    if size > MAX_MAP_BYTES:
        raise MinimistralError(
            f"attention maps of {n_layers} layers x {n_heads} heads x {n_rows} queries x "
            f"{n_positions} keys would take {size / 2 ** 30:.1f} GiB; pass fewer tokens "
            f"(or use an AttentionTrace and read its records layer by layer).")


def attention_maps(model, tokens, cache=None) -> np.ndarray:
    """Softmax probabilities of every layer and head: float32 [L, H, T, P] (Mistral.attention_maps)."""
    ids = check_tokens(tokens, model.args.vocab_size)
    start = 0 if cache is None else model._cache(cache).length
    a = model.args
    check_map_size(a.n_layers, a.n_heads, len(ids), start + len(ids))
    trace = AttentionTrace()
    model.run(ids, start + np.arange(len(ids)), cache, last_only=True, trace=trace)
    return trace.maps()                                                           # [L, H, T, P]


def traced_generate(model, prompt_ids, max_tokens: int):
    """Greedy generation through the rolling buffer, every step's attention recorded.

    The prompt goes in as one chunk, then one token at a time (Fig. 2): each step's keys come
    from the buffer in slot order, and the trace keeps their absolute positions, so
    ``trace.maps()`` is [L, H, T, T] over the whole sequence (prompt + new tokens), the same
    map a one-shot forward would give. Returns (ids [T] as a list, trace).

        ids, trace = traced_generate(model, prompt, 60)       # T = len(prompt) + 60
        trace.maps()[:, :, -1, 0]                             # last query's weight on <s>
    """
    ids = [int(i) for i in check_tokens(prompt_ids, model.args.vocab_size)]
    max_tokens = whole_number(max_tokens, "max_tokens")
    a, n_prompt = model.args, len(ids)
    check_map_size(a.n_layers, a.n_heads, n_prompt + max_tokens, n_prompt + max_tokens)
    cache, trace = model.new_cache(), AttentionTrace()
    logits = model.run(np.array(ids), np.arange(len(ids)), cache, last_only=True, trace=trace)
    for _ in range(max_tokens):
        ids.append(int(logits[-1].argmax()))
        if len(ids) - n_prompt == max_tokens:
            break
        logits = model.run(np.array(ids[-1:]), np.array([cache.length]), cache, last_only=True, trace=trace)
    if max_tokens:                      # the last token's own row: it attends too
        model.run(np.array(ids[-1:]), np.array([cache.length]), cache, last_only=True, trace=trace)
    return ids, trace
