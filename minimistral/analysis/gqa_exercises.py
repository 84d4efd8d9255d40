"""The checkers of notebooks/03_gqa.ipynb's exercises, computed here, out of the notebook's sight,
from the library (gqa.kv_head_of, gqa.kv_cache_bytes) and the configs; a wrong answer gets a hint
that names what to look at.

    check(1, None)  ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(2, 640, config=config)  ->  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..gqa import kv_cache_bytes, kv_head_of
from ._checking import no_exercise, outcome, whole

EXERCISE_1_HEAD = 13
EXERCISE_3_TOKENS = 4096
EXERCISE_4_H, EXERCISE_4_K, EXERCISE_4_HD = 8, 2, 4
BYTES = {"bfloat16": 2, "float16": 2, "float32": 4}


def kv_head_7b(head: int = EXERCISE_1_HEAD) -> int:
    """Exercise 1: the kv head the 7B's query head ``head`` reads."""
    a = ModelArgs()
    return int(kv_head_of(a.n_heads, a.n_kv_heads)[head])


def bytes_per_token(config: dict) -> int:
    """Exercise 2: KV cache bytes per token of an HF config (its dtype, head size hidden / heads)."""
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    return kv_cache_bytes(config["num_hidden_layers"], config["num_key_value_heads"], head_dim, 1,
                          BYTES[config["torch_dtype"]])


def mha_ratio_and_gib(config: dict, tokens: int = EXERCISE_3_TOKENS) -> tuple[int, float]:
    """Exercise 3: (MHA cache / GQA cache, the GQA cache at ``tokens`` in GiB)."""
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    mha = kv_cache_bytes(config["num_hidden_layers"], config["num_attention_heads"], head_dim, 1)
    gqa = kv_cache_bytes(config["num_hidden_layers"], config["num_key_value_heads"], head_dim, 1)
    return mha // gqa, bytes_per_token(config) * tokens / 2**30


def mean_pooled(w: np.ndarray, H: int = EXERCISE_4_H, K: int = EXERCISE_4_K, Hd: int = EXERCISE_4_HD) -> np.ndarray:
    """Exercise 4: kv head j = the mean of the key heads of query heads j G .. j G + G - 1 (a loop)."""
    G = H // K
    group = kv_head_of(H, K)
    out = np.zeros((K, Hd, w.shape[1]), dtype=np.float64)
    for h in range(H):
        out[group[h]] += w[h * Hd:(h + 1) * Hd] / G
    return out.reshape(K * Hd, -1).astype(np.float32)


def _judge_1(answer):
    x, y = whole(answer), kv_head_7b()
    if x == y:
        return None
    if x is None:
        return "a kv head is a whole number"
    a = ModelArgs()
    if x == EXERCISE_1_HEAD % a.n_kv_heads:
        return "the groups are consecutive query heads (gqa.kv_head_of), not every K-th head"
    return "G = H / K consecutive query heads share one kv head; find the group head 13 falls in"


def _judge_2(answer, config):
    x, y = whole(answer), bytes_per_token(config)
    if x == y:
        return None
    if x is None:
        return "a number of bytes is a whole number"
    if 2 * x == y:
        return "keys AND values: two tensors per layer"
    if x * config["num_key_value_heads"] == y * config["num_attention_heads"]:
        return "with GQA only the kv heads are cached, not every query head"
    if x == y * 2:
        return "bfloat16 is 2 bytes a value"
    return "per token and per layer: keys and values, each num_key_value_heads x head size values, " \
           "head size = hidden_size / num_attention_heads"


def _judge_3(answer, config):
    ratio, gib = mha_ratio_and_gib(config)
    r, g = whole(answer[0]), float(answer[1])
    hints = []
    if r != ratio:
        hints.append("the ratio: an MHA cache holds one kv head per query head")
    if not abs(g - gib) < 1e-9 * max(1, gib):
        if abs(g * 2**30 / 1e9 - gib) < 1e-6 or abs(g - gib * 2**30 / 1e9) < 1e-6:
            hints.append("GiB are 2^30 bytes, not 10^9")
        else:
            hints.append("the GiB: exercise 2's bytes per token times the number of tokens, over 2^30")
    return "; ".join(hints) or None


def _judge_4(answer, w):
    a, y = np.asarray(answer), mean_pooled(w)
    if a.shape != y.shape:
        return f"K kv heads of Hd rows each: shape {y.shape}"
    if np.allclose(a, y, atol=1e-6):
        return None
    G = EXERCISE_4_H // EXERCISE_4_K
    if np.allclose(a, w.reshape(EXERCISE_4_K * G, EXERCISE_4_HD, -1)[::G].reshape(y.shape), atol=1e-6):
        return "average the G heads of a group; do not keep only the first of them"
    if np.allclose(a, y * (EXERCISE_4_H // EXERCISE_4_K), atol=1e-5):
        return "the mean, not the sum, of the group's heads"
    return "the rows of head h are h Hd .. (h + 1) Hd - 1; reshape [H*Hd, D] to [K, G, Hd, D] and average " \
           "over the G axis (consecutive heads form a group)"


def check(n: int, answer, config=None, w=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint.

    Exercises 2 and 3 need the notebook's ``config``; exercise 4 its ``wk_mha``."""
    if n == 1:
        return outcome(n, answer, _judge_1)
    if n == 2:
        return outcome(n, answer, lambda a: _judge_2(a, config))
    if n == 3:
        return outcome(n, answer, lambda a: _judge_3(a, config))
    if n == 4:
        return outcome(n, answer, lambda a: _judge_4(a, np.asarray(w)))
    return no_exercise(n)
