"""Worked solutions for notebooks/05_prefill_chunking.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
T, W = 10_000, 4096
answer_1 = (-(-T // W), T - (T - 1) // W * W)       # ceil(T / W) chunks; 1808 tokens in the last

# %% exercise-2
# Query 5 reads the last W = 4 positions, itself included: 2, 3, 4 from the cache, 5 from the chunk.
q = 5
answer_2 = list(range(q - 4 + 1, q + 1))

# %% exercise-3
q = np.arange(8, 12)[:, None]                        # [4, 1] query positions
k = np.arange(12)[None, :]                           # [1, 12] key positions
answer_3 = (k <= q) & (q - k < 4)                    # [4, 12]

# %% exercise-4
# Query 8 needs positions 5, 6, 7 and 8. Writing 8..11 into slots 0..3 first leaves only 8..11.
buffer = {p % 4: p for p in range(4, 8)}             # slot -> position before the chunk
for p in range(8, 12):
    buffer[p % 4] = p                                # the premature writes
needed = set(range(8 - 4 + 1, 8 + 1))
answer_4 = sorted(needed - set(buffer.values()))     # [5, 6, 7]: all of the cache it needed
