"""Grouped-query attention (GQA): H query heads share K key/value heads, G = H // K per group.

For the 7B, H = 32 and K = 8: query heads 0-3 read kv head 0, heads 4-7 kv head 1, and so on.
The KV cache stores K heads instead of H, 4x less memory. With K = H this is ordinary
multi-head attention; with K = 1, multi-query attention.

Instead of copying each kv head G times (transformers' repeat_kv), we group the query heads:
q [T, H, Hd] -> [K, G*T, Hd], one matmul per kv head against its keys [K, S, Hd].
"""

from __future__ import annotations

import numpy as np

from .fast import attention as fast


def kv_head_of(n_heads: int, n_kv_heads: int) -> np.ndarray:
    """int [H]: the kv head each query head reads. kv_head_of(8, 2) -> [0 0 0 0 1 1 1 1]."""
    return np.arange(n_heads) // (n_heads // n_kv_heads)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float32; rows that may attend to nothing would give NaN."""
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def grouped_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, allowed: np.ndarray,
                      record=None) -> np.ndarray:
    """Scaled dot-product attention with kv heads shared by groups of query heads.

    q [T, H, Hd], k and v [S, K, Hd], allowed bool [T, S] (masks.py) -> [T, H, Hd] float32.
    Queries are independent rows, so a long chunk goes through in blocks of queries (how many:
    fast/attention.py, which bounds the scores' memory and keeps short chunks on one BLAS
    thread): the same result, bounded memory.
    ``record``, if given, is called once with the probabilities [H, T, S] (a view, no copy, unless
    the queries went in blocks; attention_maps.py); None, the default, costs nothing.
    """
    T, H, Hd = q.shape
    S, K, _ = k.shape
    rows = fast.query_rows(T, H, H // K, Hd, S)
    if T > rows:
        parts: list = []                                                      # [H, t, S] per block
        out = np.concatenate([grouped_attention(q[t:t + rows], k, v, allowed[t:t + rows],
                                                None if record is None else parts.append)
                              for t in range(0, T, rows)])                    # [T, H, Hd]
        if record is not None:
            record(np.concatenate(parts, axis=1))                             # [H, T, S]
        return out
    G = H // K
    qg = q.reshape(T, K, G, Hd).transpose(1, 2, 0, 3).reshape(K, G * T, Hd)  # [K, G*T, Hd]
    scores = fast.scores(qg, k).reshape(K, G, T, S) * np.float32(1.0 / np.sqrt(Hd))  # [K, G, T, S]
    scores = np.where(allowed, scores, np.float32(-np.inf))                   # mask: [T, S] broadcast
    p = softmax(scores).reshape(K, G * T, S)                                  # [K, G*T, S]
    if record is not None:
        record(p.reshape(K * G, T, S))                                        # [H, T, S], h = k*G + g
    out = fast.mix(p, v)                                                      # [K, G*T, Hd]
    return out.reshape(K, G, T, Hd).transpose(2, 0, 1, 3).reshape(T, H, Hd)   # [T, H, Hd]


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, n_positions: int,
                   bytes_per_value: int = 2) -> int:
    """Bytes of keys and values kept for n_positions: 2 x layers x K x Hd per position.

    7B at bf16: 2 x 32 x 8 x 128 x 2 B = 128 KiB per token (4x less than with 32 kv heads).
    """
    return 2 * n_layers * n_kv_heads * head_dim * n_positions * bytes_per_value
