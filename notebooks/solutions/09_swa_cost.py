"""Worked solutions for notebooks/09_swa_cost.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, attended_pairs, attention_flops, score_bytes, W ... are defined there).
tests/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# Pairs: query t reads min(t + 1, W) keys (t + 1 without a window). Each pair costs a q.k and a
# p v product of Hd multiply-adds each, 4 Hd FLOPs, in each of the H query heads.
def answer_1(T, W, H, Hd):
    if W is None or T <= W:
        pairs = T * (T + 1) // 2
    else:
        pairs = W * (W + 1) // 2 + (T - W) * W
    return 4 * Hd * H * pairs

# %% exercise-2
# T (T + 1) / 2 >= 2 [W (W + 1) / 2 + (T - W) W]  <=>  T^2 - (4W - 1) T + 2W^2 - 2W >= 0;
# the larger root, rounded up (then checked exactly with integers).
import math

b, c = 4 * W - 1, 2 * W * W - 2 * W
t = math.ceil((b + math.sqrt(b * b - 4 * c)) / 2)
while t * (t + 1) // 2 < 2 * (W * (W + 1) // 2 + (t - W) * W):
    t += 1
while (t - 1) * t // 2 >= 2 * (W * (W + 1) // 2 + (t - 1 - W) * W):
    t -= 1
answer_2 = t            # 13985: below 16K, where the count gives 2.29x

# %% exercise-3
# [H, T, T] and [H, T, W] float32 values, 4 bytes each: 137.4 GB and 17.2 GB, T / W = 8x smaller.
H_, T_ = 32, 32768
answer_3 = (H_ * T_ * T_ * 4, H_ * T_ * W * 4)

# %% exercise-4
# The square does T^2 pairs, the triangle T (T + 1) / 2, SWA W (W + 1) / 2 + (T - W) W.
T_, swa_pairs = 16384, W * (W + 1) // 2 + (16384 - W) * W
answer_4 = (T_ * T_ / swa_pairs, T_ * (T_ + 1) / 2 / swa_pairs)          # (4.571, 2.286)
