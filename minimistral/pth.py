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
known offset), so the bf16 weights stay on disk exactly as with safetensors (weights.py).
"""

from __future__ import annotations

import mmap
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np

from .errors import MinimistralError
from .weights import DTYPES, StoredTensor

STORAGE_DTYPES = {"BFloat16Storage": "BF16", "FloatStorage": "F32", "HalfStorage": "F16"}
MAX_PICKLE_BYTES = 64 * 1024 * 1024   # the 7B's data.pkl is a few tens of KiB


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
                or not isinstance(pid[2], str)
                or not _is_int(pid[4]) or pid[4] < 0):
            raise MinimistralError(f"{self.where}: unexpected storage reference {pid!r}; "
                                   f"the file is corrupt or not a torch weight file.")
        return _StorageRef(pid[2], pid[1].dtype, pid[4])


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def read_pth(path) -> dict[str, StoredTensor]:
    """Map a torch.save zip archive of tensors and return {name: StoredTensor} (bf16 stays on disk)."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise MinimistralError(f"{path} is not a torch zip archive ({e}); it may be truncated, or "
                               f"saved by torch < 1.6 (re-save it or use consolidated.safetensors).") from None
    with archive:
        entries = {info.filename: info for info in archive.infolist()}
        pickles = [n for n in entries if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise MinimistralError(f"{path} has no <name>/data.pkl entry; it is not a torch weight file.")
        prefix = pickles[0][:-len("data.pkl")]
        byteorder = entries.get(prefix + "byteorder")
        if byteorder is not None and _read_member(archive, byteorder, path).strip() not in (b"little", b""):
            raise MinimistralError(f"{path} was saved on a big-endian machine; minimistral reads "
                                   f"little-endian files only.")
        if entries[pickles[0]].file_size > MAX_PICKLE_BYTES:
            raise MinimistralError(f"{path}: data.pkl is implausibly large for a weight file.")
        state = _unpickle(_read_member(archive, entries[pickles[0]], path), f"{path}")

    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        tensors = {}
        for name, ref in state.items():
            info = entries.get(f"{prefix}data/{ref.storage.key}")
            if info is None:
                raise MinimistralError(f"{path}: tensor '{name}' refers to storage "
                                       f"'{ref.storage.key}', which the archive lacks; re-download it.")
            start = _data_offset(f, info, size, path)
            tensors[name] = _stored_tensor(buf, start, info, name, ref, path)
    return tensors


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    """The bytes of one small zip entry; a damaged entry is the user's error, not a crash."""
    import zlib

    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # torch.save writes entries stored; anything else is not a torch archive we know.
        raise MinimistralError(f"{path}: {info.filename} uses zip compression method "
                               f"{info.compress_type}, which a torch archive never does; re-download it.")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError) as e:
        raise MinimistralError(f"{path}: cannot read {info.filename} ({e}); the file is damaged, "
                               f"re-download it.") from None


def _unpickle(data: bytes, where: str) -> dict:
    import io

    try:
        state = RestrictedUnpickler(io.BytesIO(data), where).load()
    except MinimistralError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, IndexError,
            KeyError, RecursionError, MemoryError) as e:
        raise MinimistralError(f"{where}: the pickle is malformed ({type(e).__name__}); "
                               f"re-download the file.") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, _TensorRef) for k, v in state.items()):
        raise MinimistralError(f"{where} does not hold a dictionary of tensors; is it a model state dict?")
    for name, ref in state.items():     # BUILD opcodes can rewrite slots: check what came out
        s = ref.storage
        if (not isinstance(s, _StorageRef) or not isinstance(s.key, str) or not isinstance(s.dtype, str)
                or s.dtype not in DTYPES
                or not _is_int(s.numel) or s.numel < 0):
            raise MinimistralError(f"{where}: tensor '{name}' has no valid storage; the file is corrupt.")
    return state


def _data_offset(f, info: zipfile.ZipInfo, size: int, path: Path) -> int:
    """Where a stored zip entry's bytes begin: after its 30-byte local header, name and extra field."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise MinimistralError(f"{path}: entry {info.filename} is compressed; torch.save never does "
                               f"that, so the file was repacked: re-download it.")
    f.seek(info.header_offset)
    local = f.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise MinimistralError(f"{path}: the zip entry {info.filename} is damaged; re-download the file.")
    name_len = int.from_bytes(local[26:28], "little")
    extra_len = int.from_bytes(local[28:30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > size:
        raise MinimistralError(f"{path}: entry {info.filename} runs past the end of the file; "
                               f"the download is truncated.")
    return start


def _stored_tensor(buf, start: int, info, name: str, ref: _TensorRef, path: Path) -> StoredTensor:
    """A NumPy view of one tensor inside its mapped storage; only contiguous tensors are accepted."""
    storage, shape, stride, offset = ref.storage, ref.shape, ref.stride, ref.offset
    itemsize = DTYPES[storage.dtype].itemsize
    if (not isinstance(shape, tuple) or not isinstance(stride, tuple) or len(shape) != len(stride)
            or not all(_is_int(d) and d >= 0 for d in shape + stride) or not _is_int(offset) or offset < 0):
        raise MinimistralError(f"{path}: tensor '{name}' has an invalid shape/stride; the file is corrupt.")
    if storage.numel * itemsize != info.file_size:
        raise MinimistralError(f"{path}: storage of '{name}' should hold {storage.numel} elements "
                               f"but its entry has {info.file_size} bytes; the file is corrupt.")
    contiguous = tuple(int(np.prod(shape[i + 1:], dtype=np.int64)) for i in range(len(shape)))
    count = int(np.prod(shape, dtype=np.int64))
    if count > 1 and tuple(s for s, d in zip(stride, shape) if d > 1) != \
            tuple(c for c, d in zip(contiguous, shape) if d > 1):
        raise MinimistralError(f"{path}: tensor '{name}' is stored non-contiguously (stride {stride}); "
                               f"minimistral reads contiguous tensors only: re-save with .contiguous().")
    if offset + count > storage.numel:
        raise MinimistralError(f"{path}: tensor '{name}' runs past the end of its storage; the file is corrupt.")
    if count == 0:
        raw = np.empty(0, dtype=DTYPES[storage.dtype])
    else:
        raw = np.frombuffer(buf, dtype=DTYPES[storage.dtype], count=count, offset=start + offset * itemsize)
    return StoredTensor(name, storage.dtype, tuple(shape), raw.reshape(shape), path)
