"""The checkers of notebooks/02_receptive_field.ipynb's exercises, computed here, out of the
notebook's sight: by composing the model's masks (receptive_field.reach_matrix, reach_per_layer)
and, for exercise 3, by measuring the tiny model; a wrong answer gets a hint naming what to look at.

    check(1, None)                 ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(3, [0, 2], model, tokens) ->  'exercise 3: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..config import ModelArgs
from ..receptive_field import (
    farthest_back,
    measure_influence,
    measured_reach,
    reach_matrix,
    reach_per_layer,
)
from ._checking import no_exercise, outcome, whole

EXERCISE_1_W, EXERCISE_1_LAYERS = 5, 5
EXERCISE_2_TARGET = 8192                      # the 7B's context length, Table 1
EXERCISE_3_POSITION, EXERCISE_3_WORD = 5, "dog"


def reach_of(window: int, n_layers: int) -> int:
    """How far back the newest token sees, from the composed masks (40 tokens is more than enough here)."""
    return farthest_back(reach_matrix(window * n_layers + 2, window, n_layers))


def layers_to_reach(target: int = EXERCISE_2_TARGET) -> int:
    """Exercise 2: the fewest layers after which the 7B's newest token sees ``target`` positions back."""
    a = ModelArgs()
    return int(np.argmax(reach_per_layer(a.sliding_window, a.n_layers) >= target))


def measured_reach_at(model, tokens, position: int = EXERCISE_3_POSITION, word: str = EXERCISE_3_WORD) -> list[int]:
    """Exercise 3: how far the change of the token at ``position`` travels after 0..L layers."""
    dog = model.tokenizer.encode(word, bos=False)[0]
    influence = measure_influence(model.hidden_states, tokens, position=position, replacement=dog)
    return [int(r) for r in measured_reach(influence, position=position)]


def _judge_1(answer):
    x, y = whole(answer), reach_of(EXERCISE_1_W, EXERCISE_1_LAYERS)
    if x == y:
        return None
    if x is None:
        return "a number of positions is a whole number"
    if x == EXERCISE_1_W * EXERCISE_1_LAYERS:
        return "that is the paper's k x W; with the model's W keys (its own position included) each layer " \
               "goes back one position less"
    return "each layer lets the earliest position reached look back over its window once more; count how far " \
           "one layer goes with W keys, the query's own included"


def _judge_2(answer):
    x, y = whole(answer), layers_to_reach()
    if x == y:
        return None
    if x is None:
        return "a number of layers is a whole number"
    if x == EXERCISE_2_TARGET // ModelArgs().sliding_window:
        return "that is what the paper's k x W says; with W keys a layer reaches W - 1 back, so check " \
               "whether that many layers really get there"
    return "find the first entry of reach_per_layer (the 7B's W, its number of layers) that is at least the " \
           "context length"


def _judge_3(answer, model, tokens):
    x, y = [whole(r) for r in answer], measured_reach_at(model, tokens)
    if x == y:
        return None
    if len(x) != len(y):
        return f"one number per depth, after 0 to {len(y) - 1} layers: {len(y)} ints"
    if x[0] != 0:
        return "after 0 layers (the embeddings) only the swapped position itself has changed"
    if x[:3] == y[:3]:
        return "the change cannot travel past the last token of the text: see how many tokens come after position 5"
    return "swap the token at position 5 for dog with measure_influence, then read measured_reach at position 5"


def _judge_4(f):
    if not callable(f):
        return "answer_4 should be a function reach_after(W, n_layers) -> int"
    for W in (1, 2, 3, 4):
        for k in range(6):
            if f(W, k) != reach_of(W, k):
                if k == 0:
                    return "with no layer, the newest token sees only itself: 0 positions back"
                if f(W, k) == W * k:
                    return "each layer adds W - 1 positions, not W: the W keys include the query's own position"
                return f"compare with the composed masks for W = {W} and {k} layers: follow the earliest " \
                       f"position reached, one layer at a time"
    a = ModelArgs()
    if f(a.sliding_window, a.n_layers) != int(reach_per_layer(a.sliding_window, a.n_layers)[-1]):
        return "right for small sizes but not for the 7B's W and 32 layers: avoid building matrices or " \
               "anything that grows with W"
    return None


def check(n: int, answer, model=None, tokens=None) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint.

    Exercise 3 needs the notebook's tiny model and its tokens."""
    if n == 1:
        return outcome(n, answer, _judge_1)
    if n == 2:
        return outcome(n, answer, _judge_2)
    if n == 3:
        return outcome(n, answer, lambda a: _judge_3(list(a), model, tokens))
    if n == 4:
        return outcome(n, answer, _judge_4)
    return no_exercise(n)
