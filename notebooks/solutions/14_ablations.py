"""Worked solutions for notebooks/14_ablations.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, runs, values, pairs ... are defined there).
tests/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# One hop moves W - 1 positions back (the query's own key is one of the W), k hops k (W - 1).
# `full` runs without a window at inference: nothing bounds its reach but the text.
answer_1 = {}
for r in runs:
    c = r["config"]
    W_ = c["sliding_window"]
    answer_1[r["variant"]] = None if W_ is None else c["n_layers"] * (W_ - 1)

# %% exercise-2
# The rule of "Noise first": |mean - recipe's mean| > the larger of the two seed spreads.
base = values("recipe", "heldout_ce")
answer_2 = set()
for v in ["w16", "full", "mqa", "mha", "layers4", "layers8"]:
    other = values(v, "heldout_ce")
    if abs(other.mean() - base.mean()) > max(np.ptp(base), np.ptp(other)):
        answer_2.add(v)

# %% exercise-3
# Full causal: T (T + 1) / 2 pairs; the window: W (W + 1) / 2 for the first W queries, then W each.
# The step is far less slower than this because attention's pairs are only part of its work:
# the projections and the feed-forward (see "How far a toy run can speak") cost the same either way.
T_, W_ = 512, 32
answer_3 = (T_ * (T_ + 1) / 2) / (W_ * (W_ + 1) / 2 + (T_ - W_) * W_)
