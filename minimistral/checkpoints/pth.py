"""Reading the original v0.1 ``consolidated.00.pth`` without torch, and without running its pickle.

``torch.save`` writes a zip archive (uncompressed, "stored"):

    consolidated/data.pkl      a pickle of {name: tensor}; each tensor is a call
                               torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
                               whose storage is a *persistent id*
                               ('storage', torch.BFloat16Storage, '0', 'cpu', numel)
    consolidated/data/0        the raw little-endian bytes of storage '0'
    consolidated/data/1        ...

A pickle is a small program: the GLOBAL opcode imports any name (``os.system``) and REDUCE calls
it. So we never let the pickle import anything. Our unpickler's ``find_class`` answers the few
names a tensor archive needs with *our own* harmless stand-ins, and refuses every other name with
MinimistralError as soon as the pickle mentions it, before any call happens:

    torch._utils._rebuild_tensor_v2   ->  record (storage, offset, shape, stride)
    torch._utils._rebuild_parameter   ->  the tensor inside an nn.Parameter
    torch.BFloat16Storage / FloatStorage / HalfStorage  ->  a dtype tag
    collections.OrderedDict           ->  dict

The storages are then memory-mapped straight out of the zip (stored entries are plain bytes at a
known offset), so the bf16 weights stay on disk exactly as with safetensors (safetensors.py).

Where an entry's bytes begin is said twice: the central directory gives the local header's
offset, and the local header gives the lengths of the name and extra field that precede the
data. Like zipfile and torch's own reader, we trust the *local* lengths (torch pads its local
extra fields to align the data, so local and central extra lengths legitimately differ), and
then refuse an entry whose two descriptions do not tell one story (``_data_offset``): the local
name and method must equal the central ones, the local extra field must be whole records
(APPNOTE 4.5.1) filling exactly its length, the data must end before the next header, and the
data descriptor torch writes after the data must sit exactly at its end with the central CRC and
sizes, and the next header must begin right there (torch.save and zipfile write entries back to
back). An extra length edited in either header can then not move the bytes we read unnoticed.
Entries the pickle reads are capped by what they should hold (data.pkl 64 MiB, byteorder
16 bytes) before zipfile inflates anything.

One idea, longer than the others: one file format, read safely end to end.
"""

from __future__ import annotations

import math
import mmap
import os
import pickle
import struct
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import MinimistralError
from ..guards.files import open_input
from ..guards.textio import checked_name, show
from ..guards.values import checked_shape, is_count
from .safetensors import DTYPES
from .weights import StoredTensor

STORAGE_DTYPES = {"BFloat16Storage": "BF16", "FloatStorage": "F32", "HalfStorage": "F16"}
MAX_PICKLE_BYTES = 64 * 1024 * 1024   # the 7B's data.pkl is a few tens of KiB
MAX_BYTEORDER_BYTES = 16              # "little" or "big"


class _Storage:
    """A storage type named by the pickle, e.g. torch.BFloat16Storage -> dtype 'BF16'."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: str):
        self.dtype = dtype


class _StorageRef:
    """One persistent id: which storage file, its dtype and its length in elements."""

    __slots__ = ("key", "dtype", "numel")

    def __init__(self, key: str, dtype: str, numel: int):
        self.key, self.dtype, self.numel = key, dtype, numel


class _TensorRef:
    """What _rebuild_tensor_v2 was asked to build: a view of a storage."""

    __slots__ = ("storage", "offset", "shape", "stride")

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data  # an nn.Parameter is its tensor plus a flag we do not need


class _StateDict(dict):
    """A plain dict that, like OrderedDict, can carry attributes: torch pickles a module's
    state_dict() with a ``_metadata`` attribute (per-module versions), set by a BUILD opcode."""


class _Call:
    """A fresh, attribute-less wrapper per unpickler, so a pickle cannot alter our functions."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, *args):
        return self.fn(*args)


