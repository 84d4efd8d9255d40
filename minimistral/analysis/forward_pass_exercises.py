"""The checkers of notebooks/06_forward_pass.ipynb's exercises, computed here, out of the notebook's sight.

Each expected value comes from the GLU-variants sizing rule, a float64 RMSNorm, the tokenizer's
chat template and the library's top-p filter; a wrong answer gets a hint that names what to look at.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(1, 1234)   ->  'exercise 1: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..sampling import softmax_with_temperature, top_p_filter
from ._checking import no_exercise, outcome, whole

EXERCISE_1_D = 5120                       # Llama 2 13B's width
EXERCISE_2_EPS = 1e-5
EXERCISE_3_TURNS = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                    {"role": "user", "content": "Bye"}]
EXERCISE_4_T, EXERCISE_4_P = 1.0, 0.5


def glu_width(dim: int = EXERCISE_1_D, multiple_of: int = 256) -> int:
    """Exercise 1: 2/3 * 4D truncated, rounded up to a multiple of 256 (Llama's sizing rule)."""
    return multiple_of * -(-int(2 * 4 * dim / 3) // multiple_of)


def rms_normed(t, g, eps: float = EXERCISE_2_EPS) -> np.ndarray:
    """Exercise 2: RMSNorm of each row of t times the gain g, in float64."""
    t = np.asarray(t, dtype=np.float64)
    return t / np.sqrt(np.mean(t * t, axis=-1, keepdims=True) + eps) * np.asarray(g, dtype=np.float64)


def chat_ids(tok) -> list[int]:
    """Exercise 3: the ids of the two-turn conversation, by the tokenizer's own template."""
    return list(tok.encode_chat(EXERCISE_3_TURNS))


def nucleus_size(logits, temperature: float = EXERCISE_4_T, top_p: float = EXERCISE_4_P) -> int:
    """Exercise 4: how many tokens the top-p nucleus keeps."""
    return int(np.count_nonzero(top_p_filter(softmax_with_temperature(logits, temperature), top_p)))


# ---- the hints ------------------------------------------------------------------------------------

def _judge_1(answer):
    x, y = whole(answer), glu_width()
    if x == y:
        return None
    if x is None:
        return "a width is a whole number"
    if x == int(2 * 4 * EXERCISE_1_D / 3):
        return "that is 2/3 * 4D before rounding; round it up to a multiple of 256"
    if x == y - 256:
        return "that rounds down; the rule rounds up (-(-n // 256) is a ceiling division)"
    if x == int(3.5 * EXERCISE_1_D):
        return "that is Mistral's F / D = 3.5; the exercise asks for the GLU-variants rule, 2/3 of 4D"
    return "start from 2 * 4 * D / 3 with D = 5120, truncate with int(), then round up to a multiple of 256"


def _judge_2(answer, t, g):
    a = np.asarray(answer, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if a.shape != t.shape:
        return f"one number per entry of t: shape {t.shape}"
    y = rms_normed(t, g)
    if np.allclose(a, y, rtol=1e-5, atol=1e-6):
        return None
    if np.allclose(a, rms_normed(t, np.ones_like(g)), rtol=1e-5, atol=1e-6):
        return "normalised, but the gain g is missing: multiply by it at the end"
    centred = t - t.mean(axis=-1, keepdims=True)
    if np.allclose(a, centred / np.sqrt(t.var(axis=-1, keepdims=True) + EXERCISE_2_EPS) * g, rtol=1e-5, atol=1e-6):
        return "that is LayerNorm: RMSNorm does not subtract the mean"
    if np.allclose(a, t / np.sqrt(np.mean(t * t, axis=0, keepdims=True) + EXERCISE_2_EPS) * g, rtol=1e-5, atol=1e-6):
        return "the mean of the squares is taken along each row (axis=-1, over one token's features)"
    return "divide each row by sqrt(mean of its squares + eps), with eps inside the square root, then times g"


def _judge_3(answer, tok):
    a = [int(i) for i in answer]
    y = chat_ids(tok)
    if a == y:
        return None
    if not a or a[0] != 1:
        return "a conversation starts with <s> (id 1), once"
    if a.count(1) > 1:
        return "<s> (id 1) comes once, at the very start; encode the later pieces with bos=False"
    if 2 not in a:
        return "the assistant's answer ends with </s> (id 2)"
    return "compare tok.piece(i) of your ids with the template: '[INST] Hi [/INST]', 'Hello!', </s>, " \
           "'[INST] Bye [/INST]', each encoded with bos=False"


def _judge_4(answer, logits):
    x, y = whole(answer), nucleus_size(logits)
    if x == y:
        return None
    if x is None:
        return "a number of tokens is a whole number"
    if x == y - 1:
        return "one short: the token whose probability carries the sum past p is kept too " \
               "(keep a token while the mass before it is below p)"
    pr = softmax_with_temperature(logits, EXERCISE_4_T)
    if x == int(np.count_nonzero(top_p_filter(pr, 0.9))):
        return "that is the nucleus at p = 0.9; this exercise asks for p = 0.5"
    return "softmax at temperature 1, sort the probabilities in decreasing order, and count the tokens " \
           "whose cumulative mass before them is below 0.5"


def check(n: int, answer, t=None, g=None, tok=None, logits=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint.

    Exercise 2 needs the notebook's t and g, exercise 3 its tokenizer, exercise 4 its
    sampling_logits."""
    if n == 1:
        return outcome(n, answer, _judge_1)
    if n == 2:
        return outcome(n, answer, lambda a: _judge_2(a, t, g))
    if n == 3:
        return outcome(n, answer, lambda a: _judge_3(a, tok))
    if n == 4:
        return outcome(n, answer, lambda a: _judge_4(a, logits))
    return no_exercise(n)
