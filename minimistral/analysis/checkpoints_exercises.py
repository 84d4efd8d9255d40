"""The checkers of notebooks/13_checkpoints.ipynb's exercises, computed here, out of the notebook's sight.

Each expected value comes from the library (names.file_name, names.hf_rope_perm, export.hf_permute,
rope.apply_rope, fast.linear.bf16_to_float32) and the 7B's config (ModelArgs, Table 1); a wrong
answer gets a hint that names what to look at.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(3, 1234)   ->  'exercise 3: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..checkpoints.export import hf_permute
from ..checkpoints.names import file_name, hf_rope_perm
from ..config import ModelArgs
from ..fast.linear import bf16_to_float32
from ..rope import apply_rope, rope_angles
from ._checking import no_exercise, outcome, whole

EXERCISE_1_NATIVE = "layers.5.feed_forward.w3.weight"
EXERCISE_3_ROW = 261                       # a native row of the 7B's wk


def rope_half_case(seed: int = 0, n: int = 2, head_dim: int = 8, T: int = 3):
    """Exercise 4's test case: (q in HF order [T, n, Hd], cos, sin, the native q rotated [T, n, Hd])."""
    rng = np.random.default_rng(seed)
    wq = rng.standard_normal((n * head_dim, 16)).astype(np.float32)       # native rows [n*Hd, D]
    x = rng.standard_normal((T, 16)).astype(np.float32)                   # [T, D]
    q_native = (x @ wq.T).reshape(T, n, head_dim)
    q_hf = (x @ hf_permute(wq, n).T).reshape(T, n, head_dim)              # rows in HF's order
    cos, sin = rope_angles(np.arange(T), head_dim, 10000.0)               # [T, Hd/2]
    return q_hf, cos, sin, apply_rope(q_native, cos, sin)


def rope_half_matches(f, seed: int = 0, n: int = 2, head_dim: int = 8) -> tuple[bool, np.ndarray]:
    """Exercise 4: f on HF-ordered queries, read back in native order, against our RoPE on native ones."""
    q_hf, cos, sin, want = rope_half_case(seed, n, head_dim)
    T = len(q_hf)
    got = np.asarray(f(q_hf, cos, sin), dtype=np.float64)
    if got.shape != q_hf.shape:
        raise ValueError(f"rope_half(x, cos, sin) should return x's shape {q_hf.shape}, got {got.shape}")
    back = got.reshape(T, n * head_dim)[:, hf_rope_perm(n, head_dim)].reshape(q_hf.shape)
    return bool(np.allclose(back, want, atol=1e-5)), got


def hf_name(native: str = EXERCISE_1_NATIVE) -> str:
    """Exercise 1: what the HF layout calls a native tensor."""
    return file_name(native, "hf")


def widened(bits) -> np.ndarray:
    """Exercise 2: bf16 bit patterns (uint16) as the float32 numbers they are."""
    return bf16_to_float32(np.asarray(bits, dtype=np.uint16))


def hf_row_of(native_row: int = EXERCISE_3_ROW) -> int:
    """Exercise 3: the HF row that holds a native row of the 7B's wk (K heads of Hd rows)."""
    a = ModelArgs()
    return int(hf_rope_perm(a.n_kv_heads, a.head_dim)[native_row])


# ---- the hints ------------------------------------------------------------------------------------

def _judge_4(f):
    if not callable(f):
        return "a function rope_half(x, cos, sin), not its result"
    ok, got = rope_half_matches(f)
    if ok and rope_half_matches(f, seed=1, n=3, head_dim=16)[0]:
        return None
    q_hf, cos, sin, _ = rope_half_case()
    if np.allclose(got, apply_rope(q_hf, cos, sin), atol=1e-5):
        return "that rotates the pairs (2j, 2j+1), ours; rotate_half pairs feature j with j + Hd/2"
    half = q_hf.shape[-1] // 2
    c2 = np.concatenate([cos, cos], axis=-1)[:, None, :]
    s2 = np.concatenate([sin, sin], axis=-1)[:, None, :]
    if np.allclose(got, q_hf * c2 - np.concatenate([-q_hf[..., half:], q_hf[..., :half]], -1) * s2, atol=1e-5):
        return "the sign: rotate_half(x) is concat(-x[..., Hd/2:], x[..., :Hd/2]), added with + sin"
    return "x * cos2 + rotate_half(x) * sin2, where cos2 is concat(cos, cos) along the last axis, " \
           "broadcast over the heads ([T, 1, Hd])"


def _judge_1(answer):
    if not isinstance(answer, str):
        return "a tensor name is a str"
    if answer == hf_name():
        return None
    if not answer.startswith("model.layers.5."):
        return "HF's per-layer names start with 'model.layers.N.' (N = 5 here)"
    if "gate_proj" in answer:
        return "gate_proj is w1, the one inside silu; w3 is the other factor of the product"
    if "down_proj" in answer:
        return "down_proj is w2, the narrowing back to D"
    return "look the native suffix 'feed_forward.w3.weight' up in names.HF_NAMES (HF suffix -> native suffix)"


def _judge_2(answer, bits):
    a = np.asarray(answer)
    bits = np.asarray(bits, dtype=np.uint16)
    if a.shape != bits.shape:
        return f"one float per bit pattern: shape {bits.shape}"
    if a.dtype != np.float32:
        return f"a float32 array (yours is {a.dtype}): reinterpret the widened bits with .view(np.float32)"
    y = widened(bits)
    if np.array_equal(a, y, equal_nan=True):
        return None
    if np.array_equal(a, bits.astype(np.float32)):
        return "those are the bit patterns read as integers; reinterpret them as the top half of a float32"
    return "a bf16 is the top 16 bits of a float32: widen to uint32, shift left by 16, view as float32"


def _judge_3(answer):
    x, y = whole(answer), hf_row_of()
    if x == y:
        return None
    if x is None:
        return "a row index is a whole number"
    a = ModelArgs()
    if x == EXERCISE_3_ROW:
        return "wk's rows move in the HF layout; only wv's stay where they are"
    if not 0 <= x < a.n_kv_heads * a.head_dim:
        return "the 7B's wk has K * Hd rows (8 kv heads of 128)"
    if x == int(np.argsort(hf_rope_perm(a.n_kv_heads, a.head_dim))[EXERCISE_3_ROW]):
        return "that goes the other way (the native row that HF row 261 holds); ask where native row 261 lands"
    if x // a.head_dim != EXERCISE_3_ROW // a.head_dim:
        return "a row stays within its head: write 261 = h * Hd + 2j + c first (Hd = 128)"
    return "native row h * Hd + 2j + c (pair j, member c) lands at HF row h * Hd + c * Hd/2 + j"


def check(n: int, answer, bits=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint.

    Exercise 2 needs the notebook's ``bits``."""
    if n == 1:
        return outcome(n, answer, _judge_1)
    if n == 2:
        return outcome(n, answer, lambda a: _judge_2(a, bits))
    if n == 3:
        return outcome(n, answer, _judge_3)
    if n == 4:
        return outcome(n, answer, _judge_4)
    return no_exercise(n)
