"""GGUF, llama.cpp's one-file format (what llama.cpp, Ollama and LM Studio run), read safely and
memory-mapped: the weights stay quantized in the file and are dequantized where used (fast/quant.py).

A GGUF file is a header, then the tensors' bytes (all little-endian):

    "GGUF"  version u32 (2 or 3)  n_tensors u64  n_kv u64
    n_kv x      key: string   value type: u32   value        metadata: "llama.block_count" = 32
    n_tensors x name: string  n_dims: u32  ne: n_dims x u64  type: u32  offset: u64
    padding to general.alignment (32)          -> the data start here; each tensor at start + offset

    string = u64 length + UTF-8 bytes;  array value = item type u32 + count u64 + items

Dimensions are listed fastest first: ne[0] is the row length. The 7B's ffn_down has
ne = [14336, 4096], i.e. 4096 rows of 14336 weights, NumPy shape [4096, 14336], like w2. A
quantized row is ne[0] / 32 (or / 256) blocks; its bytes are the StoredTensor's raw row.

llama.cpp names the tensors its own way (``token_embd.weight``, ``blk.0.attn_q.weight``,
``blk.0.ffn_gate.weight`` = w1, ``ffn_up`` = w3, ``ffn_down`` = w2, ``output_norm.weight``,
GGUF_NAMES below). Its converter (convert_hf_to_gguf.py, ``LlamaModel.permute``) turns HF's q/k
rows back into the interleaved RoPE order that its own RoPE and Mistral's native release use,
so GGUF rows need no output permutation (transformers' GGUF loader undoes that permutation to
get HF's order back; the tests compare our logits with its).

Safety: GGUFReader (llama.cpp's gguf-py) believes every count it reads: an array length of 2^60
loops for ever, a string length past the end is silently cut. So ``check_header`` first walks
the header with a bounded cursor, before anything is allocated: magic, version, counts, string
and array lengths (capped), value types, tensor types and shapes, offsets aligned and inside
the file, no two tensors overlapping, nothing past the end (a truncated download). Only a
header that passed is handed to GGUFReader. Nothing in the file is executed; the chat template
(a Jinja program) is never run.

One idea, longer than the others: one file format, read safely end to end.
"""

from __future__ import annotations

import math
import mmap
import os
import struct
from pathlib import Path

from ..config import ModelArgs, check_values
from ..errors import MinimistralError
from ..fast.quant import BLOCKS
from ..guards.files import kind, open_input
from ..guards.limits import MAX_SIZE
from ..guards.textio import show
from .weights import StoredTensor, Weights

MAGIC = b"GGUF"
# GGML tensor type id -> (our dtype name, weights per block, bytes per block)
TYPES = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 30: ("BF16", 1, 2),
         **{i: (n, *BLOCKS[n]) for i, n in ((8, "Q8_0"), (2, "Q4_0"), (12, "Q4_K"), (14, "Q6_K"))}}
FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}   # value type -> bytes
STRING, ARRAY = 8, 9
INTS, FLOATS, BOOL = (0, 1, 2, 3, 4, 5, 10, 11), (6, 12), (7,)

MAX_KEYS = MAX_TENSORS = 1 << 16      # the 7B: 24 keys, 291 tensors
MAX_NAME_BYTES = 1 << 16              # a key or a tensor name (llama.cpp's tensor names: 64)
MAX_STRING_BYTES = 1 << 24            # one string value (a chat template: a few KiB)
MAX_ITEMS = 1 << 20                   # array items in all the metadata (Mistral: 3 x 32768)
MAX_DEPTH = 3                         # arrays of arrays

GGUF_NAMES = {"tok_embeddings.weight": "token_embd.weight", "norm.weight": "output_norm.weight",
              "output.weight": "output.weight"}
GGUF_LAYER = {"attention_norm.weight": "attn_norm.weight", "ffn_norm.weight": "ffn_norm.weight",
              "attention.wq.weight": "attn_q.weight", "attention.wk.weight": "attn_k.weight",
              "attention.wv.weight": "attn_v.weight", "attention.wo.weight": "attn_output.weight",
              "feed_forward.w1.weight": "ffn_gate.weight", "feed_forward.w3.weight": "ffn_up.weight",
              "feed_forward.w2.weight": "ffn_down.weight"}
