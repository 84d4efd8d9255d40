"""Worked solutions for notebooks/13_checkpoints.ipynb (each block replaces its exercise cell)."""

# %% exercise-1
# names.HF_NAMES maps 'mlp.up_proj.weight' to 'feed_forward.w3.weight' (gate = w1, up = w3, down = w2).
answer_1 = "model.layers.5.mlp.up_proj.weight"

# %% exercise-2
# The 16 bits become the top half of a 32-bit word; the bottom half, the fraction bits bf16 dropped, is 0.
bits = np.array([0x3F80, 0xC040, 0x3E80, 0x0001, 0x7F80], dtype=np.uint16)
answer_2 = (bits.astype(np.uint32) << 16).view(np.float32)          # [1, -3, 0.25, 9.2e-41, inf]

# %% exercise-3
# 261 = 2 * 128 + 5: head 2, and 5 = 2 * 2 + 1, pair j = 2, member c = 1.
# HF row h * Hd + c * Hd/2 + j = 256 + 64 + 2.
Hd = 128
h, r = divmod(261, Hd)
j, c = divmod(r, 2)
answer_3 = h * Hd + c * (Hd // 2) + j

# %% exercise-4
def rope_half(x, cos, sin):
    """HF's RoPE: pairs (j, j + Hd/2) rotated by the same angles as our (2j, 2j+1)."""
    half = x.shape[-1] // 2
    cos2 = np.concatenate([cos, cos], axis=-1)[:, None, :]          # [T, 1, Hd]
    sin2 = np.concatenate([sin, sin], axis=-1)[:, None, :]
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos2 + rotated * sin2

answer_4 = rope_half
