"""Worked solutions for notebooks/07_training.ipynb.

One function per exercise. Each takes the inputs the notebook defines just above the exercise,
under the same names, and returns the answer. Each block below, from its ``# %% exercise-N``
line, can also replace the notebook's exercise cell as it is: run there (``__name__ ==
"__main__"``), it fills in ``answer_N``. tests/test_notebook07_solutions.py runs every function
through the notebook's own checker cells, and checks that broken answers do not pass them.
"""

import math

import numpy as np


# %% exercise-1
def exercise_1(z, y):
    """Mean cross-entropy (nats): log sum_j exp(z_tj) - z_t[y_t], averaged over positions t.

    The row maximum is subtracted before exp (so it cannot overflow) and added back after the log.
    """
    z = np.asarray(z, dtype=np.float64)                                  # [T, V]
    m = z.max(axis=1)                                                    # [T]
    log_sum_exp = m + np.log(np.exp(z - m[:, None]).sum(axis=1))         # [T]
    return float(np.mean(log_sum_exp - z[np.arange(len(y)), y]))


if __name__ == "__main__":          # in place of the notebook's exercise cell
    answer_1 = exercise_1(z, y)
    print("answer_1 =", answer_1)

# %% exercise-2
def exercise_2(p, dp):
    """dS = P * (dP - sum_s P dP), row by row: the softmax Jacobian diag(p) - p p^T applied to dP.

    Where the mask made p = 0 the product is 0 * (a finite number) = 0 exactly, whatever dp is.
    """
    p = np.asarray(p, dtype=np.float32)                                  # [T, S]
    dp = np.asarray(dp, dtype=np.float32)                                # [T, S]
    return p * (dp - np.sum(p * dp, axis=1, keepdims=True))              # [T, S]


if __name__ == "__main__":
    answer_2 = exercise_2(p, dp)
    print("answer_2 =", answer_2)

# %% exercise-3
def exercise_3(W3, layers3, t3):
    """Computed, not reasoned: random blocks, a gradient on position t3's output only, backward.

    With W keys per query each layer reaches W - 1 further back, so the answer is
    t3 - layers3 * (W3 - 1) .. t3 = 11 .. 20; here minimistral's own block_backward says so.
    """
    from minimistral.config import ModelArgs
    from minimistral.training.backward import Pass, block_backward, block_forward
    from minimistral.training.init import init_params
    from minimistral.training.train import model_of

    T = t3 + 1
    a = ModelArgs(dim=16, n_layers=layers3, head_dim=8, hidden_dim=32, n_heads=2, n_kv_heads=1,
                  sliding_window=W3, vocab_size=32000)
    c = Pass.of(model_of(a, init_params(a, 0, std=0.2)), 1, T)           # weights, RoPE, mask
    h = np.random.default_rng(0).normal(0, 1, (T, a.dim)).astype(np.float32)     # [T, D]
    saved = []
    for i in range(layers3):
        h, s = block_forward(c, i, h)
        saved.append(s)
    dh = np.zeros_like(h)
    dh[t3] = 1.0                                                         # the loss at t3 only
    for i in reversed(range(layers3)):
        dh = block_backward(c, i, dh, saved[i], {})                      # [T, D]
    return [int(s) for s in np.flatnonzero(np.abs(dh).sum(axis=1) > 0)]


if __name__ == "__main__":
    answer_3 = exercise_3(W3, layers3, t3)
    print("answer_3 =", answer_3)

# %% exercise-4
def exercise_4(w4, g1, g2, lr1, lr2, cfg4):
    """Two AdamW steps (Loshchilov & Hutter, arXiv 1711.05101), float64, bias correction by step t."""
    w = np.asarray(w4, dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, (g, lr) in enumerate(((g1, lr1), (g2, lr2)), start=1):
        g = np.asarray(g, dtype=np.float64)
        w = w * (1 - lr * cfg4.weight_decay)                             # decoupled decay
        m = cfg4.beta1 * m + (1 - cfg4.beta1) * g
        v = cfg4.beta2 * v + (1 - cfg4.beta2) * g * g
        m_hat = m / (1 - cfg4.beta1 ** t)
        v_hat = v / (1 - cfg4.beta2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + cfg4.adam_eps)
    return w


if __name__ == "__main__":
    answer_4 = exercise_4(w4, g1, g2, lr1, lr2, cfg4)
    print("answer_4 =", answer_4)

# %% exercise-5
def exercise_5(cfg5):
    """Warm-up then half a cosine, written out; the first step below lr / 2.

    After warm-up, lr(s) / lr = r + (1 - r) (1 + cos(pi p)) / 2 with p the progress 0..1: below
    1/2 when cos(pi p) < (1 - 2r) / (1 - r) - 1, i.e. past p = 0.535 for r = 0.1 (step 229).
    """
    def lr(step):
        if step <= cfg5.warmup:
            return cfg5.lr * step / cfg5.warmup
        progress = (step - cfg5.warmup) / (cfg5.steps - cfg5.warmup)
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return cfg5.lr * (cfg5.min_lr_ratio + (1 - cfg5.min_lr_ratio) * cosine)

    return next(s for s in range(cfg5.warmup + 1, cfg5.steps + 1) if lr(s) < cfg5.lr / 2)


if __name__ == "__main__":
    answer_5 = exercise_5(cfg5)
    print("answer_5 =", answer_5)
