"""The checkers of notebooks/10_cpu_inference.ipynb's exercises, computed here, out of the
notebook's sight: shapes from the 7B's config (ModelArgs, Table 1), the machine's speeds given in
the exercise, the tokens a speculative pass yields from the accept-until-the-first-rejection rule
(speculative.py); a wrong answer gets a hint naming what to look at.

    check(1, None)  ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(1, 3)     ->  'exercise 1: wrong; hint: ...'
"""

from __future__ import annotations

import math

from ..config import ModelArgs
from ._checking import no_exercise, outcome, whole

EXERCISE_1_BANDWIDTH = 14e9          # bytes per second the weights are read at
EXERCISE_1_SPEED = 160e9             # FLOP per second of the float32 multiply-adds (2 cores)
EXERCISE_3_K, EXERCISE_3_COST = 7, 1.55


def first_compute_bound_t(bandwidth: float = EXERCISE_1_BANDWIDTH, speed: float = EXERCISE_1_SPEED,
                          bytes_per_weight: int = 2) -> int:
    """Exercise 1: the smallest T at which T rows' multiply-adds take longer than reading the weights.

    Per weight: bytes_per_weight bytes read once, 2 FLOP per row; so T > speed * bytes / (2 * bandwidth).
    """
    bound = speed * bytes_per_weight / (2 * bandwidth)
    return math.floor(bound) + 1


def layer_weights(a: ModelArgs | None = None, gqa: bool = True, ffn_matrices: int = 3) -> int:
    """The number of weights of one layer's matrices: wq, wk, wv, wo, w1, w2, w3."""
    a = ModelArgs() if a is None else a
    q = a.n_heads * a.head_dim
    kv = (a.n_kv_heads if gqa else a.n_heads) * a.head_dim
    return a.dim * q + 2 * a.dim * kv + q * a.dim + ffn_matrices * a.dim * a.hidden_dim


def decode_step_bytes(bytes_per_weight: int = 2, **kwargs) -> int:
    """Exercise 2: bytes of the 32 layers' matrices in bf16, which every decode step reads once."""
    return ModelArgs().n_layers * layer_weights(**kwargs) * bytes_per_weight


def tokens_per_pass(a: float, k: int) -> float:
    """Tokens one check of k guesses yields when each is accepted with probability a until the
    first rejection, plus the token the model itself chooses: 1 + a + a^2 + ... + a^k."""
    return sum(a ** i for i in range(k + 1))


def break_even(k: int = EXERCISE_3_K, cost: float = EXERCISE_3_COST) -> float:
    """Exercise 3: the acceptance a at which a check of k guesses, costing ``cost`` decode steps,
    yields ``cost`` tokens (bisection: tokens_per_pass grows with a)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tokens_per_pass(mid, k) < cost else (lo, mid)
    return (lo + hi) / 2


# ---- the hints ------------------------------------------------------------------------------------

def _judge_1(answer):
    x, y = whole(answer), first_compute_bound_t()
    if x == y:
        return None
    if x is None:
        return "T counts rows of x: a whole number (the smallest whole T past the crossing)"
    if x == y - 1:
        return "at that T the two times are not yet crossed: the first whole T where multiplying takes longer"
    if x in (first_compute_bound_t(bytes_per_weight=4), first_compute_bound_t(bytes_per_weight=1)):
        return "count per weight: 2 bytes of bf16 read once, and 2 FLOP (a multiply and an add) for each row of x"
    return "time to read = bytes / bandwidth, time to multiply = FLOP / speed; the matrix size cancels, " \
           "so compare the FLOP per byte with speed / bandwidth"


def _judge_2(answer):
    x, y = whole(answer), decode_step_bytes()
    if x == y:
        return None
    if x is None:
        return "a number of bytes is a whole number"
    if x == decode_step_bytes(bytes_per_weight=4):
        return "bf16 is 2 bytes per weight, not float32's 4"
    if x == decode_step_bytes(gqa=False):
        return "wk and wv have n_kv_heads x head_dim rows (grouped-query attention), not n_heads x head_dim"
    if x in (decode_step_bytes(ffn_matrices=2), decode_step_bytes(ffn_matrices=1)):
        return "the feed-forward block has three matrices, w1, w2 and w3 (SwiGLU)"
    if x == decode_step_bytes() // 2:
        return "that is the number of weights; each bf16 weight is more than one byte"
    if x == decode_step_bytes() // ModelArgs().n_layers:
        return "that is one layer; a decode step goes through all of them"
    return "per layer wq, wk, wv, wo, w1, w2, w3, their shapes from ModelArgs() (Table 1), times the " \
           "number of layers and the bytes of a bf16 number"


def _judge_3(answer):
    x, y = float(answer), break_even()
    if abs(x - y) < 0.006:                       # 2 decimals, rounded or cut
        return None
    if not 0 < x < 1:
        return "an acceptance is a probability, between 0 and 1"
    if abs(x - (EXERCISE_3_COST - 1) / EXERCISE_3_K) < 0.005:
        return "a guess counts only if every guess before it was accepted: the first rejection ends the run, " \
               "so the pass yields 1 + a + a^2 + ... + a^k tokens, not 1 + k a"
    return "solve 1 + a + ... + a^k = the cost of the pass in decode steps, for a between 0 and 1 " \
           "(bisection, or np.roots), with the k and the cost of the exercise, to 2 decimals"


def check(n: int, answer) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: _judge_1, 2: _judge_2, 3: _judge_3}
    if n not in judges:
        return no_exercise(n)
    return outcome(n, answer, judges[n])
