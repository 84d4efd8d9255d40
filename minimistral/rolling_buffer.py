"""The rolling buffer KV cache (paper section 2, Fig. 2).

With a sliding window of W, no query ever looks further back than W - 1 positions, so each
layer keeps keys and values for just W positions: position i lives in slot i mod W and
overwrites what was there W positions ago. Memory is fixed however long the sequence.

Worked example, W = 4, "The cat sat on the mat" (Fig. 2, third sequence):

    after position 3:  slots [The, cat, sat, on ]    positions [0 1 2 3]
    after position 4:  slots [the, cat, sat, on ]    positions [4 1 2 3]   (slot 0 overwritten)
    after position 5:  slots [the, mat, sat, on ]    positions [4 5 2 3]

``in_time_order()`` unrolls the slots to [sat, on, the, mat] (positions 2 3 4 5).
With sliding_window None the cache simply grows: it is an ordinary KV cache.
"""

from __future__ import annotations

import numpy as np

from .config import ModelArgs


class RollingBufferCache:
    """Keys and values of every layer for the last W positions, float32, slot = position mod W."""

    def __init__(self, args: ModelArgs, capacity: int | None = None):
        self.args = args
        self.window = args.sliding_window
        # With a window the buffer never needs more than W slots; without one it grows.
        self.capacity = self.window if self.window is not None else (capacity or 256)
        shape = (args.n_layers, self.capacity, args.n_kv_heads, args.head_dim)   # [L, W, K, Hd]
        self.keys = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        self.positions = np.full(self.capacity, -1, dtype=np.int64)  # absolute position per slot
        self.length = 0                                               # positions seen so far

    def slot(self, position):
        """Where a position is stored: position mod W (Fig. 2); without a window, the position."""
        return np.asarray(position) % self.capacity if self.window is not None else np.asarray(position)

    def _grow(self, needed: int) -> None:
        if self.window is not None or needed <= self.capacity:
            return
        new = max(needed, 2 * self.capacity)
        pad = [(0, 0), (0, new - self.capacity), (0, 0), (0, 0)]
        self.keys, self.values = np.pad(self.keys, pad), np.pad(self.values, pad)
        self.positions = np.concatenate([self.positions, np.full(new - self.capacity, -1, np.int64)])
        self.capacity = new

    def view(self, layer: int, k: np.ndarray, v: np.ndarray, positions: np.ndarray):
        """The keys a chunk attends to: the cached ones, then the chunk's own (not yet written).

        k, v [T, K, Hd] for the chunk -> keys, values [S, K, Hd] and their positions [S].
        Slots are returned as stored (not in time order): the mask works from positions, so
        order does not matter, and the chunk must see the cache *before* overwriting it, since
        its first query still needs up to W - 1 older keys (shared/reference §7).
        """
        held = self.positions >= 0                                        # [W] filled slots
        keys = np.concatenate([self.keys[layer][held], k])                # [S, K, Hd]
        values = np.concatenate([self.values[layer][held], v])            # [S, K, Hd]
        return keys, values, np.concatenate([self.positions[held], positions])

    def write(self, layer: int, k: np.ndarray, v: np.ndarray, positions: np.ndarray) -> None:
        """Store a chunk's keys and values: only its last W positions survive."""
        if self.window is not None:
            k, v, positions = k[-self.window:], v[-self.window:], positions[-self.window:]
        self._grow(int(positions[-1]) + 1)
        slots = self.slot(positions)
        self.keys[layer, slots] = k
        self.values[layer, slots] = v

    def advance(self, positions: np.ndarray) -> None:
        """Record that every layer has written these positions."""
        if self.window is not None:
            positions = positions[-self.window:]
        self._grow(int(positions[-1]) + 1)
        self.positions[self.slot(positions)] = positions
        self.length = int(positions[-1]) + 1

    def in_time_order(self, layer: int = 0):
        """Keys, values [n, K, Hd] and positions [n] of the held slots, oldest first."""
        order = np.argsort(np.where(self.positions >= 0, self.positions, np.iinfo(np.int64).max))
        order = order[: int((self.positions >= 0).sum())]
        return self.keys[layer, order], self.values[layer, order], self.positions[order]

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes
