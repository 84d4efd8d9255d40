"""Worked solutions for notebooks/10_cpu_inference.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
# Per weight: 2 bytes of bf16 read once, 2 FLOP (multiply, add) per row. Reading takes
# 2 / bandwidth seconds per weight, multiplying 2 T / speed: longer once T > speed / bandwidth.
bandwidth, speed = 14e9, 160e9
answer_1 = int(speed / bandwidth) + 1                # 11.4 -> 12

# %% exercise-2
q, kv = a.n_heads * a.head_dim, a.n_kv_heads * a.head_dim          # 4096 and 1024 (GQA: 8 kv heads)
per_layer = a.dim * q + 2 * a.dim * kv + q * a.dim + 3 * a.dim * a.hidden_dim   # wq, wk, wv, wo, w1-w3
answer_2 = a.n_layers * per_layer * 2                # 13,958,643,712 bytes: about 14 GB per token

# %% exercise-3
# Solve 1 + a + ... + a^7 = 1.55 with break_even from the notebook (bisection).
answer_3 = round(break_even(7, 1.55), 2)             # 0.36: a bit more than a third of the guesses
