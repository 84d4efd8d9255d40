"""Reading weights: the safetensors format by hand, memory-mapped, bf16 widened exactly.

A safetensors file is (docs/mistral-7b.md §5):

    [8 bytes: N, little-endian u64] [N bytes: JSON header] [data ...]
    header = {"name": {"dtype": "BF16", "shape": [4096, 4096], "data_offsets": [begin, end]}, ...}
    offsets are relative to the first data byte, 8 + N.

We never copy a file into memory: the file is mapped read-only and each tensor is a NumPy view
of its bytes, so the 14.5 GB of the 7B live in the page cache, not in our process's heap.
bf16 stays bf16 there; a bf16 number is the top 16 bits of a float32, so widening is exact:

    bf16 0x3F80  ->  float32 bits 0x3F800000  ->  1.0

Nothing a file contains is executed: the header is JSON, the data are numbers.
"""

from __future__ import annotations

import json
import math
import mmap
import os
from pathlib import Path

import numpy as np

from .errors import MinimistralError
from .fastpath import bf16_matmul_transposed
from .files import open_input, unique_keys
from .textio import show

# safetensors dtype -> (storage dtype of the raw view, bytes per element)
DTYPES = {
    "BF16": np.dtype("<u2"),   # bfloat16: NumPy has no such type; keep the raw 16 bits
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
}

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the real 7B shards have headers of a few tens of KiB


def bf16_to_float32(raw: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Widen raw bf16 bits (uint16) to float32 exactly: the 16 bits become the top half."""
    if out is None:
        out = np.empty(raw.shape, dtype=np.float32)
    np.left_shift(raw, 16, out=out.view(np.uint32), dtype=np.uint32)
    return out


def float32_to_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 to bf16 bits (round to nearest even), as torch does. For writing test files."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + np.uint32(0x7FFF)
    return ((bits + rounding) >> 16).astype(np.uint16)


def to_float32(raw: np.ndarray, dtype: str) -> np.ndarray:
    """A stored tensor as float32 (a copy)."""
    if dtype == "BF16":
        return bf16_to_float32(raw)
    return raw.astype(np.float32)


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


def read_safetensors(path: str | os.PathLike) -> dict[str, StoredTensor]:
    """Map one .safetensors file and return {name: StoredTensor}, checking every header field.

    Raises MinimistralError, naming the file, for anything that is not a well-formed file:
    a header length beyond the file, a header that is not JSON, an unknown dtype, a shape that
    disagrees with the byte range, ranges that overlap or run past the end (a truncated download).
    """
    path = Path(path)
    where = show(path)
    f = open_input(path)
    with f:
        size = os.fstat(f.fileno()).st_size
        if size < 8:
            raise MinimistralError(f"{where} is too short to be a safetensors file ({size} bytes); "
                                   f"is the download complete?")
        n = int.from_bytes(f.read(8), "little")
        if n > size - 8 or n > MAX_HEADER_BYTES:
            raise MinimistralError(f"{where}: the header length ({n} bytes) runs past the end of the "
                                   f"file ({size} bytes); the file is truncated or not safetensors.")
        try:
            header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=unique_keys(path))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise MinimistralError(f"{where}: the header is not valid JSON; the file is corrupt "
                                   f"or not safetensors.") from None
        if not isinstance(header, dict):
            raise MinimistralError(f"{where}: the header is not a JSON object; the file is corrupt.")
        header.pop("__metadata__", None)
        start, data_size = 8 + n, size - 8 - n
        entries = [_check_entry(where, name, info, data_size) for name, info in header.items()]

        # Ranges must not overlap (each byte belongs to one tensor).
        spans = sorted((b, e, name) for name, _, _, b, e in entries if e > b)
        for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise MinimistralError(f"{where}: tensors '{n0}' and '{n1}' overlap in the file; "
                                       f"the file is corrupt.")
        if data_size == 0:
            buf = b""
        else:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    tensors = {}
    for name, dtype, shape, b, e in entries:
        np_dtype = DTYPES[dtype]
        count = (e - b) // np_dtype.itemsize
        raw = np.frombuffer(buf, dtype=np_dtype, count=count, offset=start + b) if count else \
            np.empty(0, dtype=np_dtype)
        tensors[name] = StoredTensor(name, dtype, shape, raw.reshape(shape), path)
    return tensors


def _check_entry(where, name, info, data_size):
    if not isinstance(info, dict):
        raise MinimistralError(f"{where}: header entry '{name}' is not an object; the file is corrupt.")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPES:
        raise MinimistralError(f"{where}: tensor '{name}' has dtype {dtype!r}; minimistral reads "
                               f"BF16, F16 and F32 checkpoints.")
    if (not isinstance(shape, list) or len(shape) > 8
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
        raise MinimistralError(f"{where}: tensor '{name}' has an invalid shape {shape!r}.")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
        raise MinimistralError(f"{where}: tensor '{name}' has invalid data_offsets {offsets!r}.")
    b, e = offsets
    if not 0 <= b <= e:
        raise MinimistralError(f"{where}: tensor '{name}' has invalid data_offsets {offsets!r}.")
    if e > data_size:
        raise MinimistralError(f"{where}: tensor '{name}' ends at byte {e} of the data but the file "
                               f"holds only {data_size}; the file is truncated (re-download it).")
    count = math.prod(shape)                       # Python ints: no overflow on hostile shapes
    if count * DTYPES[dtype].itemsize != e - b:
        raise MinimistralError(f"{where}: tensor '{name}' of shape {shape} and dtype {dtype} needs "
                               f"{count * DTYPES[dtype].itemsize} bytes but its data_offsets span "
                               f"{e - b}; the file is corrupt.")
    return name, dtype, tuple(shape), b, e


def write_safetensors(path: str | os.PathLike, tensors: dict[str, np.ndarray],
                      dtype: str = "F32", metadata: dict | None = None) -> None:
    """Write float tensors as a safetensors file in F32, F16 or BF16 (for tests and benchmarks)."""
    header, blobs, offset = {}, [], 0
    for name, x in tensors.items():
        x = np.asarray(x)
        if dtype == "BF16":
            data = x if x.dtype == np.uint16 else float32_to_bf16(x)
        else:
            data = np.ascontiguousarray(x, dtype=DTYPES[dtype])
        raw = np.ascontiguousarray(data).tobytes()
        header[name] = {"dtype": dtype, "shape": list(x.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # align the data to 8 bytes, as the safetensors library does
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for blob in blobs:
            f.write(blob)


class Weights:
    """The model's only view of its parameters: three operations, by native tensor name.

    * ``linear(name, x)``  x @ W.T in float32, W stored [out, in] in any storage dtype
    * ``embed(name, ids)`` rows of an embedding table, widened to float32
    * ``vector(name)``     a small float32 vector (the RMSNorm gains)

    ``out_perm`` reorders a linear's output features; HF checkpoints use it to turn their
    permuted wq/wk rows back into the native interleaved RoPE order (see checkpoint.py), so
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
        return to_float32(t.raw[ids], t.dtype)        # [T] -> [T, D]

    def vector(self, name: str) -> np.ndarray:
        if name not in self._vectors:
            self._vectors[name] = self.tensors[name].float32()
        return self._vectors[name]

    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tensors.values())