NATIVE_NAMES = {v: k for k, v in GGUF_NAMES.items()}
NATIVE_LAYER = {v: k for k, v in GGUF_LAYER.items()}
# our config field -> the metadata key, for messages
GGUF_KEYS = {"dim": "llama.embedding_length", "n_layers": "llama.block_count",
             "head_dim": "llama.attention.key_length", "hidden_dim": "llama.feed_forward_length",
             "n_heads": "llama.attention.head_count", "n_kv_heads": "llama.attention.head_count_kv",
             "sliding_window": "llama.attention.sliding_window", "context_len": "llama.context_length",
             "vocab_size": "the rows of token_embd.weight", "norm_eps": "llama.attention.layer_norm_rms_epsilon",
             "rope_theta": "llama.rope.freq_base"}


def gguf_name(native: str) -> str:
    """'layers.3.feed_forward.w1.weight' -> 'blk.3.ffn_gate.weight'."""
    if native in GGUF_NAMES:
        return GGUF_NAMES[native]
    _, i, rest = native.split(".", 2)
    return f"blk.{i}.{GGUF_LAYER[rest]}"


def native_name(name: str) -> str | None:
    """'blk.3.ffn_gate.weight' -> 'layers.3.feed_forward.w1.weight'; None for other names."""
    if name in NATIVE_NAMES:
        return NATIVE_NAMES[name]
    parts = name.split(".", 2)
    if len(parts) == 3 and parts[0] == "blk" and parts[1].isdigit() and parts[1] == str(int(parts[1])) \
            and parts[2] in NATIVE_LAYER:
        return f"layers.{parts[1]}.{NATIVE_LAYER[parts[2]]}"
    return None


def has_magic(path) -> bool:
    """Does this regular file start with 'GGUF'? (Ollama's blobs have no .gguf suffix.)"""
    try:
        with open_input(path) as f:
            return f.read(4) == MAGIC
    except MinimistralError:
        return False


def gguf_file(path) -> Path | None:
    """The GGUF file a --model path means: the file itself, or the one *.gguf in a directory."""
    path = Path(path)
    k = kind(path)
    if k == "file":
        return path if path.suffix.lower() == ".gguf" or has_magic(path) else None
    if k != "dir":
        return None
    try:
        found = sorted(p for p in path.iterdir() if p.name.lower().endswith(".gguf"))
    except OSError:
        return None
    if len(found) > 1:
        listed = ", ".join(show(p.name) for p in found[:4]) + (", ..." if len(found) > 4 else "")
        raise MinimistralError(f"{show(path)} holds {len(found)} GGUF files ({listed}); pass the one to "
                               f"run, e.g. --model {show(found[0])}.")
    return found[0] if found else None


# ---- the bounded walk over the header ----------------------------------------------------------

class _Cursor:
    """Reads little-endian numbers from the mapped file, never past its end."""

    def __init__(self, buf, size: int, where: str):
        self.buf, self.size, self.where, self.pos = buf, size, where, 0

    def take(self, n: int, what: str) -> int:
        if n > self.size - self.pos:
            raise MinimistralError(f"{self.where}: the header ends early, in {what} (byte {self.pos:,} "
                                   f"of {self.size:,}); the file is truncated or not GGUF (re-download it).")
        start, self.pos = self.pos, self.pos + n
        return start

    def u32(self, what: str) -> int:
        return struct.unpack_from("<I", self.buf, self.take(4, what))[0]

    def u64(self, what: str) -> int:
        return struct.unpack_from("<Q", self.buf, self.take(8, what))[0]

    def string(self, what: str, cap: int) -> bytes | None:
        """A string's bytes if short enough to be a name (cap <= MAX_NAME_BYTES), else None (skipped)."""
        n = self.u64(what)
        if n > cap:
            raise MinimistralError(f"{self.where}: {what} claims {n:,} bytes, more than any GGUF "
                                   f"holds there ({cap:,}); the file is corrupt.")
        start = self.take(n, what)
        return bytes(self.buf[start:start + n]) if cap <= MAX_NAME_BYTES else None

    def text(self, what: str) -> str:
        raw = self.string(what, MAX_NAME_BYTES)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MinimistralError(f"{self.where}: {what} {show(repr(raw[:40]))} is not UTF-8; "
                                   f"the file is corrupt.") from None


