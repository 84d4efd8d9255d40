"""The GGUF file format, read by hand with a bound on every number it claims (gguf.py turns what
it reads into a Mistral). All little-endian:

    "GGUF"  version u32 (2 or 3)  n_tensors u64  n_kv u64
    n_kv x      key: string   value type: u32   value        metadata: "llama.block_count" = 32
    n_tensors x name: string  n_dims: u32  ne: n_dims x u64  type: u32  offset: u64
    padding to general.alignment (32)          -> the data start here; each tensor at start + offset

    string = u64 length + UTF-8 bytes;  array value = item type u32 + count u64 + items

Dimensions are listed fastest first: ne[0] is the row length. The 7B's ffn_down has
ne = [14336, 4096], i.e. 4096 rows of 14336 weights, NumPy shape [4096, 14336], like w2. A
quantized row is ne[0] / 32 (or / 256) blocks; its bytes are the StoredTensor's raw row.

Safety: every count, length and offset is checked against the file before it is used, and nothing
is allocated by a number the file claims: string and array lengths are capped (MAX_*), value and
tensor types must be known, offsets must be aligned and inside the file, two tensors may not
overlap, and a truncated download is named as such.

Why not gguf-py's GGUFReader (llama.cpp's reader, which the tests use as the reference): it
believes the counts it reads (an array length of 2^60 loops for ever, a string cut by the end of
the file is silently shortened), so the header would have to be walked here first anyway; and
it makes NumPy views of every array item, 1.7 s for the 7B's 32000-token vocabulary against
0.07 s for this walk (measured; tests/checkpoints/test_gguf_fuzz.py compares the two readers).
"""

from __future__ import annotations

import math
import mmap
import os
from pathlib import Path

import numpy as np

from ..errors import MinimistralError
from ..fast.quant import BLOCKS
from ..guards.files import open_input
from ..guards.limits import MAX_SIZE
from ..guards.textio import show
from .weights import StoredTensor

MAGIC = b"GGUF"
# GGML tensor type id -> (our dtype name, weights per block, bytes per block)
TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 30: ("BF16", 1, 2),
         **{i: (n, *BLOCKS[n]) for i, n in ((8, "Q8_0"), (2, "Q4_0"), (12, "Q4_K"), (14, "Q6_K"))}}
FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}   # value type -> bytes
STRING, ARRAY = 8, 9
INTS, FLOATS, BOOL = (0, 1, 2, 3, 4, 5, 10, 11), (6, 12), (7,)

STORAGE = {"F32": "<f4", "F16": "<f2", "BF16": "<u2"}    # float types: the NumPy view (bf16: raw bits)

MAX_KEYS = MAX_TENSORS = 1 << 16      # the 7B: 24 keys, 291 tensors
MAX_NAME_BYTES = 1 << 16              # a key or a tensor name (llama.cpp's tensor names: 64)
MAX_STRING_BYTES = 1 << 24            # one string value (a chat template: a few KiB)
MAX_TEXT_BYTES = 1 << 28              # all strings of the metadata together (the 7B: 0.4 MB)
MAX_ITEMS = 1 << 20                   # array items in all the metadata (Mistral: 3 x 32768)
MAX_DEPTH = 3                         # arrays of arrays


NUMPY = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "<u1", 10: "<u8",
         11: "<i8", 12: "<f8"}                        # value type -> NumPy dtype (bool read as a byte)


