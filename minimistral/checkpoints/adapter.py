"""An adapter: only the tensors a fine-tuning changed, loaded on top of the model it started from.

Instruction tuning (training/instruct.py) freezes the embedding and the output layer, two
[V, D] tables that are most of a small model's bytes (2 x 32000 x 128 of the shipped model's
12.5 M parameters), and trains the blocks. So it ships what changed, in a directory:

    adapter.json          {"format": "minimistral-adapter", "base": ..., "base_sha256": {...},
                           "tensors": [native names], "embedding_rows": [ids], ...}
    adapter.safetensors   those tensors, native names and native row order (wq/wk not permuted);
                          "tok_embeddings.weight.rows" [r, D]: new values of the listed rows
    tokenizer.model       the base's tokenizer, so the directory is a model directory

``base`` is "minimistral:NAME" for a model that ships in the package (data/NAME), else a path,
absolute or relative to the adapter's directory. ``base_sha256`` holds the SHA-256 of the base's
config.json and weight files as they were when it was fine-tuned: an adapter applied to other
weights would run without an error and answer nonsense, so a mismatch is refused.

``open_model`` opens an adapter directory like any checkpoint: the base's tensors, memory-mapped
as usual, with the adapter's in place of theirs. So minimistral.load, `minimistral chat --model
DIR` and `minimistral info --model DIR` take it as they are. (It lives here, above layout.py,
because an adapter opens its base through layout.open_checkpoint: the import runs one way.)

    args, weights, meta = open_adapter(dir)   # base + changed tensors, as one Weights
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..config import ModelArgs
from ..errors import MinimistralError
from ..guards.files import kind, open_input
from ..guards.textio import show
from .layout import detect_layout, find_tokenizer, open_checkpoint, read_json
from .safetensors import read_safetensors, write_safetensors
from .weights import StoredTensor, Weights

ADAPTER_JSON = "adapter.json"
ADAPTER_WEIGHTS = "adapter.safetensors"
FORMAT = "minimistral-adapter"
SHIPPED_PREFIX = "minimistral:"
ROWS = "tok_embeddings.weight.rows"          # the tensor of changed embedding rows, [r, D]


def is_adapter(path) -> bool:
    """True if path is a directory holding adapter.json."""
    return kind(path) == "dir" and kind(Path(path) / ADAPTER_JSON) != "missing"


def shipped_dir() -> Path:
    """minimistral/data/, where the shipped models live."""
    return Path(__file__).resolve().parent.parent / "data"


def base_reference(base) -> str:
    """How adapter.json names a base: 'minimistral:NAME' for a model shipped in the package
    (found wherever the package is installed), else its absolute path."""
    base = Path(base).resolve()
    if base.parent == shipped_dir():
        return SHIPPED_PREFIX + base.name
    return str(base)


def resolve_base(reference, adapter_dir: Path) -> Path:
    """The base directory adapter.json names (see base_reference)."""
    if not isinstance(reference, str) or not reference:
        raise MinimistralError(f"{show(adapter_dir / ADAPTER_JSON)} has no 'base' naming the model it adapts.")
    if reference.startswith(SHIPPED_PREFIX):
        name = reference[len(SHIPPED_PREFIX):]
        if not name or Path(name).name != name:
            raise MinimistralError(f"{show(adapter_dir / ADAPTER_JSON)} names a shipped base {reference!r} "
                                   f"that is not a model name.")
        return shipped_dir() / name
    path = Path(reference)
    return path if path.is_absolute() else adapter_dir / path


def weight_files(directory: Path) -> list[Path]:
    """The files whose bytes make a checkpoint's model: config/params JSON and weight files."""
    names = ("config.json", "params.json")
    files = [directory / n for n in names if kind(directory / n) == "file"]
    files += sorted(p for p in directory.iterdir()
                    if p.suffix in (".safetensors", ".pth", ".gguf") and p.name != ADAPTER_WEIGHTS)
    return files


def fingerprint(directory: Path) -> dict[str, str]:
    """{file name: SHA-256} of weight_files(directory), read in 1 MiB pieces."""
    out = {}
    for path in weight_files(Path(directory)):
        h = hashlib.sha256()
        with open_input(path) as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        out[path.name] = h.hexdigest()
    return out


