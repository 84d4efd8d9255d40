"""Rotary position embeddings (RoPE), in the paper's native pairing.

Each head vector of size Hd is read as Hd/2 pairs (x[2j], x[2j+1]); pair j at position p is
rotated by the angle p * theta^(-2j/Hd). A query at position q and a key at position k then
score q.k as a function of (q - k) only: attention sees relative positions.

HF checkpoints pair (j, j + Hd/2) instead ("rotate_half") and permute the rows of wq and wk to
match; checkpoints/layout.py undoes that permutation so this one convention serves both layouts.
"""

from __future__ import annotations

import numpy as np


def rope_angles(positions, head_dim: int, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """cos, sin float32 [T, Hd/2] for the given positions."""
    j = np.arange(0, head_dim, 2, dtype=np.float64) / head_dim       # [Hd/2]: 2j / Hd
    inv_freq = 1.0 / (theta ** j)                                      # [Hd/2]
    angles = np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None, :]  # [T, Hd/2]
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def apply_rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate each (x[2j], x[2j+1]) pair: x [T, n, Hd], cos/sin [T, Hd/2] -> [T, n, Hd] float32."""
    even, odd = x[..., 0::2], x[..., 1::2]                 # [T, n, Hd/2] each
    c, s = cos[:, None, :], sin[:, None, :]                # [T, 1, Hd/2]
    out = np.empty_like(x, dtype=np.float32)
    out[..., 0::2] = even * c - odd * s                    # complex multiply by e^(i angle)
    out[..., 1::2] = even * s + odd * c
    return out
