"""Worked solutions for notebooks/02_receptive_field.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
# k x (W - 1) = 5 x 4.
answer_1 = 5 * (5 - 1)

# %% exercise-2
# 2 x 4095 = 8190 falls 2 short of 8192, so 3 layers. With the paper's k x W, 2 x 4096 = 8192
# would (wrongly, for W keys) say 2: here the off-by-one changes an answer.
answer_2 = next(k for k in range(1, 33) if k * (4096 - 1) >= 8192)

# %% exercise-3
# The reach grows by W - 1 = 2 per layer until it runs into the last position, 12: 12 - 5 = 7.
influence_5 = measure_influence(model.hidden_states, tokens, position=5, replacement=dog)
answer_3 = [int(r) for r in measured_reach(influence_5, position=5)]

# %% exercise-4
def reach_after(W, n_layers):
    """The earliest position the newest token (at 0) reaches: each layer goes W - 1 further back."""
    earliest = 0
    for _ in range(n_layers):
        earliest = earliest - (W - 1)      # the earliest reached query reads W keys, itself included
    return -earliest

answer_4 = reach_after
