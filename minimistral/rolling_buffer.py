"""The rolling buffer KV cache (paper section 2, Fig. 2).

With a sliding window of W, no query ever looks further back than W - 1 positions, so each
layer keeps keys and values for just W positions: position i lives in slot i mod W and
overwrites what was there W positions ago. Memory is fixed however long the sequence.

Worked example, W = 4, "The cat sat on the mat" (Fig. 2, third sequence):

    after position 3:  slots [The, cat, sat, on ]    positions [0 1 2 3]
    after position 4:  slots [the, cat, sat, on ]    positions [4 1 2 3]   (slot 0 overwritten)
    after position 5:  slots [the, mat, sat, on ]    positions [4 5 2 3]

``in_time_order()`` unrolls the slots to [sat, on, the, mat] (positions 2 3 4 5).
With sliding_window None the cache simply grows (capacity doubles when full): it is an
ordinary KV cache, slot = position.

How a chunk of T new positions goes through one layer (Fig. 3, mistral-src's cache.py):

    keys, values, key_pos = cache.view(layer, k, v, positions)   # cache + chunk: [W + T] keys
    ... attend with sliding_window_mask(positions, key_pos, W) ...
    cache.write(layer, k, v, positions)                            # only now overwrite slots

and after the last layer ``cache.advance(positions)`` records the new positions. The chunk
must attend *before* it is written: its first query still needs the W - 1 keys just before
it, which the chunk's own writes would overwrite when T > 1 (docs/mistral-7b.md §7).
If a pass fails half-way (an error, Ctrl-C), ``rollback()`` puts back the slots it overwrote,
so the cache is exactly as before the call.
"""

from __future__ import annotations

import numpy as np

from .config import ModelArgs
from .errors import MinimistralError
from .gqa import kv_cache_bytes
from .guards.limits import check_fits
from .guards.values import whole_number


