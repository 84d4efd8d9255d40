"""The safetensors format, read by hand and memory-mapped; and written, for every checkpoint minimistral saves.

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

from ..errors import MinimistralError
from ..fast.linear import float32_to_bf16
from ..guards.files import open_input
from ..guards.jsontext import parse_json
from ..guards.textio import checked_name, show
from ..guards.values import checked_shape, is_count, shown
from .weights import StoredTensor

# safetensors dtype -> (storage dtype of the raw view, bytes per element)
DTYPES = {
    "BF16": np.dtype("<u2"),   # bfloat16: NumPy has no such type; keep the raw 16 bits
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
}

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the real 7B shards have headers of a few tens of KiB


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
        header = parse_json(f.read(n), f"{path}: the header")
        if not isinstance(header, dict):
            raise MinimistralError(f"{where}: the header is not a JSON object; the file is corrupt.")
        header.pop("__metadata__", None)
        start, data_size = 8 + n, size - 8 - n
        entries = [_check_entry(where, name, info, data_size) for name, info in header.items()]

        # Ranges must not overlap (each byte belongs to one tensor).
        spans = sorted((b, e, name) for name, _, _, b, e in entries if e > b)
        for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise MinimistralError(f"{where}: tensors '{show(n0)}' and '{show(n1)}' overlap in the file; "
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
    name = checked_name(name, f"{where}: a tensor")
    if not isinstance(info, dict):
        raise MinimistralError(f"{where}: header entry '{show(name)}' is not an object; the file is corrupt.")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPES:          # a list or dict is not a key
        raise MinimistralError(f"{where}: tensor '{show(name)}' has dtype {show(shown(dtype))}; minimistral "
                               f"reads BF16, F16 and F32 checkpoints.")
    shape = checked_shape(shape, f"{where}: tensor '{show(name)}'")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(is_count(o) for o in offsets)
            or not offsets[0] <= offsets[1]):
        raise MinimistralError(f"{where}: tensor '{show(name)}' has invalid data_offsets {shown(offsets)}.")
    b, e = offsets
    if e > data_size:
        raise MinimistralError(f"{where}: tensor '{show(name)}' ends at byte {e} of the data but the file "
                               f"holds only {data_size}; the file is truncated (re-download it).")
    nbytes = math.prod(shape) * DTYPES[dtype].itemsize             # bounded by checked_shape
    if nbytes != e - b:
        raise MinimistralError(f"{where}: tensor '{show(name)}' of shape {list(shape)} and dtype {dtype} "
                               f"needs {nbytes} bytes but its data_offsets span {e - b}; the file is corrupt.")
    return name, dtype, shape, b, e


def write_safetensors(path: str | os.PathLike, tensors: dict[str, np.ndarray],
                      dtype: str = "F32", metadata: dict | None = None) -> None:
    """Write float tensors as a safetensors file in F32, F16 or BF16 (bf16: rounded to nearest even).

    Every checkpoint minimistral writes goes through here: trained models, test fixtures,
    the synthetic 7B of the benchmarks. uint16 arrays are taken as bf16 bits already rounded.
    """
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


