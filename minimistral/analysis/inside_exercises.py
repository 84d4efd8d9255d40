"""The checkers of notebooks/12_inside_the_model.ipynb's exercises.

Each answer is compared with a value computed here, out of the notebook's sight: the
tokenizer's own encoding (sentencepiece), the logit lens (logit_lens.py) and head ablation
(ablation.py). A wrong answer gets a hint that names what to look at, not the answer.

    check(1, None)                 ->  'exercise 1: not yet (replace the None placeholder ...)'
    check(2, 0.12, model, ids)     ->  'exercise 2: right'  or  'exercise 2: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from .ablation import ablated_logits
from .logit_lens import lens_logits, log_softmax, logit_lens, residual_stream

# Characters whose encoding exercise 1 checks: those of them the vocabulary lacks (byte fallback).
EXERCISE_1_CANDIDATES = ["🦙", "𝄞", "ǅ", "ꙮ", "🜁", "ꝏ"]
EXERCISE_2_LAYER = 1           # the lens after this layer (stage EXERCISE_2_LAYER + 1)
EXERCISE_3_LAYER = 1           # every head of this layer removed at once


# ---- what each exercise asks, computed ----------------------------------------------------------

def byte_fallback_chars(tokenizer) -> list[str]:
    """Exercise 1's characters: the candidates that sentencepiece spells with byte pieces only."""
    sp = tokenizer.sp
    out = []
    for c in EXERCISE_1_CANDIDATES:
        ids = [i for i in sp.encode(c) if sp.id_to_piece(i) != "\u2581"]
        if ids and all(sp.is_byte(i) for i in ids):
            out.append(c)
    return out


def byte_piece_ids(tokenizer, char: str) -> list[int]:
    """Exercise 1: the ids of the byte pieces sentencepiece encodes char with."""
    sp = tokenizer.sp
    return [i for i in sp.encode(char) if sp.is_byte(i)]


def lens_probability(model, ids, layer: int = EXERCISE_2_LAYER) -> float:
    """Exercise 2: the lens after ``layer``, last position: probability of the model's final top token."""
    final_top = int(model.forward(ids)[-1].argmax())
    return float(logit_lens(model, ids, k=1, target=final_top).target_probs[layer + 1, -1])


def next_token_logp(logits, ids) -> np.ndarray:
    """float32 [T - 1]: log p(ids[t + 1]) at positions 0..T-2."""
    ids = np.asarray(ids)
    return log_softmax(logits[:-1])[np.arange(len(ids) - 1), ids[1:]]


def layer_ablation_change(model, ids, layer: int = EXERCISE_3_LAYER) -> float:
    """Exercise 3: mean over positions of log p(next token), every head of ``layer`` removed, minus intact."""
    heads = [(layer, h) for h in range(model.args.n_heads)]
    return float(np.mean(next_token_logp(ablated_logits(model, ids, heads), ids)
                         - next_token_logp(model.forward(ids), ids)))


# ---- the checker ---------------------------------------------------------------------------------

def _close(x, y, rtol=1e-4, atol=1e-6) -> bool:
    return bool(np.isfinite(x)) and abs(float(x) - y) <= rtol * abs(y) + atol


def _hint_1(f, tokenizer, chars) -> str:
    sp = tokenizer.sp
    c = chars[0]
    got = [int(i) for i in f(c)]
    raw = list(c.encode("utf-8"))
    if sp.piece_to_id("\u2581") in got:
        return "give only the byte pieces: the '▁' sentencepiece puts in front of a text is a piece of its own"
    if len(got) != len(raw):
        return "one id per byte of the character's UTF-8 encoding (char.encode('utf-8'))"
    if got == raw:
        return "the byte pieces do not start at id 0: look up the id of the piece '<0x00>' " \
               "(tokenizer.sp.piece_to_id)"
    return "byte b is the piece '<0xBB>' (b in two hex digits); the 256 byte pieces have consecutive ids"


def _hint_2(x: float, model, ids) -> str:
    layer = EXERCISE_2_LAYER
    residual = residual_stream(model, ids)                                     # [L + 1, T, D]
    final_top = int(model.forward(ids)[-1].argmax())
    for s in range(len(residual)):
        logits = lens_logits(model, residual[s:s + 1, -1:])[0, 0]             # [V]
        if s != layer + 1 and _close(x, float(np.exp(log_softmax(logits))[final_top]), 1e-3):
            return f"stage {s} is not 'after layer {layer}': model.hidden_states(ids)[i] is the residual " \
                   f"BEFORE layer i (stage 0 is the embedding)"
    h = residual[layer + 1, -1:]
    unnormed = model.weights.linear("output.weight", h)[0]                     # no final norm
    if _close(x, float(np.exp(log_softmax(unnormed))[final_top]), 1e-3):
        return "the output layer reads the residual after the final RMSNorm (norm.weight, norm_eps)"
    logits = lens_logits(model, h)[0]
    if _close(x, float(logits[final_top]), 1e-3):
        return "that is a logit; a probability is its softmax over all 32000 logits"
    return f"take the residual after layer {layer} at the last position, apply the final RMSNorm and the " \
           f"output layer, softmax, and read the entry of the token the whole model puts first there"


def _hint_3(x: float, model, ids, y: float) -> str:
    layer = EXERCISE_3_LAYER
    base = next_token_logp(model.forward(ids), ids)
    singles = [float(np.mean(next_token_logp(ablated_logits(model, ids, [(layer, h)]), ids) - base))
               for h in range(model.args.n_heads)]
    if _close(x, sum(singles), 1e-3):
        return "removing heads together is not removing them one at a time: run one pass with all of them removed"
    if _close(-x, y, 1e-3):
        return "ablated minus intact: a prediction that gets worse without the heads is a negative change"
    if any(_close(x, s, 1e-3) for s in singles):
        return f"that is one head; remove all {model.args.n_heads} heads of layer {layer} together"
    return "log_softmax each position's logits, take the next token's entry at positions 0..T-2, average; " \
           "do it with and without the heads (ablated_logits) and subtract"


def check(n: int, answer, model=None, ids=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    if answer is None:
        return f"exercise {n}: not yet (replace the None placeholder above with your answer)"
    try:
        with np.errstate(all="ignore"):
            if n == 1:
                chars = byte_fallback_chars(model.tokenizer)
                ok = callable(answer) and all([int(i) for i in answer(c)] == byte_piece_ids(model.tokenizer, c)
                                              for c in chars)
                hint = None if ok else ("answer_1 should be a function char -> list of ids"
                                        if not callable(answer) else _hint_1(answer, model.tokenizer, chars))
            elif n == 2:
                ok = _close(float(answer), lens_probability(model, ids), 1e-4, 1e-7)
                hint = None if ok else _hint_2(float(answer), model, ids)
            elif n == 3:
                y = layer_ablation_change(model, ids)
                ok = _close(float(answer), y, 1e-3, 1e-5)
                hint = None if ok else _hint_3(float(answer), model, ids, y)
            else:
                raise ValueError(f"there is no exercise {n}")
    except Exception as error:  # noqa: BLE001 -- a malformed answer is wrong, not a crash
        ok, hint = False, f"your answer raised {type(error).__name__}: {error}"
    return f"exercise {n}: right" if ok else f"exercise {n}: wrong; hint: {hint}"
