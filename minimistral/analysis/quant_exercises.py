"""The checkers of notebooks/11_quantization.ipynb's exercises.

Each answer is compared with a value computed here, out of the notebook's sight, mostly with
llama.cpp's own reference package (``gguf``: its block sizes, its quantizer and dequantizer),
so a checker cell shows no answer. A wrong answer gets a hint that names what to look at.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder ...)'
    check(1, 5.5)    ->  'exercise 1: right'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs

EXERCISE_2_TENSOR, EXERCISE_2_WEIGHT = "layers.0.feed_forward.w2.weight", 21


def _gguf():
    import gguf

    return gguf


# ---- what each exercise asks, computed ----------------------------------------------------------

def q5_0_bits_per_weight() -> float:
    """Exercise 1: bits per weight of Q5_0, from the block size llama.cpp's gguf package lists."""
    gguf = _gguf()
    weights, nbytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q5_0]
    return 8 * nbytes / weights


def exercise_2_block(model) -> np.ndarray:
    """Exercise 2's block: uint8 [18], the second Q4_0 block (weights 32..63) of row 1 of the
    shipped model's layer-0 w2, as llama.cpp's reference quantizer (gguf.quants.quantize) writes it."""
    gguf = _gguf()
    row = model.weights.tensors[EXERCISE_2_TENSOR].float32()[1:2, 32:64]
    return gguf.quants.quantize(np.ascontiguousarray(row, dtype=np.float32), gguf.GGMLQuantizationType.Q4_0)[0]


def _block_weight(block: np.ndarray, j: int) -> float:
    gguf = _gguf()
    return float(gguf.quants.dequantize(block[None, :], gguf.GGMLQuantizationType.Q4_0)[0, j])


def q6_k_7b_gib() -> float:
    """Exercise 3: the 7B (Table 1) with every matrix in Q6_K and the norms in F32, in GiB."""
    from ..checkpoints.names import iter_expected

    gguf = _gguf()
    per_block, block_bytes = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q6_K]
    total = 0
    for _, shape in iter_expected(ModelArgs()):
        n = int(np.prod(shape))
        total += n // per_block * block_bytes if len(shape) == 2 else 4 * n
    return total / 2**30


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def rms_delta_p(base_logits, q_logits, targets) -> float:
    """Exercise 4: llama.cpp's "RMS Δp" in percent: the root mean square over positions of the
    change in the probability each model gives the token that comes next."""
    rows = np.arange(len(targets))
    p_base = np.exp(_log_softmax(base_logits)[rows, targets])
    p_q = np.exp(_log_softmax(q_logits)[rows, targets])
    return float(100 * np.sqrt(np.mean((p_q - p_base) ** 2)))


def _exercise_4_cases():
    """(base logits, quantized logits, targets): random, one shifted by +1000 (exp overflows
    there unless the row's maximum is taken out first), and one with identical models."""
    rng = np.random.default_rng(11)
    cases = []
    for shift, same in ((0.0, False), (1000.0, False), (0.0, True)):
        base = (3 * rng.standard_normal((40, 500)) + shift).astype(np.float32)
        q = base if same else (base + 0.3 * rng.standard_normal(base.shape)).astype(np.float32)
        cases.append((base, q, rng.integers(0, 500, size=40)))
    return cases


# ---- the checker ---------------------------------------------------------------------------------

def _close(x, y, rtol=1e-4, atol=0.0) -> bool:
    return bool(np.isfinite(x)) and abs(float(x) - y) <= rtol * abs(y) + atol


def _hint_1(x: float) -> str:
    if _close(x, 4.5) or _close(x, 5.0):
        return "count every part of one block of 32 weights: the fp16 scale d, the 16 bytes of low halves " \
               "AND the 32 fifth bits, packed 8 to a byte"
    return "bits per weight = 8 x (bytes of one block) / (weights in it); Q5_0's block holds 32 weights"


