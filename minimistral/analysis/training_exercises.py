"""The checkers of notebooks/07_training.ipynb's exercises, computed here, out of the notebook's
sight: the loss and the softmax backward by their formulas (in float64, as references for what
training/evaluate.py and training/backward.py compute), the positions that get gradient from
receptive_field.reach_matrix, two AdamW steps and the schedule through the notebook's own
TrainConfig (cfg.adamw, cfg.lr_at). A wrong answer gets a hint naming what to look at. (This
module imports nothing from training/: analysis/ sits above it, and training/ imports analysis/.)

The notebook passes its own inputs (the logits, the weights, the config), so each expected value
is recomputed here from the same numbers by the library's route.

    check(1, None, z=z, y=y)   ->  'exercise 1: not yet (...)'
    check(1, 2.3, z=z, y=y)    ->  'exercise 1: right'  or  'exercise 1: wrong; hint: ...'
"""

from __future__ import annotations

import numpy as np

from ..receptive_field import reach_matrix
from ._checking import no_exercise, outcome, whole


def loss(z, y) -> float:
    """Exercise 1: mean next-token cross-entropy in nats: log-sum-exp of each row minus its target."""
    z = np.asarray(z, dtype=np.float64)
    top = z.max(axis=-1, keepdims=True)
    logsumexp = top[:, 0] + np.log(np.exp(z - top).sum(axis=-1))
    return float((logsumexp - z[np.arange(len(z)), np.asarray(y)]).mean())


def softmax_backward(dp, p) -> np.ndarray:
    """Exercise 2: dS = P * (dP - sum_s P dP), per query row."""
    dp, p = np.asarray(dp, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return p * (dp - (p * dp).sum(axis=-1, keepdims=True))


def gradient_positions(t: int, window: int, layers: int) -> list[int]:
    """Exercise 3: the input positions the prediction at t depends on through `layers` windows."""
    return [int(s) for s in np.flatnonzero(reach_matrix(t + 1, window, layers)[t])]


def two_adamw_steps(cfg, w, g1, g2, lr1, lr2) -> np.ndarray:
    """Exercise 4: the weights after two AdamW updates with cfg's hyper-parameters."""
    name = "layers.0.attention.wq.weight"                      # a matrix: weight decay applies
    params = {name: np.array(w, dtype=np.float32)}
    opt = cfg.adamw(params)
    for grad, lr in ((g1, lr1), (g2, lr2)):
        opt.update(params, {name: np.array(grad, dtype=np.float32)}, lr)
    return params[name]


def first_step_below_half(cfg) -> int:
    """Exercise 5: the first step after the warm-up whose learning rate is below half the peak."""
    return next(s for s in range(cfg.warmup + 1, cfg.steps + 1) if cfg.lr_at(s) < cfg.lr / 2)


def _judge_1(x, z, y):
    want = loss(z, y)
    if abs(float(x) - want) < 1e-4:
        return None
    if abs(float(x) - want / np.log(2)) < 1e-3:
        return "that is in bits: use the natural log (nats)"
    return "log-softmax of each row (subtract the row's max before exp), minus its entry at the target, " \
           "then the mean over positions"


def _judge_2(x, dp, p, allowed):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (5, 5):
        return "one gradient per (query, key): shape [5, 5]"
    if (x[~np.asarray(allowed)] != 0).any():
        return "where the mask forbids a key, p is exactly 0, so P * (...) is exactly 0 there"
    if np.allclose(x, softmax_backward(dp, p), atol=1e-6):
        return None
    if np.allclose(x, p * dp, atol=1e-6):
        return "the sum term is missing: subtract sum over keys of P * dP (one number per query) from dP"
    return "dS = P * (dP - sum_s P dP), the sum over the keys of each query's row (keepdims)"


def _judge_3(x, t, window, layers):
    x = [whole(s) for s in x]
    want = gradient_positions(t, window, layers)
    if x == want:
        return None
    if x and x[0] is not None and x[0] < want[0]:
        return "each layer reaches back W - 1 positions (W keys, the query's own included), not W"
    if x and x[0] is not None and x[0] > want[0]:
        return "the hops chain: every layer adds its own reach, layers x (W - 1) in all"
    return "a sorted list of every position from the farthest one reached up to t itself"


def _judge_4(x, cfg, w, g1, g2, lr1, lr2):
    x = np.asarray(x, dtype=np.float64)
    if x.shape != np.shape(w):
        return f"the weights themselves, shape {np.shape(w)}"
    if np.allclose(x, two_adamw_steps(cfg, w, g1, g2, lr1, lr2), atol=1e-6):
        return None
    one = two_adamw_steps(cfg, w, g1, 0 * np.asarray(g2), lr1, 0.0)
    if np.allclose(x, one, atol=1e-6):
        return "that is after one update; apply the second with g2 and lr2, m and v carried over"
    return "divide m by 1 - beta1^t and v by 1 - beta2^t (t = the step number, 1 then 2), and decay the " \
           "weights by lr x weight_decay at each step"


def _judge_5(x, cfg):
    x, want = whole(x), first_step_below_half(cfg)
    if x == want:
        return None
    if x is None:
        return "a step number is a whole number"
    return "steps count from 1; after the warm-up the cosine starts at lr (progress 0) and reaches " \
           "lr x min_lr_ratio at the last step: find the first step strictly below lr / 2"


def check(n: int, answer, **data) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint. ``data``:
    the notebook's inputs of that exercise (z, y / dp, p, allowed / t, window, layers /
    cfg, w, g1, g2, lr1, lr2 / cfg)."""
    judges = {1: _judge_1, 2: _judge_2, 3: lambda x, **d: _judge_3(list(x), **d), 4: _judge_4, 5: _judge_5}
    if n not in judges:
        return no_exercise(n)
    return outcome(n, answer, lambda x: judges[n](x, **data))
