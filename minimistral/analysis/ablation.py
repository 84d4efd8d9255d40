"""Head ablation: run the model with chosen attention heads removed, and measure what each one is for.

Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than One?" (arXiv 1905.10650),
remove heads by multiplying their output by a gate set to 0. Here, in layer l, head h's
attention output, out[:, h], is zeroed before the output projection wo mixes the heads:

    out  [T, H, Hd]  ->  out[:, h] = 0  ->  wo @ out.reshape(T, H Hd)      (model.attention)

which is the same as zeroing wo's input columns h Hd .. (h + 1) Hd - 1 (what the test does to
transformers' o_proj, an independent computation). With GQA, removing a query head leaves its kv
head to the other query heads of its group: only that head's own mixture is gone.

    logits = ablated_logits(model, ids, [(1, 3), (2, 0)])         # [T, V]
    effects = head_ablation(model, ids)                            # effects.delta [L, H, P]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import MinimistralError
from ..guards.values import check_tokens, whole_number
from ..model import Mistral
from .logit_lens import log_softmax


def checked_heads(heads, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """(layer, head) pairs as ints inside the model, else MinimistralError naming the bad one."""
    if isinstance(heads, (str, bytes)) or not hasattr(heads, "__iter__"):
        raise MinimistralError(f"heads must be a list of (layer, head) pairs, got {type(heads).__name__}.")
    out = []
    for pair in heads:
        if isinstance(pair, (str, bytes)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise MinimistralError(f"each head to remove must be a (layer, head) pair, got {pair!r}.")
        layer = whole_number(pair[0], "layer", 0, maximum=n_layers - 1, hint=f" (the model has {n_layers} layers)")
        head = whole_number(pair[1], "head", 0, maximum=n_heads - 1, hint=f" (each layer has {n_heads} heads)")
        out.append((layer, head))
    return out


class AblatedWeights:
    """A model's Weights in which chosen heads' outputs are zeroed as they enter wo.

    Everything else (embed, vector, the other linears, the stored tensors) is the wrapped
    Weights itself: nothing is copied, and the weights are never modified.
    """

    def __init__(self, weights, heads: list[tuple[int, int]], head_dim: int):
        self.weights = weights
        self.columns: dict[str, np.ndarray] = {}         # wo name -> input columns to zero
        for layer, head in heads:
            name = f"layers.{layer}.attention.wo.weight"
            cols = np.arange(head * head_dim, (head + 1) * head_dim)
            self.columns[name] = np.union1d(self.columns.get(name, cols), cols)

    def linear(self, name: str, x: np.ndarray) -> np.ndarray:
        cols = self.columns.get(name)
        if cols is not None:
            x = x.copy()
            x[:, cols] = np.float32(0)                  # head h's output [T, Hd]: removed
        return self.weights.linear(name, x)

    def __getattr__(self, name):                        # embed, vector, tensors, ...
        return getattr(self.weights, name)


def ablated(model, heads) -> Mistral:
    """The same model with the (layer, head) pairs in ``heads`` removed (weights shared, not copied)."""
    heads = checked_heads(heads, model.args.n_layers, model.args.n_heads)
    return Mistral(model.args, AblatedWeights(model.weights, heads, model.args.head_dim), model.tokenizer)


def ablated_logits(model, tokens, heads) -> np.ndarray:
    """Logits float32 [T, V] of the model with the heads in ``heads`` removed (positions 0..T-1)."""
    return ablated(model, heads).forward(tokens)


class AblationEffects(NamedTuple):
    """Which heads, removed one at a time, hurt which predictions."""
    positions: np.ndarray   # int64 [P] the positions whose prediction is measured
    targets: np.ndarray     # int64 [P] the token asked about there (the one that comes next)
    base: np.ndarray        # float32 [P] its log-probability in the intact model
    delta: np.ndarray       # float32 [L, H, P] log-probability with head (l, h) removed, minus base


def head_ablation(model, tokens, positions=None, targets=None) -> AblationEffects:
    """Remove each head on its own (L x H passes) and measure log p(target) at each position.

    positions: the positions to measure (default all but the last); targets: the token asked
    about at each of them (default the token of the text that follows it, tokens[p + 1]).
    A negative delta: the prediction got worse without that head.
    """
    ids = check_tokens(tokens, model.args.vocab_size)
    T, a = len(ids), model.args
    if positions is None:
        positions = np.arange(T - 1)
    positions = np.array([whole_number(p, "position", 0, maximum=T - 1, hint=f" (the text has {T} tokens)")
                          for p in np.atleast_1d(positions)], dtype=np.int64)
    if len(positions) == 0:
        raise MinimistralError("no position to measure: pass a text of at least 2 tokens, or positions.")
    if targets is None:
        if positions.max() >= T - 1:
            raise MinimistralError(f"position {int(positions.max())} has no next token in the text; "
                                   f"pass targets, or positions below {T - 1}.")
        targets = ids[positions + 1]
    targets = check_tokens(targets, a.vocab_size)
    if len(targets) != len(positions):
        raise MinimistralError(f"{len(targets)} targets for {len(positions)} positions; give one per position.")

    def logp(logits):                                                # [T, V] -> [P]
        return log_softmax(logits[positions])[np.arange(len(positions)), targets]

    base = logp(model.forward(ids))
    delta = np.zeros((a.n_layers, a.n_heads, len(positions)), dtype=np.float32)
    for layer in range(a.n_layers):
        for head in range(a.n_heads):
            delta[layer, head] = logp(ablated_logits(model, ids, [(layer, head)])) - base
    return AblationEffects(positions, targets, base.astype(np.float32), delta)