class _Cursor:
    """Reads little-endian values from the mapped file, never past its end, within the caps."""

    def __init__(self, buf, size: int, where: str):
        self.buf, self.size, self.where, self.pos = buf, size, where, 0
        self.items = self.text_bytes = 0              # read so far, against MAX_ITEMS and MAX_TEXT_BYTES

    def take(self, n: int, what: str) -> int:
        if n > self.size - self.pos:
            raise MinimistralError(f"{self.where}: the header ends early, in {what} (byte {self.pos:,} "
                                   f"of {self.size:,}); the file is truncated or not GGUF (re-download it).")
        start, self.pos = self.pos, self.pos + n
        return start

    def number(self, vtype: int, what: str):
        v = np.frombuffer(self.buf, NUMPY[vtype], 1, self.take(FIXED[vtype], what))[0]
        return bool(v) if vtype in BOOL else v.item()

    def string(self, what: str, cap: int = MAX_STRING_BYTES) -> bytes:
        n = self.number(10, what)
        if n > cap:
            raise MinimistralError(f"{self.where}: {what} claims {n:,} bytes, more than any GGUF "
                                   f"holds there ({cap:,}); the file is corrupt.")
        self.text_bytes += n
        if self.text_bytes > MAX_TEXT_BYTES:
            raise MinimistralError(f"{self.where}: the metadata holds more than {MAX_TEXT_BYTES:,} bytes of "
                                   f"text; no Mistral GGUF comes near, the file is corrupt.")
        start = self.take(n, what)
        return bytes(self.buf[start:start + n])

    def name(self, what: str) -> str:
        raw = self.string(what, MAX_NAME_BYTES)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MinimistralError(f"{self.where}: {what} {show(repr(raw[:40]))} is not UTF-8; "
                                   f"the file is corrupt.") from None

    def value(self, vtype: int, key: str, depth: int = 0):
        """A metadata value: a number, bytes (a string, decoded when used), or for an array
        (item type, NumPy array of numbers | list of values)."""
        what = f"the value of '{show(key)}'"
        if vtype in FIXED:
            return self.number(vtype, what)
        if vtype == STRING:
            return self.string(what)
        if vtype != ARRAY:
            raise MinimistralError(f"{self.where}: metadata '{show(key)}' has unknown value type {vtype}; the "
                                   f"file is corrupt or from a newer GGUF version.")
        itype, n = self.number(4, what), self.number(10, what)
        self.items += n
        if self.items > MAX_ITEMS:
            raise MinimistralError(f"{self.where}: the metadata arrays hold more than {MAX_ITEMS:,} items "
                                   f"(at '{show(key)}'); no Mistral GGUF comes near, the file is corrupt.")
        if itype in FIXED:
            data = np.frombuffer(self.buf, NUMPY[itype], n, self.take(n * FIXED[itype], what)).copy()
            return itype, data.astype(bool) if itype in BOOL else data
        if itype == STRING or (itype == ARRAY and depth < MAX_DEPTH):
            return itype, [self.value(itype, key, depth + 1) for _ in range(n)]
        raise MinimistralError(f"{self.where}: metadata '{show(key)}' is an array of {'nested arrays' if itype == ARRAY else f'unknown type {itype}'}; "
                               f"the file is corrupt or from a newer GGUF version.")


class GGUFFile:
    """A GGUF file's metadata {key: (value type, value)} and tensors {name: StoredTensor}."""

    def __init__(self, path: Path, version: int, metadata: dict, tensors: dict):
        self.path, self.version, self.metadata, self.tensors = path, version, metadata, tensors