def allowed_globals() -> dict:
    """(module, name) -> the stand-in the pickle gets instead: all a tensor archive may name."""
    return {
        ("torch._utils", "_rebuild_tensor_v2"): _Call(_rebuild_tensor_v2),
        ("torch._utils", "_rebuild_parameter"): _Call(_rebuild_parameter),
        ("collections", "OrderedDict"): _Call(_StateDict),
        **{("torch", name): _Storage(dtype) for name, dtype in STORAGE_DTYPES.items()},
    }


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only build tensor descriptions; any other global is refused."""

    def __init__(self, file, where: str):
        super().__init__(file)
        self.where = where
        self.allowed = allowed_globals()

    def find_class(self, module, name):
        allowed = self.allowed.get((module, name))
        if allowed is None:
            raise MinimistralError(f"{self.where}: the pickle names '{module}.{name}', which a torch "
                                   f"weight file never needs; refusing to load it (it could run code).")
        return allowed

    def persistent_load(self, pid):
        if (not isinstance(pid, tuple) or len(pid) != 5 or pid[0] != "storage"
                or not isinstance(pid[1], _Storage) or pid[1].dtype not in DTYPES
                or not isinstance(pid[2], str) or not is_count(pid[4])):
            raise MinimistralError(f"{self.where}: unexpected storage reference in the pickle; "
                                   f"the file is corrupt or not a torch weight file.")
        return _StorageRef(pid[2], pid[1].dtype, pid[4])


def read_pth(path) -> dict[str, StoredTensor]:
    """Map a torch.save zip archive of tensors and return {name: StoredTensor} (bf16 stays on disk)."""
    path = Path(path)
    f = open_input(path)
    try:
        with zip_errors(path, "is not a torch zip archive", "it may be truncated, or saved by torch < 1.6 "
                                                           "(re-save it or use consolidated.safetensors)"):
            archive = zipfile.ZipFile(f)
        infos = archive.infolist()
        entries = {}
        for info in infos:
            if info.filename in entries:
                raise MinimistralError(f"{show(path)} holds the zip entry {show(info.filename)} twice; "
                                       f"the file is corrupt, re-download it.")
            entries[info.filename] = info
        pickles = [n for n in entries if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise MinimistralError(f"{show(path)} has no <name>/data.pkl entry; it is not a torch weight file.")
        prefix = pickles[0][:-len("data.pkl")]
        byteorder = entries.get(prefix + "byteorder")
        if byteorder is not None and \
                _read_member(archive, byteorder, path, MAX_BYTEORDER_BYTES).strip() not in (b"little", b""):
            raise MinimistralError(f"{show(path)} was saved on a big-endian machine; minimistral reads "
                                   f"little-endian files only.")
        state = _unpickle(_read_member(archive, entries[pickles[0]], path, MAX_PICKLE_BYTES), show(path))

        size = os.fstat(f.fileno()).st_size
        # Where each entry's bytes must end: the next local header, or the central directory.
        ends = sorted({i.header_offset for i in infos} | {getattr(archive, "start_dir", size)})
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        tensors = {}
        starts = {}
        for name, ref in state.items():
            info = entries.get(f"{prefix}data/{ref.storage.key}")
            if info is None:
                raise MinimistralError(f"{show(path)}: tensor '{name}' refers to storage "
                                       f"'{ref.storage.key}', which the archive lacks; re-download it.")
            if info.filename not in starts:
                starts[info.filename] = _data_offset(f, info, size, path, ends)
            tensors[name] = _stored_tensor(buf, starts[info.filename], info, name, ref, path)
        archive.close()
    finally:
        f.close()
    return tensors


# What zipfile raises for a damaged archive: its own BadZipFile, but also a RuntimeError subclass
# for a "version needed" it does not know (one flipped byte: "zip file version 11.2"), RuntimeError for
# encryption, struct.error for a short record, zlib.error, EOFError, OSError, ValueError ...
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError, OSError, ValueError,
              OverflowError, struct.error, zlib.error)


@contextmanager
def zip_errors(path: Path, problem: str, fix: str):
    """Every call into zipfile runs inside: its complaints become one sentence naming the file,
    "{path} {problem} ({zipfile's words}); {fix}."."""
    try:
        yield
    except ZIP_ERRORS as e:
        raise MinimistralError(f"{show(path)} {problem} ({type(e).__name__}: {show(e)}); {fix}.") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, cap: int) -> bytes:
    """The bytes of one small zip entry, at most cap (checked before inflating: zipfile stops at
    the declared size); a damaged entry is the user's error, not a crash."""
    if info.file_size > cap:
        raise MinimistralError(f"{show(path)}: {show(info.filename)} would inflate to {info.file_size:,} "
                               f"bytes, implausibly large for a weight file (at most {cap:,}).")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # torch.save writes entries stored; anything else is not a torch archive we know.
        raise MinimistralError(f"{show(path)}: {show(info.filename)} uses zip compression method "
                               f"{info.compress_type}, which a torch archive never does; re-download it.")
    with zip_errors(path, f"has a damaged entry {show(info.filename)}", "re-download the file"):
        return archive.read(info)


def _unpickle(data: bytes, where: str) -> dict:
    import io

    try:
        state = RestrictedUnpickler(io.BytesIO(data), where).load()
    except MinimistralError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError,
            KeyError, RecursionError, MemoryError, OverflowError) as e:
        raise MinimistralError(f"{where}: the pickle is malformed ({type(e).__name__}); "
                               f"re-download the file.") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, _TensorRef) for k, v in state.items()):
        raise MinimistralError(f"{where} does not hold a dictionary of tensors; is it a model state dict?")
    for name, ref in state.items():     # BUILD opcodes can rewrite slots: check what came out
        checked_name(name, f"{where}: a tensor")
        s = ref.storage
        if (not isinstance(s, _StorageRef) or not isinstance(s.dtype, str) or s.dtype not in DTYPES
                or not is_count(s.numel)):
            raise MinimistralError(f"{where}: tensor '{show(name)}' has no valid storage; the file is corrupt.")
        checked_name(s.key, f"{where}: the storage of tensor '{show(name)}'")
    return state