class RollingBufferCache:
    """Keys and values of every layer for the last W positions, float32, slot = position mod W."""

    def __init__(self, args: ModelArgs, capacity: int | None = None):
        if not isinstance(args, ModelArgs):
            raise MinimistralError(f"a cache needs the model's ModelArgs, got {type(args).__name__}.")
        if capacity is not None:
            whole_number(capacity, "capacity", 1, "positions", " (or None)")
        self.args = args
        self.window = args.sliding_window
        # With a window the buffer never needs more than W slots; without one it grows.
        self.capacity = self.window if self.window is not None else int(capacity or 256)
        self._check_fits(self.capacity)
        shape = (args.n_layers, self.capacity, args.n_kv_heads, args.head_dim)   # [L, W, K, Hd]
        self.keys = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        self.positions = np.full(self.capacity, -1, dtype=np.int64)  # absolute position per slot
        self.length = 0                                               # positions seen so far
        self._undo: list | None = None        # overwritten slots while a pass is under way
        self._stored: int | None = None       # layer whose chunk view() already stored

    @property
    def shapes(self) -> tuple:
        """What a model must share with this cache to use it: (layers, K, Hd, W)."""
        a = self.args
        return (a.n_layers, a.n_kv_heads, a.head_dim, a.sliding_window)

    def check_model(self, args: ModelArgs) -> None:
        """Refuse to serve a model whose layers, kv heads, head size or window differ from this
        cache's: its keys would be the wrong shape, or sit in the wrong slots."""
        theirs = (args.n_layers, args.n_kv_heads, args.head_dim, args.sliding_window)
        if theirs != self.shapes:
            raise MinimistralError(
                f"this cache was made for another model (layers, kv heads, head_dim, window = "
                f"{self.shapes}, this model has {theirs}); make one with this model's new_cache().")
        if self.args.rope_theta != args.rope_theta:
            raise MinimistralError(f"this cache was made for a model with rope_theta {self.args.rope_theta:g}, "
                                   f"this model has {args.rope_theta:g}; its keys are rotated differently: "
                                   f"make one with this model's new_cache().")

    def _check_fits(self, slots: int) -> None:
        """Refuse, before allocating, a buffer of `slots` positions the machine cannot hold."""
        a = self.args
        need = kv_cache_bytes(a.n_layers, a.n_kv_heads, a.head_dim, slots, 4) + 8 * slots   # + positions
        what = (f"the KV cache for a window of {a.sliding_window:,} positions" if self.window is not None
                else f"the KV cache for {slots:,} positions")
        check_fits(need, what, "use a shorter text" if self.window is None else
                   "check sliding_window in the config")

    def slot(self, position):
        """Where a position is stored: position mod W (Fig. 2); without a window, the position.

        slot([0, 1, 2, 3, 4, 5]) with W = 4  ->  [0 1 2 3 0 1]
        """
        position = np.asarray(position, dtype=np.int64)
        return position % self.window if self.window is not None else position

    @property
    def held(self) -> int:
        """How many positions the cache holds: min(length, W) with a window, else length."""
        return int((self.positions >= 0).sum())

    @property
    def nbytes(self) -> int:
        """Bytes allocated for keys and values (fixed at W slots with a window)."""
        return self.keys.nbytes + self.values.nbytes

    def _grow(self, needed: int) -> None:
        """Without a window: double the capacity until `needed` slots fit (amortised O(1))."""
        if self.window is not None or needed <= self.capacity:
            return
        new = max(needed, 2 * self.capacity)
        try:
            self._check_fits(new + self.capacity)          # np.pad holds the old and the new arrays
        except MinimistralError:
            new = needed                                   # doubling does not fit: just what is needed
            self._check_fits(new + self.capacity)
        pad = [(0, 0), (0, new - self.capacity), (0, 0), (0, 0)]
        self.keys, self.values = np.pad(self.keys, pad), np.pad(self.values, pad)
        self.positions = np.concatenate([self.positions, np.full(new - self.capacity, -1, np.int64)])
        self.capacity = new

    def view(self, layer: int, k: np.ndarray, v: np.ndarray, positions: np.ndarray):
        """The keys a chunk attends to: everything the cache holds, then the chunk's own.

        k, v [T, K, Hd] for the chunk -> keys, values [S, K, Hd] and their positions [S],
        S = held + T. Slots come as stored, not in time order: the mask works from positions,
        so order does not matter. When T > W the chunk's early queries use the cached keys and
        its later queries only the chunk's own; the mask sorts out which (Fig. 3).
        Whenever storing first overwrites nothing the chunk needs (no window, nothing wrapped
        yet, or a single token) the copy is skipped: see _view_in_place.
        """
        positions = np.asarray(positions, dtype=np.int64)
        if self.window is None or positions[-1] < self.window or len(positions) == 1:
            return self._view_in_place(layer, k, v, positions)
        held = self.positions >= 0                                        # [W] filled slots
        keys = np.concatenate([self.keys[layer][held], k])                # [S, K, Hd]
        values = np.concatenate([self.values[layer][held], v])            # [S, K, Hd]
        return keys, values, np.concatenate([self.positions[held], positions])

    def _view_in_place(self, layer: int, k: np.ndarray, v: np.ndarray, positions: np.ndarray):
        """Store first, then hand out the buffer itself: no copy of the cached keys per token.

        Safe only when the store overwrites nothing the chunk still needs: a growing cache and
        a buffer that has not wrapped yet (last position < W) overwrite nothing, and one new
        position p in a full buffer overwrites p - W, which its query may not see anyway
        (p - (p - W) = W). The later ``write`` is then skipped. Positions must continue at
        ``length`` (``begin`` checks). For the 7B at a full window this saves copying
        2 x 16 MiB per layer per token.
        """
        self.write(layer, k, v, positions)
        self._stored = layer
        n = int(positions[-1]) + 1
        if self.window is None or n <= self.window:                       # slots 0..n-1 = positions
            return self.keys[layer, :n], self.values[layer, :n], np.arange(n)   # [S = n, K, Hd]
        key_pos = self.positions.copy()                                   # [W]
        key_pos[self.slot(positions)] = positions
        return self.keys[layer], self.values[layer], key_pos              # [S = W, K, Hd]

    def _kept(self, positions: np.ndarray, *arrays):
        """With a window only a chunk's last W positions survive (earlier ones would be overwritten)."""
        if self.window is None:
            return (positions, *arrays)
        return (positions[-self.window:], *(a[-self.window:] for a in arrays))

    def write(self, layer: int, k: np.ndarray, v: np.ndarray, positions: np.ndarray) -> None:
        """Store a chunk's keys and values [T, K, Hd] of one layer in slots position mod W."""
        if self._stored == layer:             # view already stored them (_view_in_place)
            self._stored = None
            return
        positions, k, v = self._kept(np.asarray(positions, dtype=np.int64), k, v)
        self._grow(int(positions[-1]) + 1)
        slots = self.slot(positions)
        if self._undo is not None and (self.positions[slots] >= 0).any():
            # Only a window overwrites live slots; a growing cache writes into empty ones.
            self._undo.append((layer, slots, self.keys[layer, slots], self.values[layer, slots]))
        self.keys[layer, slots] = k
        self.values[layer, slots] = v

    def begin(self, positions: np.ndarray) -> None:
        """Start a pass over new positions: they must continue the sequence at ``length``."""
        positions = np.asarray(positions, dtype=np.int64)
        if positions.ndim != 1 or not np.array_equal(positions, self.length + np.arange(len(positions))):
            raise MinimistralError(
                f"a cache holding {self.length} positions continues at position {self.length}; "
                f"got positions starting at {int(positions.ravel()[0]) if positions.size else 'nothing'} "
                f"(pass the next positions in order, or start a new cache).")
        self._undo, self._stored = [], None

    def advance(self, positions: np.ndarray) -> None:
        """Record that every layer has written these positions (ends the pass)."""
        (positions,) = self._kept(np.asarray(positions, dtype=np.int64))
        self._grow(int(positions[-1]) + 1)
        self.positions[self.slot(positions)] = positions
        self.length = int(positions[-1]) + 1
        self._undo = None

    def rollback(self) -> None:
        """Undo the writes of a pass that did not finish: the cache is as before ``begin``."""
        for layer, slots, k, v in reversed(self._undo or []):
            self.keys[layer, slots] = k
            self.values[layer, slots] = v
        self._undo, self._stored = None, None

    def mark(self, n_new: int) -> dict:
        """Remember what the slots of the next n_new positions hold, so ``truncate`` can undo them.

        For speculative decoding (speculative.py): a chunk of k + 1 positions is verified in one
        pass, and the positions after the last accepted one must then disappear as if they had
        never been fed. With a window, position p overwrote position p - W in slot p mod W, so
        forgetting p means putting p - W back, not just moving ``length``. n_new <= W.
        W = 4, length 6, mark(3): saves slots [2 3 0] (positions 2, 3, 4).
        """
        if self.window is not None and n_new > self.window:
            raise MinimistralError(f"cannot mark {n_new} new positions in a window of {self.window}.")
        slots = self.slot(self.length + np.arange(n_new))                       # [n_new]
        if self.window is None:
            return {"length": self.length, "slots": slots}
        return {"length": self.length, "slots": slots, "positions": self.positions[slots].copy(),
                "keys": self.keys[:, slots].copy(), "values": self.values[:, slots].copy()}  # [L, n_new, K, Hd]

    def truncate(self, length: int, mark: dict) -> None:
        """Forget every position >= length, all fed since ``mark``: the cache is then exactly
        as if only positions < length had ever been fed (their slots hold what they held)."""
        start = mark["length"]
        if not start <= length <= self.length:
            raise MinimistralError(f"can only truncate to a length in [{start}, {self.length}], got {length}.")
        drop = np.arange(length - start, self.length - start)                   # indices into the mark
        slots = mark["slots"][drop]
        if self.window is None:
            self.positions[slots] = -1                  # never-filled slots of a growing cache
        else:
            self.keys[:, slots] = mark["keys"][:, drop]
            self.values[:, slots] = mark["values"][:, drop]
            self.positions[slots] = mark["positions"][drop]
        self.length = length

    def in_time_order(self, layer: int = 0):
        """Keys, values [n, K, Hd] and positions [n] of the held slots, oldest first.

        W = 4 after "The cat sat on the mat": positions [2 3 4 5] from slots [2 3 0 1].
        """
        filled = np.flatnonzero(self.positions >= 0)                      # [n] slots in use
        order = filled[np.argsort(self.positions[filled])]                # oldest position first
        return self.keys[layer, order], self.values[layer, order], self.positions[order]