def read_gguf(path) -> GGUFFile:
    """Map a GGUF file and read its header, checking every count, length, type and offset."""
    path = Path(path)
    where = show(path)
    with open_input(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size < 24:
            raise MinimistralError(f"{where} is too short to be a GGUF file ({size} bytes); is the "
                                   f"download complete?")
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    c = _Cursor(buf, size, where)
    if bytes(buf[:4]) != MAGIC:
        raise MinimistralError(f"{where} is not a GGUF file (it does not start with 'GGUF'); is the "
                               f"download complete and the right file?")
    c.take(4, "the magic")
    version = c.number(4, "the version")
    if version not in (2, 3):
        why = ("a big-endian file; minimistral reads little-endian GGUF files" if version & 0xFFFF == 0
               else "version 1 (2023); re-download or re-convert it" if version == 1
               else "a version minimistral does not know (it reads 2 and 3)")
        raise MinimistralError(f"{where} is GGUF {why}.")
    n_tensors, n_kv = c.number(10, "the tensor count"), c.number(10, "the metadata count")
    if n_tensors > MAX_TENSORS or n_kv > MAX_KEYS:
        raise MinimistralError(f"{where} claims {n_tensors:,} tensors and {n_kv:,} metadata keys, far more "
                               f"than any model has; the file is corrupt.")
    metadata = {}
    for i in range(n_kv):
        key = c.name(f"metadata key {i}")
        if key in metadata:
            raise MinimistralError(f"{where} holds the metadata key '{show(key)}' twice; the file is corrupt.")
        vtype = c.number(4, f"the type of '{show(key)}'")
        metadata[key] = (vtype, c.value(vtype, key))
    alignment = metadata.get("general.alignment", (4, 32))
    if alignment[0] != 4 or alignment[1] == 0 or alignment[1] & (alignment[1] - 1):
        raise MinimistralError(f"{where}: general.alignment must be a power of two (a uint32), got "
                               f"{alignment[1]!r}; the file is corrupt.")
    alignment = alignment[1]
    infos = []
    for i in range(n_tensors):
        name = c.name(f"the name of tensor {i}")
        n_dims = c.number(4, f"the dimensions of '{show(name)}'")
        if not 1 <= n_dims <= 4:
            raise MinimistralError(f"{where}: tensor '{show(name)}' has {n_dims} dimensions (GGUF allows "
                                   f"1 to 4); the file is corrupt.")
        dims = [c.number(10, f"the shape of '{show(name)}'") for _ in range(n_dims)]
        type_id, offset = c.number(4, f"the type of '{show(name)}'"), c.number(10, f"the offset of '{show(name)}'")
        infos.append((name, dims, type_id, offset))
    data_start = -(-c.pos // alignment) * alignment
    tensors, spans = {}, []
    for name, dims, type_id, offset in infos:
        if name in tensors:
            raise MinimistralError(f"{where} holds the tensor '{show(name)}' twice; the file is corrupt.")
        if not all(1 <= d <= MAX_SIZE for d in dims):
            raise MinimistralError(f"{where}: tensor '{show(name)}' has shape {dims} (fastest first); "
                                   f"the file is corrupt.")
        if type_id not in TYPES:
            raise MinimistralError(f"{where}: tensor '{show(name)}' is stored as {_type_name(type_id)}, which "
                                   f"minimistral does not read (it reads {', '.join(t[0] for t in TYPES.values())}"
                                   f"); use a Q4_K_M, Q6_K, Q8_0, Q4_0 or F16 file.")
        dtype, per_block, block_bytes = TYPES[type_id]
        if dims[0] % per_block:
            raise MinimistralError(f"{where}: tensor '{show(name)}' has rows of {dims[0]} weights, not a "
                                   f"multiple of {dtype}'s block of {per_block}; the file is corrupt.")
        shape = tuple(reversed(dims))                                   # ne is fastest first
        row_bytes = dims[0] // per_block * block_bytes
        nbytes = math.prod(shape[:-1]) * row_bytes
        if offset % alignment:
            raise MinimistralError(f"{where}: tensor '{show(name)}' starts at offset {offset:,}, not a "
                                   f"multiple of the alignment {alignment}; the file is corrupt.")
        if data_start + offset + nbytes > size:
            raise MinimistralError(f"{where}: tensor '{show(name)}' ends at byte {data_start + offset + nbytes:,} "
                                   f"but the file has {size:,}; the file is truncated (re-download it).")
        spans.append((offset, offset + nbytes, name))
        raw = np.frombuffer(buf, np.uint8, nbytes, data_start + offset).reshape(shape[:-1] + (row_bytes,))
        if dtype in STORAGE:                           # float types: the values; blocks stay bytes
            raw = raw.view(STORAGE[dtype])                                  # [..., row length]
        tensors[name] = StoredTensor(name, dtype, shape, raw, path)
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise MinimistralError(f"{where}: tensors '{show(n0)}' and '{show(n1)}' overlap in the file; "
                                   f"the file is corrupt.")
    return GGUFFile(path, version, metadata, tensors)


def _type_name(type_id: int) -> str:
    try:
        import gguf

        return gguf.GGMLQuantizationType(type_id).name
    except (ImportError, ValueError):
        return f"GGML type {type_id}"


# ---- metadata ----------------------------------------------------------------------------------

MISSING = object()


def _absent(where: str, key: str, default, question: str):
    """The default of a metadata key the file lacks, or the error when there is none."""
    if default is MISSING:
        raise MinimistralError(f"{where} has no '{key}'; {question}")
    return default


def meta(file: GGUFFile, key: str, kinds: tuple, default=MISSING):
    """A scalar metadata value of one of the value types `kinds` (strings decoded), or default."""
    where = show(file.path)
    if key not in file.metadata:
        return _absent(where, key, default, "is it a Mistral (llama architecture) GGUF?")
    vtype, value = file.metadata[key]
    if vtype not in kinds:
        raise MinimistralError(f"{where}: metadata '{key}' has the wrong type ({_TYPE_NAMES.get(vtype, vtype)}); "
                               f"the file is corrupt.")
    if vtype == STRING:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise MinimistralError(f"{where}: metadata '{key}' is not UTF-8 text; the file is corrupt.") from None
    return value


def meta_array(file: GGUFFile, key: str, kinds: tuple, default=MISSING) -> list:
    """An array's items (of one of the item types `kinds`) as a list, strings decoded."""
    where = show(file.path)
    if key not in file.metadata:
        return _absent(where, key, default, "is the file complete?")
    vtype, value = file.metadata[key]
    if vtype != ARRAY or (len(value[1]) and value[0] not in kinds):
        raise MinimistralError(f"{where}: metadata '{key}' has the wrong type; the file is corrupt.")
    if value[0] == STRING:
        try:
            return [item.decode("utf-8") for item in value[1]]
        except UnicodeDecodeError:
            raise MinimistralError(f"{where}: metadata '{key}' holds text that is not UTF-8; the file is "
                                   f"corrupt.") from None
    return value[1].tolist()


_TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32", 6: "float32", 7: "bool",
               8: "string", 9: "array", 10: "uint64", 11: "int64", 12: "float64"}