def _skip_value(c: _Cursor, vtype: int, key: str, depth: int, items: list) -> None:
    what = f"the value of '{show(key)}'"
    if vtype in FIXED:
        c.take(FIXED[vtype], what)
    elif vtype == STRING:
        c.string(what, MAX_STRING_BYTES)
    elif vtype == ARRAY:
        itype, n = c.u32(what), c.u64(what)
        items[0] += n
        if items[0] > MAX_ITEMS:
            raise MinimistralError(f"{c.where}: the metadata arrays hold more than {MAX_ITEMS:,} items "
                                   f"(at '{show(key)}'); no Mistral GGUF comes near, the file is corrupt.")
        if itype in FIXED:
            c.take(n * FIXED[itype], what)
        elif itype == STRING or (itype == ARRAY and depth < MAX_DEPTH):
            for _ in range(n):
                _skip_value(c, itype, key, depth + 1, items)
        else:
            raise MinimistralError(f"{c.where}: metadata '{show(key)}' is an array of unknown type {itype}; "
                                   f"the file is corrupt or from a newer GGUF version.")
    else:
        raise MinimistralError(f"{c.where}: metadata '{show(key)}' has unknown value type {vtype}; the "
                               f"file is corrupt or from a newer GGUF version.")


def check_header(buf, size: int, where: str) -> list[tuple]:
    """Walk the whole header within the file's bytes; [(name, dims, type id, offset)] if sound."""
    c = _Cursor(buf, size, where)
    if size < 24 or bytes(buf[:4]) != MAGIC:
        raise MinimistralError(f"{where} is not a GGUF file (it does not start with 'GGUF'); is the "
                               f"download complete and the right file?")
    c.take(4, "the magic")
    version = c.u32("the version")
    if version not in (2, 3):
        why = ("a big-endian file; minimistral reads little-endian GGUF files" if version & 0xFFFF == 0
               else "version 1 (2023); re-download or re-convert it" if version == 1
               else "a version minimistral does not know (it reads 2 and 3)")
        raise MinimistralError(f"{where} is GGUF {why}.")
    n_tensors, n_kv = c.u64("the tensor count"), c.u64("the metadata count")
    if n_tensors > MAX_TENSORS or n_kv > MAX_KEYS:
        raise MinimistralError(f"{where} claims {n_tensors:,} tensors and {n_kv:,} metadata keys, far more "
                               f"than any model has; the file is corrupt.")
    keys, items, alignment = set(), [0], 32
    for i in range(n_kv):
        key = c.text(f"metadata key {i}")
        if key in keys:
            raise MinimistralError(f"{where} holds the metadata key '{show(key)}' twice; the file is corrupt.")
        keys.add(key)
        vtype = c.u32(f"the type of '{show(key)}'")
        if key == "general.alignment":
            if vtype != 4:
                raise MinimistralError(f"{where}: general.alignment must be a uint32, not type {vtype}.")
            alignment = struct.unpack_from("<I", buf, c.pos)[0] if c.pos + 4 <= size else 32
            if alignment == 0 or alignment & (alignment - 1):
                raise MinimistralError(f"{where}: general.alignment = {alignment} is not a power of two; "
                                       f"the file is corrupt.")
        _skip_value(c, vtype, key, 0, items)
    tensors, names = [], set()
    for i in range(n_tensors):
        name = c.text(f"the name of tensor {i}")
        if name in names:
            raise MinimistralError(f"{where} holds the tensor '{show(name)}' twice; the file is corrupt.")
        names.add(name)
        n_dims = c.u32(f"the dimensions of '{show(name)}'")
        if not 1 <= n_dims <= 4:
            raise MinimistralError(f"{where}: tensor '{show(name)}' has {n_dims} dimensions (GGUF allows "
                                   f"1 to 4); the file is corrupt.")
        dims = [c.u64(f"the shape of '{show(name)}'") for _ in range(n_dims)]
        type_id, offset = c.u32(f"the type of '{show(name)}'"), c.u64(f"the offset of '{show(name)}'")
        if not all(1 <= d <= MAX_SIZE for d in dims):
            raise MinimistralError(f"{where}: tensor '{show(name)}' has shape {dims} (fastest first); "
                                   f"the file is corrupt.")
        if type_id not in TYPES:
            raise MinimistralError(f"{where}: tensor '{show(name)}' is stored as {_type_name(type_id)}, which "
                                   f"minimistral does not read (it reads {', '.join(t[0] for t in TYPES.values())}"
                                   f"); use a Q4_K_M, Q6_K, Q8_0, Q4_0 or F16 file.")
        tensors.append((name, dims, type_id, offset))
    data_start = -(-c.pos // alignment) * alignment
    spans = []
    for name, dims, type_id, offset in tensors:
        dtype, per_block, block_bytes = TYPES[type_id]
        if dims[0] % per_block:
            raise MinimistralError(f"{where}: tensor '{show(name)}' has rows of {dims[0]} weights, not a "
                                   f"multiple of {dtype}'s block of {per_block}; the file is corrupt.")
        nbytes = math.prod(dims[1:]) * (dims[0] // per_block) * block_bytes
        if offset % alignment:
            raise MinimistralError(f"{where}: tensor '{show(name)}' starts at offset {offset:,}, not a "
                                   f"multiple of the alignment {alignment}; the file is corrupt.")
        if data_start + offset + nbytes > size:
            raise MinimistralError(f"{where}: tensor '{show(name)}' ends at byte {data_start + offset + nbytes:,} "
                                   f"but the file has {size:,}; the file is truncated (re-download it).")
        spans.append((offset, offset + nbytes, name))
    spans.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise MinimistralError(f"{where}: tensors '{show(n0)}' and '{show(n1)}' overlap in the file; "
                                   f"the file is corrupt.")
    return tensors


def _type_name(type_id: int) -> str:
    try:
        import gguf

        return gguf.GGMLQuantizationType(type_id).name
    except (ImportError, ValueError):
        return f"GGML type {type_id}"


def read_gguf(path):
    """A gguf.GGUFReader over the file, after check_header passed (MinimistralError otherwise)."""
    from gguf import GGUFReader

    path = Path(path)
    where = show(path)
    with open_input(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size < 24:
            raise MinimistralError(f"{where} is too short to be a GGUF file ({size} bytes); is the "
                                   f"download complete?")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            check_header(buf, size, where)
    try:
        return GGUFReader(path)
    except (ValueError, KeyError, IndexError, OverflowError, UnicodeDecodeError, TypeError) as e:
        # check_header should have refused anything GGUFReader cannot read (tests/checkpoints/test_gguf.py)
        raise MinimistralError(f"{where}: gguf's reader refused the file ({e}); it is corrupt.") from None


# ---- metadata ----------------------------------------------------------------------------------

_MISSING = object()


def meta(reader, key: str, kinds: tuple, where: str, default=_MISSING):
    """A scalar metadata value of one of the value types `kinds`, or default if absent."""
    field = reader.fields.get(key)
    if field is None:
        if default is _MISSING:
            raise MinimistralError(f"{where} has no '{key}'; is it a Mistral (llama architecture) GGUF?")
        return default
    if len(field.types) != 1 or field.types[0] not in kinds:
        raise MinimistralError(f"{where}: metadata '{key}' has the wrong type ({_kind(field)}); the file is corrupt.")
    try:
        return field.contents()
    except UnicodeDecodeError:
        raise MinimistralError(f"{where}: metadata '{key}' is not UTF-8 text; the file is corrupt.") from None


def meta_array(reader, key: str, kinds: tuple, where: str, default=_MISSING) -> list:
    """An array of values of one of the item types `kinds`."""
    field = reader.fields.get(key)
    if field is None:
        if default is _MISSING:
            raise MinimistralError(f"{where} has no '{key}'; is the file complete?")
        return default
    if field.types[:1] != [ARRAY] or (len(field.data) and (len(field.types) != 2 or field.types[1] not in kinds)):
        raise MinimistralError(f"{where}: metadata '{key}' has the wrong type ({_kind(field)}); the file is corrupt.")
    try:
        return field.contents() if len(field.data) else []
    except UnicodeDecodeError:
        raise MinimistralError(f"{where}: metadata '{key}' holds text that is not UTF-8; the file is corrupt.") from None


def _kind(field) -> str:
    return "/".join(getattr(t, "name", str(t)).lower() for t in field.types)


def read_args(reader, where: str, vocab_size: int) -> ModelArgs:
    """ModelArgs from the llama.* metadata; what minimistral does not implement is refused."""
    arch = meta(reader, "general.architecture", (STRING,), where)
    if arch != "llama":
        raise MinimistralError(f"{where} is a GGUF of architecture {show(repr(arch))}; minimistral runs "
                               f"Mistral 7B, which llama.cpp files as 'llama'.")
    get = lambda key, kinds=INTS, default=_MISSING: meta(reader, "llama." + key, kinds, where, default)  # noqa: E731
    if meta(reader, "split.count", INTS, where, 1) > 1:
        raise MinimistralError(f"{where} is one part of a split GGUF; join the parts first (llama.cpp's "
                               f"llama-gguf-split --merge) and pass the joined file.")
    if get("expert_count", default=0):
        raise MinimistralError(f"{where} is a mixture of experts (Mixtral); minimistral runs the plain "
                               f"Mistral 7B architecture.")
    if get("rope.scaling.type", (STRING,), "none") not in ("none", ""):
        raise MinimistralError(f"{where} asks for RoPE scaling (llama.rope.scaling.type), which minimistral "
                               f"does not implement.")
    dim, n_heads = get("embedding_length"), get("attention.head_count")
    head_dim = get("attention.key_length", default=None)
    if head_dim is None:
        head_dim = dim // n_heads if isinstance(dim, int) and isinstance(n_heads, int) and n_heads > 0 else 0
    if get("attention.value_length", default=head_dim) != head_dim or \
            get("rope.dimension_count", default=head_dim) != head_dim:
        raise MinimistralError(f"{where}: the value size or the rotated dimensions differ from the key size "
                               f"{head_dim}; minimistral implements Mistral's attention, where all three agree.")
    values = dict(dim=dim, n_layers=get("block_count"), head_dim=head_dim, hidden_dim=get("feed_forward_length"),
                  n_heads=n_heads, n_kv_heads=get("attention.head_count_kv", default=n_heads),
                  sliding_window=get("attention.sliding_window", default=None),
                  context_len=get("context_length", default=32768), vocab_size=vocab_size,
                  norm_eps=get("attention.layer_norm_rms_epsilon", FLOATS, 1e-5),
                  rope_theta=get("rope.freq_base", FLOATS, 10000.0))
    if get("vocab_size", default=vocab_size) != vocab_size:
        raise MinimistralError(f"{where}: llama.vocab_size disagrees with the {vocab_size} rows of token_embd.weight; "
                               f"the file is corrupt.")
    check_values(values, where, GGUF_KEYS)
    return ModelArgs(**values)


def stored(t, path: Path) -> StoredTensor:
    """A GGUFReader tensor as a StoredTensor: NumPy shape [rows, row length], raw bytes as mapped."""
    dtype = TYPES[int(t.tensor_type)][0]
    shape = tuple(int(d) for d in reversed(t.shape.tolist()))              # ne is fastest first
    raw = t.data.view("<u2") if dtype == "BF16" else t.data                 # BF16: raw bits, as safetensors.py
    return StoredTensor(t.name, dtype, shape, raw, path)


def open_gguf(path) -> tuple[ModelArgs, Weights]:
    """(args, weights) of a Mistral GGUF file; the tensors stay in the mapped file."""
    from .layout import check_tensors

    path = Path(path)
    where = show(path)
    reader = read_gguf(path)
    tensors = {}
    for t in reader.tensors:
        native = native_name(t.name)
        if native is None:
            raise MinimistralError(f"{where} holds the tensor '{show(t.name)}', which a Mistral 7B GGUF does not "
                                   f"have; is this another model?")
        tensors[native] = stored(t, path)
    if "tok_embeddings.weight" not in tensors:
        raise MinimistralError(f"{where} has no token_embd.weight; is the file complete?")
    if "output.weight" not in tensors:                 # llama.cpp: no output.weight means tied
        tensors["output.weight"] = tensors["tok_embeddings.weight"]
    args = read_args(reader, where, tensors["tok_embeddings.weight"].shape[0])
    weights = Weights(tensors)
    check_tensors(args, weights, path, "gguf")
    return args, weights


def describe(weights: Weights) -> list[str]:
    """One line per kind of tensor: its storage types (how many tensors each), bytes, bits a weight.

        attn_v       Q4_K x 16, Q6_K x 16    0.210 GB  5.53 bits/weight
    """
    groups: dict[str, dict] = {}
    seen = set()
    for native, t in weights.tensors.items():
        if id(t) in seen:
            continue
        seen.add(id(t))
        role = gguf_name(native).split(".")[-2]
        g = groups.setdefault(role, {"types": {}, "bytes": 0, "weights": 0})
        g["types"][t.dtype] = g["types"].get(t.dtype, 0) + 1
        g["bytes"] += t.nbytes
        g["weights"] += math.prod(t.shape)
    lines = []
    for role, g in groups.items():
        types = ", ".join(f"{d} x {n}" for d, n in sorted(g["types"].items()))
        lines.append(f"{role:<12} {types:<22} {g['bytes'] / 1e9:6.3f} GB  {8 * g['bytes'] / g['weights']:.2f} bits/weight")
    return lines


def bits_per_weight(dtype: str) -> float:
    """Q4_K -> 4.5: bytes per block x 8 / weights per block."""
    _, per_block, block_bytes = next(t for t in TYPES.values() if t[0] == dtype)
    return 8 * block_bytes / per_block