# ---- the fast path: x @ W.T with W in bf16 (the tricks live in fastpath.py) -------------------

BLOCK_ROWS = 512   # other dtypes: rows of W widened at once, 512 x 4096 x 4 B = 8 MiB of scratch


def matmul_transposed(x: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
    """y = x @ w.T in float32, for w [out, in] stored as F32, F16 or raw BF16 bits.

    bf16 matrices with an even number of columns (every Mistral matrix) go through
    fastpath.bf16_matmul_transposed: widened in pairs, cache-sized chunks, all cores.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if dtype == "F32":
        return x @ w.T
    out_features, in_features = w.shape
    if dtype == "BF16" and in_features % 2 == 0 and w.strides == (2 * in_features, 2) and x.size:
        y = bf16_matmul_transposed(x.reshape(-1, in_features), w)          # [T, in] -> [T, out]
        return y.reshape(x.shape[:-1] + (out_features,))
    y = np.empty(x.shape[:-1] + (out_features,), dtype=np.float32)
    scratch = np.empty((min(BLOCK_ROWS, out_features), in_features), dtype=np.float32)
    for r in range(0, out_features, BLOCK_ROWS):
        block = w[r:r + BLOCK_ROWS]
        s = scratch[:block.shape[0]]
        if dtype == "BF16":
            bf16_to_float32(block, out=s)
        else:
            s[...] = block
        np.matmul(x, s.T, out=y[..., r:r + block.shape[0]])
    return y
