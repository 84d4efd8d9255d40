"""What attention heads do, measured on their maps [L, H, T, T] (attention_maps.py gives them):
where each head looks (the previous token, itself, <s>, a name), how alike the heads that share
a kv head are (GQA), and how much weight <s> keeps as it leaves the window.

The maps are one-shot (query rows = positions 0..T-1), so row t may hold weight only on keys
t - W + 1 .. t (masks.sliding_window_mask). A hand-made check of head_similarity: two heads
with the same map correlate 1; a head that always reads the previous token and one that always
reads itself correlate negatively (each takes the weight where the other leaves it).
"""

from __future__ import annotations

import numpy as np

from ..errors import MinimistralError
from ..gqa import kv_head_of
from ..guards.textio import checked_text
from ..guards.values import describe, whole_number
from ..masks import sliding_window_mask


def checked_maps(maps, min_tokens: int = 2) -> np.ndarray:
    """maps as a float array [L, H, T, T] of at least min_tokens tokens, else MinimistralError.

    Every measurement here reads one-shot maps (model.attention_maps); with fewer than 2 tokens
    there is nothing to measure (query 0 can only read itself), and a mean over no query is NaN.
    """
    try:
        maps = np.asarray(maps, dtype=np.float32)
    except (TypeError, ValueError):
        maps = None
    if maps is None or maps.ndim != 4 or maps.shape[2] != maps.shape[3] or maps.shape[2] < min_tokens:
        got = describe(maps) if maps is None else f"shape {list(maps.shape)}"
        raise MinimistralError(f"attention maps must be an array [L, H, T, T] of at least {min_tokens} tokens "
                               f"(model.attention_maps(ids)); got {got}.")
    return maps


def subject_keys(tokenizer, ids, word: str) -> np.ndarray:
    """bool [T, T]: for every query, the keys holding one of word's tokens (e.g. a name); all
    False if the word does not occur."""
    if tokenizer is None:
        raise MinimistralError("finding a word in the ids needs the model's tokenizer; this model has none.")
    word = checked_text(word, "the word to find").strip()
    if not word:
        raise MinimistralError("the word to find is empty; pass a word of the text, e.g. a name.")
    pieces = tokenizer.encode(word, bos=False)                        # 'Hugo' -> [id of '▁Hugo']
    ids = list(ids)
    hit = np.zeros(len(ids), dtype=bool)
    for s in range(len(ids) - len(pieces) + 1):
        if ids[s:s + len(pieces)] == pieces:
            hit[s:s + len(pieces)] = True
    return np.broadcast_to(hit[None, :], (len(ids), len(ids)))


def head_scores(maps: np.ndarray, window: int | None, special: dict[str, np.ndarray] | None = None
                ) -> dict[str, np.ndarray]:
    """Where each head looks, averaged over query rows: {name: float32 [L, H]}.

    maps [L, H, T, T] (one-shot, query rows = positions 0..T-1), window W of the model.
      "previous token"  mean weight on key t - 1, over queries 1..T-1
      "itself"          mean weight on key t, over queries 1..T-1
      "<s>"             mean weight on key 0, over the queries that can still see it (1..W-1)
    plus, for each entry of ``special`` (name -> bool [T, T]: the keys counted for each query,
    e.g. where a name stands), the mean total weight on those keys over the queries that can
    see at least one of them. Query 0 is always left out: it can only read itself.
    """
    maps = checked_maps(maps)
    L, H, T, _ = maps.shape
    t = np.arange(1, T)                                                          # query rows used
    visible = sliding_window_mask(np.arange(T), np.arange(T), window)            # [T, T]
    bos = np.zeros((T, T), dtype=bool)
    bos[:, 0] = True
    out = {"previous token": maps[:, :, t, t - 1].mean(-1),
           "itself": maps[:, :, t, t].mean(-1)}
    for name, keys in {"<s>": bos, **(special or {})}.items():
        keys = keys & visible                                                    # [T, T]
        rows = t[keys[t].any(-1)]                                                # queries that see them
        if len(rows) == 0:
            out[name] = np.zeros((L, H), dtype=np.float32)
            continue
        out[name] = (maps[:, :, rows] * keys[rows]).sum(-1).mean(-1)            # [L, H]
    return {k: v.astype(np.float32) for k, v in out.items()}


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


def group_similarity(maps: np.ndarray, n_kv_heads: int, window: int | None) -> list[tuple[float, float]]:
    """Per layer, (mean correlation of heads sharing a kv head, mean across groups); maps [L, H, T, T].

    Query head h reads kv head h // G (gqa.kv_head_of); "within" averages head_similarity over
    pairs of different heads in one group, "across" over pairs in different groups (NaN when
    there is no such pair: MHA has no within, MQA no across).
    """
    maps = checked_maps(maps)
    H = maps.shape[1]
    whole_number(n_kv_heads, "n_kv_heads", 1, maximum=H, hint=f" dividing the {H} heads of the maps")
    if H % n_kv_heads:
        raise MinimistralError(f"n_kv_heads must divide the {H} heads of the maps, got {n_kv_heads}.")
    group = kv_head_of(H, n_kv_heads)                                           # [H]
    same = group[:, None] == group[None, :]
    off = ~np.eye(len(group), dtype=bool)
    out = []
    for layer_maps in maps:
        sim = head_similarity(layer_maps, window)                               # [H, H]
        within = float(sim[same & off].mean()) if (same & off).any() else float("nan")
        across = float(sim[~same].mean()) if (~same).any() else float("nan")
        out.append((within, across))
    return out


def bos_mass(maps: np.ndarray, window: int) -> dict[str, np.ndarray]:
    """Per layer and query position, mean over heads: weight on <s> (key 0) and on the oldest key
    still in the window (q - W + 1): {"<s>": [L, T], "oldest in window": [L, T]}."""
    maps = checked_maps(maps, 1)
    L, H, T, _ = maps.shape
    q = np.arange(T)
    oldest = sliding_window_mask(q, q, window).argmax(-1)                       # [T] first key allowed: q - W + 1
    return {"<s>": maps[:, :, q, 0].mean(1), "oldest in window": maps[:, :, q, oldest].mean(1)}
