"""Worked solutions for notebooks/01_masks.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, sliding_window_mask, additive_mask, window, s ... are defined there).
tests/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# 10,000 >= W - 1, so the window is full: W keys, the query's own position included.
answer_1 = int(sliding_window_mask([10_000], np.arange(10_001), 4096).sum())

# %% exercise-2
# Keep k <= q (tril), then keep q - k <= W (triu with k = -W): W + 1 keys once the window is full.
answer_2 = np.triu(np.tril(np.ones((6, 6), dtype=bool)), k=-3)

# %% exercise-3
# The same composition as for the model, with a window one wider: 32 x 4096 = 131,072,
# the paper's k x W, where the model's own W keys give 32 x 4095 = 131,040.
from minimistral.receptive_field import reach_per_layer

answer_3 = int(reach_per_layer(4096 + 1, 32)[-1])

# %% exercise-4
s = np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32)
z = s + additive_mask(window)                               # -inf where masked
e = np.exp(z - z.max(axis=1, keepdims=True))                # exp(-inf) = 0 exactly
answer_4 = e / e.sum(axis=1, keepdims=True)
