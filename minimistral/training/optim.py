"""The optimiser, on plain hyper-parameters: AdamW, a warm-up + cosine schedule, global-norm clipping.

Used by the trainer (train.py) and by the reach experiment (reach.py) alike. Parameters and
gradients are dicts {native name: float32 array}; every update is in place, so a model built
over the parameters (Weights.from_arrays, no copy) sees each step at once.

    opt = AdamW(params, weight_decay=0.1)
    for step in range(1, steps + 1):
        loss, grads = loss_and_grads(model, batch)
        clip_global_norm(grads, 1.0)
        opt.update(params, grads, lr_at(step, 3e-3, warmup=30, steps=steps))
"""

from __future__ import annotations

import math

import numpy as np

from ..guards.values import real_number


def decays(name: str) -> bool:
    """Weight decay applies to the matrices, not to the RMSNorm gains (they should stay near 1)."""
    return not name.endswith("norm.weight")


def lr_at(step: int, lr: float, warmup: int, steps: int, min_lr_ratio: float = 0.1) -> float:
    """Learning rate of step (1-based): linear warm-up to lr, then cosine down to lr * min_lr_ratio.

        lr_at(15, 3e-3, 30, 1200) -> 1.5e-3,  lr_at(30, ...) -> 3e-3,  lr_at(1200, ...) -> 3e-4
    """
    if step <= warmup:
        return lr * step / warmup
    progress = (step - warmup) / max(1, steps - warmup)                             # 0 .. 1
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))                  # 1 .. 0
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine)


def clip_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients by one factor so that their joint L2 norm is <= max_norm; returns the norm before."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if norm > max_norm:
        scale = np.float32(max_norm / (norm + 1e-6))
        for g in grads.values():
            g *= scale
    return norm


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101), as torch.optim.AdamW:

        p <- p * (1 - lr * wd)                          (decay, only where decays(name))
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The moments m, v are float32 arrays shaped like the parameters; updates are in place.
    torch's defaults are beta2 0.999 and weight decay 0.01; the defaults here are the shipped
    model's recipe (training/train.TrainConfig).
    """

    def __init__(self, params: dict[str, np.ndarray], beta1: float = 0.9, beta2: float = 0.95,
                 eps: float = 1e-8, weight_decay: float = 0.1):
        self.beta1, self.beta2, self.eps, self.weight_decay = beta1, beta2, eps, weight_decay
        self.t = 0
        self.m = {n: np.zeros_like(p) for n, p in params.items()}
        self.v = {n: np.zeros_like(p) for n, p in params.items()}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        self.t += 1
        b1, b2 = np.float32(self.beta1), np.float32(self.beta2)
        step_size = np.float32(lr / (1.0 - self.beta1 ** self.t))
        root_bias2 = np.float32(math.sqrt(1.0 - self.beta2 ** self.t))
        for name, p in params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            if self.weight_decay and decays(name):
                p *= np.float32(1.0 - lr * self.weight_decay)
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * np.square(g)
            denom = np.sqrt(v) / root_bias2 + np.float32(self.eps)
            p -= step_size * m / denom


def checked_hyper_parameters(c) -> dict:
    """The optimiser's numbers of a training config (TrainConfig, FinetuneConfig) as plain floats:
    lr, clip and adam_eps > 0; weight_decay and min_lr_ratio >= 0; beta1 and beta2 in [0, 1).
    MinimistralError names the first that is not."""
    fixed = {n: real_number(getattr(c, n), n, "a number > 0", lambda x: x > 0) for n in ("lr", "clip", "adam_eps")}
    for n in ("weight_decay", "min_lr_ratio"):
        fixed[n] = real_number(getattr(c, n), n, "a number >= 0", lambda x: x >= 0)
    for n in ("beta1", "beta2"):
        fixed[n] = real_number(getattr(c, n), n, "a number >= 0 and < 1", lambda x: 0 <= x < 1)
    return fixed