def _data_offset(f, info: zipfile.ZipInfo, size: int, path: Path, ends: list[int]) -> int:
    """Where a stored zip entry's bytes begin, once its local header agrees with the central one.

    The data follow the 30-byte local header, its name and its extra field (local lengths, as
    zipfile and torch read them). Refused, naming the entry: a local name or method other than
    the central directory's, an extra field that is not whole (id, length, data) records, data
    running past the end, a data descriptor (flag bit 3) not found right after the data with the
    central CRC and sizes, or the next header not beginning where the entry ends.
    """
    bad = f"{show(path)}: the zip entry {show(info.filename)}"
    if info.compress_type != zipfile.ZIP_STORED:
        raise MinimistralError(f"{bad} is compressed; torch.save never does "
                               f"that, so the file was repacked: re-download it.")
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise MinimistralError(f"{bad} is damaged; re-download the file.")
    flags, method = struct.unpack("<HH", local[6:10])
    crc, csize, usize, name_len, extra_len = struct.unpack("<IIIHH", local[14:30])
    name = f.read(name_len)
    extra = f.read(extra_len)
    central_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
    if name != central_name or method != info.compress_type or len(extra) != extra_len:
        raise MinimistralError(f"{bad} has a local header that disagrees with the central directory "
                               f"(name or method); the file is corrupt, re-download it.")
    i = 0
    while i < extra_len:                      # the extra field: (id u16, length u16, data) records
        if i + 4 > extra_len or i + 4 + int.from_bytes(extra[i + 2:i + 4], "little") > extra_len:
            raise MinimistralError(f"{bad} has a local extra field that is not whole records "
                                   f"(its length says {extra_len} bytes); the file is corrupt, re-download it.")
        i += 4 + int.from_bytes(extra[i + 2:i + 4], "little")
    if not flags & 0x08 and usize not in (0xFFFFFFFF, info.file_size) or \
            not flags & 0x08 and crc != info.CRC:
        raise MinimistralError(f"{bad} has a local header whose size or CRC disagrees with the central "
                               f"directory; the file is corrupt, re-download it.")
    start = info.header_offset + 30 + name_len + extra_len
    end = start + info.file_size
    following = next((e for e in ends if e > info.header_offset), size)
    if end > size:
        raise MinimistralError(f"{show(path)}: entry {show(info.filename)} runs past the end of the file; "
                               f"the download is truncated.")
    if flags & 0x08:                          # a data descriptor follows the data: it pins the end
        f.seek(end)
        desc = f.read(24)
        small = max(info.compress_size, info.file_size) < 2**32 and \
            desc[:16] == b"PK\x07\x08" + struct.pack("<III", info.CRC, info.compress_size, info.file_size)
        zip64 = desc == b"PK\x07\x08" + struct.pack("<IQQ", info.CRC, info.compress_size, info.file_size)
        if not (small or zip64):
            raise MinimistralError(f"{bad}: its data descriptor is not where its headers put the end "
                                   f"of its bytes; the file is corrupt, re-download it.")
        end += 16 if small else 24
    if end != following:
        # torch.save and zipfile write entries back to back: the next header starts right where
        # these bytes end, so headers that disagree about where they are cannot both fit.
        raise MinimistralError(f"{bad} does not end where the next zip header begins; its headers "
                               f"disagree about where its bytes are, the file is corrupt, re-download it.")
    return start


def _stored_tensor(buf, start: int, info, name: str, ref: _TensorRef, path: Path) -> StoredTensor:
    """A NumPy view of one tensor inside its mapped storage; only contiguous tensors are accepted."""
    storage, stride, offset = ref.storage, ref.stride, ref.offset
    itemsize = DTYPES[storage.dtype].itemsize
    shape = checked_shape(ref.shape, f"{show(path)}: tensor '{show(name)}'")      # before any arithmetic
    if (not isinstance(stride, tuple) or len(stride) != len(shape) or not all(is_count(s) for s in stride)
            or not is_count(offset)):
        raise MinimistralError(f"{show(path)}: tensor '{show(name)}' has an invalid stride or offset; "
                               f"the file is corrupt.")
    if storage.numel * itemsize != info.file_size:
        raise MinimistralError(f"{show(path)}: storage of '{show(name)}' should hold {storage.numel} elements "
                               f"but its entry has {info.file_size} bytes; the file is corrupt.")
    contiguous = tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))          # Python ints
    count = math.prod(shape)
    if count > 1 and tuple(s for s, d in zip(stride, shape) if d > 1) != \
            tuple(c for c, d in zip(contiguous, shape) if d > 1):
        raise MinimistralError(f"{show(path)}: tensor '{show(name)}' is stored non-contiguously (stride "
                               f"{list(stride)}); minimistral reads contiguous tensors only: re-save with .contiguous().")
    if offset + count > storage.numel:
        raise MinimistralError(f"{show(path)}: tensor '{show(name)}' runs past the end of its storage; "
                               f"the file is corrupt.")
    if count == 0:
        raw = np.empty(0, dtype=DTYPES[storage.dtype])
    else:
        raw = np.frombuffer(buf, dtype=DTYPES[storage.dtype], count=count, offset=start + offset * itemsize)
    return StoredTensor(name, storage.dtype, shape, raw.reshape(shape), path)
