"""The model's one door to its parameters: ``Weights``, a store of tensors by native name.

Each tensor is a ``StoredTensor``: its storage dtype name (BF16, F16, F32, or a GGUF block type
such as Q4_K, whose raw view is uint8 [rows, bytes per row]), its shape and a raw NumPy view of
its bytes, usually a memory-mapped file (checkpoints/safetensors.py, pth.py, gguf.py), so the
14.5 GB of the 7B live in the page cache, not in the process's heap. The model asks for
three things only, and never sees how the numbers are stored:

    linear(name, x)   x @ W.T in float32      (fast/linear.py widens bf16, fast/quant.py dequantizes)
    embed(name, ids)  rows of an embedding, as float32
    vector(name)      a small float32 vector (RMSNorm gains)

Float32 arrays (a model being trained, a tiny random model) are used in place: no copy is
made or cached, so updating them in place updates the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fast.linear import QUANTIZED, bf16_to_float32, matmul_transposed


def to_float32(raw: np.ndarray, dtype: str) -> np.ndarray:
    """A stored tensor as float32: a new array for BF16, F16 and GGUF blocks, the array itself for F32."""
    if dtype == "BF16":
        return bf16_to_float32(raw)
    if dtype in QUANTIZED:                  # uint8 [..., row bytes] -> [..., row length]
        from ..fast.quant import dequantize

        return dequantize(raw, dtype)
    return raw if raw.dtype == np.float32 else raw.astype(np.float32)


class StoredTensor:
    """One tensor inside a mapped file: its safetensors dtype name, shape and raw NumPy view."""

    __slots__ = ("name", "dtype", "shape", "raw", "path")

    def __init__(self, name: str, dtype: str, shape: tuple, raw: np.ndarray, path: Path):
        self.name, self.dtype, self.shape, self.raw, self.path = name, dtype, shape, raw, path

    def float32(self) -> np.ndarray:
        return to_float32(self.raw, self.dtype)

    @property
    def nbytes(self) -> int:
        return self.raw.nbytes

    def __repr__(self):
        return f"StoredTensor({self.name!r}, {self.dtype}, {self.shape}, {self.path.name})"


class Weights:
    """The model's only view of its parameters: three operations, by native tensor name.

    * ``linear(name, x)``  x @ W.T in float32, W stored [out, in] in any storage dtype
    * ``embed(name, ids)`` rows of an embedding table, widened to float32
    * ``vector(name)``     a small float32 vector (the RMSNorm gains)

    ``out_perm`` reorders a linear's output features; HF checkpoints use it to turn their
    permuted wq/wk rows back into the native interleaved RoPE order (see layout.py), so
    the model has one RoPE convention whatever the layout on disk.
    """

    def __init__(self, tensors: dict[str, StoredTensor], out_perm: dict[str, np.ndarray] | None = None):
        self.tensors = tensors
        self.out_perm = out_perm or {}
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Weights":
        """Weights held in memory as float32 (for tiny demo models built on the fly)."""
        return cls({name: StoredTensor(name, "F32", x.shape, np.ascontiguousarray(x, dtype=np.float32),
                                       Path("<memory>")) for name, x in arrays.items()})

    def __contains__(self, name):
        return name in self.tensors

    def linear(self, name: str, x: np.ndarray) -> np.ndarray:
        t = self.tensors[name]
        y = matmul_transposed(x, t.raw, t.dtype)      # [T, in] @ [out, in].T -> [T, out]
        perm = self.out_perm.get(name)
        return y if perm is None else y[..., perm]

    def embed(self, name: str, ids: np.ndarray) -> np.ndarray:
        t = self.tensors[name]
        return to_float32(t.raw[ids], t.dtype)        # [T] -> [T, D] (indexing copies the rows)

    def vector(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        if t.dtype == "F32":
            return t.raw                       # float32 already: the array itself, never a stale copy
        if name not in self._vectors:          # bf16 / f16 gains: widened once, they never change
            self._vectors[name] = t.float32()
        return self._vectors[name]

    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tensors.values())
