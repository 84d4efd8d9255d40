"""The checker of notebooks/00_first_look.ipynb's exercise, computed here, out of the notebook's sight.

    check(1, None, model, ids)   ->  'exercise 1: not yet (replace the None placeholder ...)'
    check(1, 1234, model, ids)   ->  'exercise 1: right'  or  'exercise 1: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np


def second_greedy_token(model, ids) -> int:
    """Exercise 1: the second token greedy decoding writes after ids (model.generate, rolling buffer)."""
    return int(model.generate(ids, max_tokens=2, eos_id=None)[1])


def _hint(x: int, model, ids) -> str:
    logits = model.forward(ids)[-1]                                            # [V]
    first = int(logits.argmax())
    if x == first:
        return "that is the first new token; append it to the ids and run the model again"
    if x == int(np.argsort(-logits, kind="stable")[1]):
        return "that is the runner-up at the same position; greedy takes the top token of the NEW last position"
    return "greedy decoding: the id of the largest logit at the last position, appended to the ids, then again"


def check(n: int, answer, model=None, ids=None) -> str:
    """'exercise 1: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    if n != 1:
        raise ValueError(f"there is no exercise {n}")
    if answer is None:
        return "exercise 1: not yet (replace the None placeholder above with your answer)"
    try:
        ok = int(answer) == float(answer) and int(answer) == second_greedy_token(model, ids)
        hint = None if ok else (_hint(int(answer), model, ids) if int(answer) == float(answer)
                                else "a token id is a whole number")
    except Exception as error:  # noqa: BLE001 -- a malformed answer is wrong, not a crash
        ok, hint = False, f"your answer raised {type(error).__name__}: {error}"
    return "exercise 1: right" if ok else f"exercise 1: wrong; hint: {hint}"
