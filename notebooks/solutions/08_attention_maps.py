"""Worked solutions for notebooks/08_attention_maps.ipynb.

Each block replaces the exercise cell of the same name; it runs in the notebook's namespace
(np, a, ids, maps, scores, gen ... are defined there).
tests/test_notebooks.py puts them in place and checks that every checker says "right".
"""

# %% exercise-1
# Query t sees min(t + 1, W) keys. Up to t = W - 1 that sums to 1 + 2 + ... + W = W (W + 1) / 2;
# each of the T - W queries after reads a full window of W. With T < W only the first sum, cut at T.
def answer_1(T, W):
    if T <= W:
        return T * (T + 1) // 2
    return W * (W + 1) // 2 + (T - W) * W

# %% exercise-2
# Key t - 1 of query t is the first subdiagonal of the [T, T] map: T - 1 entries, queries 1..T-1.
s_prev = scores["previous token"]                                          # [L, H]
l_best, h_best = np.unravel_index(np.argmax(s_prev), s_prev.shape)
answer_2 = float(np.diagonal(maps[l_best, h_best], offset=-1).mean())

# %% exercise-3
# Query heads are laid out group by group (heads 0..3 -> kv head 0, 4..7 -> kv head 1), so
# splitting the head axis H into [K, H / K] puts each group on its own row.
T = len(ids)
answer_3 = maps[1].reshape(a.n_kv_heads, a.n_heads // a.n_kv_heads, T, T).mean(axis=1)   # [K, T, T]

# %% exercise-4
# Query W's window is positions 1..W: <s> (position 0) is out of it, and in the buffer its slot
# 0 mod W = 0 has just been overwritten by position W itself (W mod W = 0).
gone = np.flatnonzero((gen["mass"]["<s>"] == 0).all(axis=0))             # query positions
answer_4 = (int(gone[0]), 4096, 4096 % 4096)
