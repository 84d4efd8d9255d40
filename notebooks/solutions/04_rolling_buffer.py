"""Worked solutions for notebooks/04_rolling_buffer.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
answer_1 = 10_000 % 4096          # 1808: the buffer has wrapped around twice

# %% exercise-2
# Slot s holds the latest position p <= 9 with p % 4 == s: 8, 9, then 6, 7 (not yet overwritten).
answer_2 = [max(p for p in range(10) if p % 4 == s) for s in range(4)]

# %% exercise-3
# The buffer is capped at W = 4096 positions; without it every one of the 100,000 stays.
answer_3 = (kv_cache_bytes(32, 8, 128, 4096, 4), kv_cache_bytes(32, 8, 128, 100_000, 2))

# %% exercise-4
def time_order(positions):
    """Slots from oldest to newest: the oldest sits just after the newest, in slot (newest + 1) % W."""
    W = len(positions)
    newest = int(np.max(positions))
    return [(newest + 1 + i) % W for i in range(W)]

answer_4 = time_order