def write_adapter(directory, base, changed: dict[str, np.ndarray], rows: dict[int, np.ndarray] | None = None,
                  dtype: str = "BF16", info: dict | None = None) -> Path:
    """Write an adapter over the checkpoint directory ``base``.

    changed: {native name: float32 array in native row order} of whole tensors that changed;
    rows: {token id: float32 [D]} of embedding rows that changed; info: more JSON (the recipe).
    All or nothing, as write_hf_checkpoint: files go to NAME.partial, renamed once all are whole.
    """
    directory, base = Path(directory), Path(base)
    if is_adapter(base):
        raise MinimistralError(f"{show(base)} is itself an adapter; fine-tune from a full checkpoint.")
    directory.mkdir(parents=True, exist_ok=True)
    tensors = dict(changed)
    ids = sorted(int(i) for i in (rows or {}))
    if ids:
        tensors[ROWS] = np.stack([rows[i] for i in ids]).astype(np.float32)          # [r, D]
    meta = {"format": FORMAT, "version": 1, "base": base_reference(base),
            "base_sha256": fingerprint(base), "tensors": sorted(changed), "embedding_rows": ids,
            "dtype": dtype, **(info or {})}
    tok = find_tokenizer(base)
    partial = {name: directory / f"{name}.partial" for name in (ADAPTER_WEIGHTS, ADAPTER_JSON, "tokenizer.model")}
    try:
        write_safetensors(partial[ADAPTER_WEIGHTS], tensors, dtype=dtype, metadata={"format": FORMAT})
        partial[ADAPTER_JSON].write_text(json.dumps(meta, indent=1) + "\n")
        if tok is not None and tok.path.name.startswith("tokenizer.model"):     # not a GGUF file's own
            shutil.copyfile(tok.path, partial["tokenizer.model"])
        for name, path in partial.items():
            if path.exists():
                os.replace(path, directory / name)
    except BaseException:
        for path in partial.values():
            path.unlink(missing_ok=True)
        raise
    return directory


def read_adapter_json(directory: Path) -> dict:
    """adapter.json, checked: the format, the lists of names and rows."""
    path = directory / ADAPTER_JSON
    meta = read_json(path)
    if meta.get("format") != FORMAT:
        raise MinimistralError(f"{show(path)} is not a minimistral adapter (its 'format' is not {FORMAT!r}).")
    if not isinstance(meta.get("tensors"), list) or not all(isinstance(n, str) for n in meta["tensors"]):
        raise MinimistralError(f"{show(path)} has no list of 'tensors'; re-create the adapter.")
    rows = meta.get("embedding_rows", [])
    if not isinstance(rows, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in rows):
        raise MinimistralError(f"{show(path)}: 'embedding_rows' must be a list of token ids.")
    return meta


def open_model(directory) -> tuple[ModelArgs, Weights, str]:
    """(args, weights, layout) of any model directory layout.open_checkpoint reads, or of an adapter."""
    if detect_layout(Path(directory)) == "adapter":
        args, weights, _ = open_adapter(directory)
        return args, weights, "adapter"
    return open_checkpoint(directory)


def open_adapter(directory) -> tuple[ModelArgs, Weights, dict]:
    """(args, weights, adapter.json) of an adapter directory: the base with the changed tensors in place."""
    directory = Path(directory)
    meta = read_adapter_json(directory)
    base = resolve_base(meta.get("base"), directory)
    if kind(base) != "dir":
        raise MinimistralError(f"{show(directory)} adapts {show(base)}, which is not a directory; put the "
                               f"base model there (adapter.json names it).")
    if is_adapter(base):
        raise MinimistralError(f"{show(directory)} adapts {show(base)}, which is itself an adapter; "
                               f"an adapter must name a full checkpoint.")
    expected = meta.get("base_sha256")
    if expected is not None and fingerprint(base) != expected:
        raise MinimistralError(f"{show(base)} is not the model {show(directory)} was fine-tuned from (its "
                               f"weights or config differ); fine-tune it again on this base.")
    args, weights, _ = open_checkpoint(base)
    tensors = read_safetensors(directory / ADAPTER_WEIGHTS)
    names = set(meta["tensors"]) | ({ROWS} if meta.get("embedding_rows") else set())
    if set(tensors) != names:
        raise MinimistralError(f"{show(directory / ADAPTER_WEIGHTS)} holds other tensors than "
                               f"{ADAPTER_JSON} lists; re-create the adapter.")
    merged, out_perm = dict(weights.tensors), dict(weights.out_perm)
    for name in meta["tensors"]:
        t = tensors[name]
        if name not in merged or tuple(merged[name].shape) != tuple(t.shape):
            raise MinimistralError(f"{show(directory / ADAPTER_WEIGHTS)}: tensor '{show(name)}' does not fit the "
                                   f"base {show(base)}; is it the base it was made for?")
        merged[name] = t
        out_perm.pop(name, None)                 # stored in native row order
    ids = meta.get("embedding_rows") or []
    if ids:
        old = merged["tok_embeddings.weight"]
        values = tensors[ROWS].float32()                                              # [r, D]
        if values.shape != (len(ids), old.shape[1]) or not all(0 <= i < old.shape[0] for i in ids):
            raise MinimistralError(f"{show(directory / ADAPTER_WEIGHTS)}: the embedding rows do not fit the "
                                   f"base's [{old.shape[0]}, {old.shape[1]}] table.")
        table = np.array(old.float32(), dtype=np.float32)        # [V, D]: a copy, rows replaced
        table[ids] = values
        merged["tok_embeddings.weight"] = StoredTensor("tok_embeddings.weight", "F32", table.shape, table,
                                                       directory / ADAPTER_WEIGHTS)
    return args, Weights(merged, out_perm), meta
