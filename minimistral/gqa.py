"""Grouped-query attention (GQA): H query heads share K key/value heads, G = H // K per group.

For the 7B, H = 32 and K = 8: query heads 0-3 read kv head 0, heads 4-7 kv head 1, and so on.
The KV cache stores K heads instead of H, 4x less memory. With K = H this is ordinary
multi-head attention; with K = 1, multi-query attention.

Instead of copying each kv head G times (transformers' repeat_kv), we group the query heads:
q [T, H, Hd] -> [K, G*T, Hd], one matmul per kv head against its keys [K, S, Hd].
"""

from __future__ import annotations

import numpy as np

from .limits import SCORE_BYTES


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
    Queries are independent rows, so a long chunk goes through in blocks of queries whose
    scores [K, G, t, S] stay under limits.SCORE_BYTES: the same result, bounded memory.
    ``record``, if given, is called once with the probabilities [H, T, S] (a view, no copy, unless
    the queries went in blocks; attention_maps.py); None, the default, costs nothing.
    """
    T, H, Hd = q.shape
    S, K, _ = k.shape
    G = H // K
    rows = max(1, SCORE_BYTES // (4 * H * S))            # queries per block within the ceiling
    if T <= FEW_QUERIES:                                   # a short chunk: blocks of queries that
        rows = min(rows, max(1, ONE_THREAD_PRODUCT // (G * Hd * MIN_BLOCK_KEYS)))  # stay "few"
    if T > rows and T > 1:
        parts: list = []                                                      # [H, t, S] per block
        out = np.concatenate([grouped_attention(q[t:t + rows], k, v, allowed[t:t + rows],
                                                None if record is None else parts.append)
                              for t in range(0, T, rows)])                    # [T, H, Hd]
        if record is not None:
            record(np.concatenate(parts, axis=1))                             # [H, T, S]
        return out
    qg = q.reshape(T, K, G, Hd).transpose(1, 2, 0, 3).reshape(K, G * T, Hd)  # [K, G*T, Hd]
    few = G * T * Hd * MIN_BLOCK_KEYS <= ONE_THREAD_PRODUCT                   # decoding, a short chunk
    if few:
        keys = key_blocks(S, G * T * Hd)
        scores = np.concatenate([qg @ k[b].transpose(1, 2, 0) for b in keys], axis=-1)  # [K, G*T, S]
    else:
        scores = qg @ k.transpose(1, 2, 0)                                    # [K, G*T, S]
    scores = scores.reshape(K, G, T, S) * np.float32(1.0 / np.sqrt(Hd))
    scores = np.where(allowed, scores, np.float32(-np.inf))                   # mask: [T, S] broadcast
    p = softmax(scores).reshape(K, G * T, S)                                  # [K, G*T, S]
    if record is not None:
        record(p.reshape(K * G, T, S))                                        # [H, T, S], h = k*G + g
    if few:
        out = sum(p[:, :, b] @ v[b].transpose(1, 0, 2) for b in keys)         # [K, G*T, Hd]
    else:
        out = p @ v.transpose(1, 0, 2)                                        # [K, G*T, Hd]
    return out.reshape(K, G, T, Hd).transpose(2, 0, 1, 3).reshape(T, H, Hd)   # [T, H, Hd]


# OpenBLAS runs a product on one thread when m * n * k <= 2^18 (SMP_THRESHOLD_MIN 65536 x
# GEMM_MULTITHREAD_THRESHOLD 4, in its interface/gemm.c), else on all cores.
ONE_THREAD_PRODUCT = 1 << 18
MIN_BLOCK_KEYS = 32        # key blocks for queries G*T*Hd that leave at least 32 keys per block
FEW_QUERIES = 128          # up to this many new tokens, attention stays on one BLAS thread: the
                           # queries go in blocks of ONE_THREAD_PRODUCT // (G * Hd * MIN_BLOCK_KEYS)
                           # (16 for the 7B), each through key_blocks (measured: a 20-token chunk
                           # of the 4-layer 7B slice took 540 ms with threaded products, 334 ms
                           # at 16 tokens; benchmarks/RESULTS.md)


def key_blocks(S: int, per_key: int) -> list[slice]:
    """Slices of the S keys, each small enough that its product stays on one BLAS thread.

    Decoding multiplies [G, Hd] by [Hd, S] per kv head: matrix-vector work that a threaded
    BLAS would split over all cores, and whose idle threads then keep spinning while the weight
    threads of fastpath.py need those cores (measured on the 7B at a full window: the weights
    took 1.1 s longer per token). The same holds for a short chunk (T new tokens, [G*T, Hd]),
    as long as a block keeps MIN_BLOCK_KEYS keys. Each product is m * n * k = per_key * block.
    key_blocks(1100, 4 * 128) -> [0:512, 512:1024, 1024:1100].
    """
    block = max(1, ONE_THREAD_PRODUCT // per_key)
    return [slice(s, s + block) for s in range(0, S, block)]


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, n_positions: int,
                   bytes_per_value: int = 2) -> int:
    """Bytes of keys and values kept for n_positions: 2 x layers x K x Hd per position.

    7B at bf16: 2 x 32 x 8 x 128 x 2 B = 128 KiB per token (4x less than with 32 kv heads).
    """
    return 2 * n_layers * n_kv_heads * head_dim * n_positions * bytes_per_value