def _hint_2(x: float, block: np.ndarray) -> str:
    d = float(block[:2].view(np.float16)[0])
    j = EXERCISE_2_WEIGHT
    low = int(block[2 + j - 16] & 0x0F)
    high = int(block[2 + j - 16] >> 4)
    if _close(x, d * (low - 8), 1e-3):
        return f"weight {j} is not in a low half: weights 0..15 are the low halves of bytes 2..17, " \
               f"weights 16..31 the high halves"
    if _close(x, d * high, 1e-3) or _close(x, d * low, 1e-3):
        return "the 4-bit q runs 0..15 around 8: the weight is d times (q minus 8)"
    return "bytes 0-1 are the fp16 scale d (little-endian, np.float16); find the byte and the half " \
           "that hold q of this weight, then compute d (q - 8)"


def _hint_3(x: float, y: float) -> str:
    if _close(x, y * 2**30 / 1e9, 2e-3):
        return "that looks like GB (10^9 bytes); a GiB is 2^30 bytes"
    if _close(x, y * 2**30, 2e-3):
        return "that looks like bytes; give GiB (2^30 bytes)"
    without_ends = y - 2 * 32000 * 4096 * 210 / 256 / 2**30
    if _close(x, without_ends, 2e-3):
        return "the token embeddings and the output matrix (32000 x 4096 each) are matrices too"
    return "Q6_K stores 256 weights in 210 bytes; count all 7 matrices of each of the 32 layers, the " \
           "embeddings and the output, and the norms in F32 (4 bytes a weight)"


def _hint_4(f) -> str:
    base, q, t = _exercise_4_cases()[0]
    value = float(f(base, q, t))
    if not np.isfinite(float(f(*_exercise_4_cases()[1]))):
        return "with logits near 1000, exp overflows: take each row's largest logit out before exp"
    if _close(value, rms_delta_p(base, q, t) / 100, 1e-3):
        return "llama.cpp prints RMS Δp in percent"
    rows = np.arange(len(t))
    dp = np.exp(_log_softmax(q)[rows, t]) - np.exp(_log_softmax(base)[rows, t])
    if _close(value, 100 * float(np.mean(np.abs(dp))), 1e-3) or _close(value, 100 * float(np.mean(dp)), 1e-3):
        return "root mean SQUARE: square each Δp, average, then take the square root"
    return "Δp at a position is p_q(next token) - p_base(next token), each from a softmax over the " \
           "vocabulary of that position's logits; then the root mean square over positions"


def check(n: int, answer, model=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    if answer is None:
        return f"exercise {n}: not yet (replace the None placeholder above with your answer)"
    try:
        with np.errstate(all="ignore"):          # an answer that overflows gets a hint, not a warning
            if n == 1:
                ok = _close(float(answer), q5_0_bits_per_weight())
                hint = None if ok else _hint_1(float(answer))
            elif n == 2:
                block = exercise_2_block(model)
                ok = _close(float(answer), _block_weight(block, EXERCISE_2_WEIGHT), 1e-6)
                hint = None if ok else _hint_2(float(answer), block)
            elif n == 3:
                y = q6_k_7b_gib()
                ok = _close(float(answer), y, 0, 0.005)
                hint = None if ok else _hint_3(float(answer), y)
            elif n == 4:
                ok = callable(answer) and all(_close(float(answer(*c)), rms_delta_p(*c), 1e-4, 1e-9)
                                              for c in _exercise_4_cases())
                hint = None if ok else ("answer_4 should be a function (base_logits, q_logits, targets) -> float"
                                        if not callable(answer) else _hint_4(answer))
            else:
                raise ValueError(f"there is no exercise {n}")
    except Exception as error:                    # a malformed answer is wrong, not a crash
        ok, hint = False, f"your answer raised {type(error).__name__}: {error}"
    return f"exercise {n}: right" if ok else f"exercise {n}: wrong; hint: {hint}"
