"""Quantizing any checkpoint minimistral reads into a GGUF file that llama.cpp (and minimistral) runs.

    quantize("Mistral-7B-v0.1", "mistral-7b-v0.1.Q8_0.gguf", "q8_0")

What llama.cpp's converter writes for a Mistral, with llama.cpp's own writer (gguf.GGUFWriter)
and quantizer (gguf.quants.quantize):

- architecture "llama", the llama.* hyper-parameters, tensor names as in names.py;
- q and k rows in the interleaved RoPE order (the native order: HF checkpoints are put back in
  it with the layout's output permutation, names.hf_rope_perm);
- 1-D tensors (the norms) in F32, as llama.cpp keeps them, every matrix in the chosen type
  (a matrix whose rows are not whole 32-weight blocks in F16);
- the tokenizer's pieces, scores and types (gguf_vocab.py), so the file is self-contained;
- the sliding window, if the checkpoint has one, as llama.attention.sliding_window (llama.cpp
  ignores it for this architecture; minimistral reads it back).

Matrices are converted a slice of rows at a time (never the whole model in float32) and written
as they come; the file is written under a temporary name and renamed when complete, then opened
again and compared with the source (config, tokenizer, and a few tensors within the type's
rounding error).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MinimistralError
from ..guards.textio import show
from .gguf import bits_per_weight, open_gguf
from .layout import open_checkpoint
from .names import gguf_name, iter_expected
from .weights import to_float32

QTYPES = {"q8_0": "Q8_0", "q4_0": "Q4_0", "f16": "F16"}
FILE_TYPES = {"Q8_0": 7, "Q4_0": 2, "F16": 1}       # llama.cpp's LLAMA_FTYPE_MOSTLY_*
ROWS = 1024                                          # rows converted at a time
# Largest error of a dequantized weight, relative to the largest |weight| of its tensor: half a
# step of the 255 (Q8_0) or 16 (Q4_0) levels spanning a block's range, plus the fp16 scale's
# rounding; F16: its relative precision.
TOLERANCE = {"Q8_0": 1 / 127, "Q4_0": 1 / 7, "F16": 1e-3}


def native_rows(weights, name: str, start: int, stop: int) -> np.ndarray:
    """Rows start:stop of a tensor as float32 in the native row order (q/k rows of HF layouts
    come back from their permuted order through the same index the reader applies to outputs)."""
    t = weights.tensors[name]
    perm = weights.out_perm.get(name)
    raw = t.raw[start:stop] if perm is None else t.raw[perm[start:stop]]
    return np.asarray(to_float32(raw, t.dtype), dtype=np.float32)


def convert(x: np.ndarray, qtype: str) -> tuple[np.ndarray, str]:
    """float32 rows -> (bytes or values as written, the GGUF type name)."""
    import gguf

    if x.ndim == 1:
        return np.ascontiguousarray(x, dtype=np.float32), "F32"
    if qtype == "F16" or x.shape[-1] % 32:
        return x.astype(np.float16), "F16"
    return gguf.quants.quantize(x, gguf.GGMLQuantizationType[qtype]), qtype


def quantize(src, out, qtype: str = "q8_0", progress=None) -> dict:
    """Write checkpoint `src` as a GGUF file `out` of type q8_0, q4_0 or f16; returns a summary.

    ``progress(layer, n_layers, bytes_written, bytes_total)`` is called as layers are written.
    """
    import gguf

    from .gguf_vocab import gguf_tokenizer, vocabulary
    from .layout import find_tokenizer

    qtype = QTYPES.get(str(qtype).lower())
    if qtype is None:
        raise MinimistralError(f"the quantization type must be one of {', '.join(QTYPES)}; got {show(qtype)}.")
    src, out = Path(src), Path(out)
    args, weights, layout = open_checkpoint(src)
    tokenizer = find_tokenizer(src)
    if tokenizer is None:
        raise MinimistralError(f"{show(src)} has no tokenizer.model; a GGUF file carries its tokenizer, so "
                               f"copy it next to the weights first.")
    if out.exists():
        raise MinimistralError(f"{show(out)} exists already; remove it or choose another output name.")
    if not out.parent.is_dir():
        raise MinimistralError(f"the output directory {show(out.parent)} does not exist.")

    names = [name for name, _ in iter_expected(args)]
    sizes = {name: _size(weights, name, qtype) for name in names}
    partial = out.with_name(out.name + ".partial")
    w = gguf.GGUFWriter(str(partial), "llama")
    try:
        _metadata(w, args, tokenizer, vocabulary(tokenizer.sp), qtype, src.name)
        for name in names:
            shape, nbytes, kind = sizes[name]
            # the shape in weights (not bytes: the writer takes uint8 shapes as bytes)
            w.add_tensor_info(gguf_name(name), shape, np.dtype(np.float32), nbytes,
                              raw_dtype=gguf.GGMLQuantizationType[kind])
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_ti_data_to_file()
        total, done = sum(s[1] for s in sizes.values()), 0
        for name in names:
            rows = weights.tensors[name].shape[0]
            parts = [convert(native_rows(weights, name, r, r + ROWS), qtype)[0] for r in range(0, rows, ROWS)] \
                if len(weights.tensors[name].shape) == 2 else [convert(native_rows(weights, name, 0, rows), qtype)[0]]
            w.write_tensor_data(np.concatenate(parts) if len(parts) > 1 else parts[0])
            done += sizes[name][1]
            if progress is not None and (name.endswith("w2.weight") or name == names[-1]):
                progress(min(int(name.split(".")[1]) + 1 if name.startswith("layers.") else args.n_layers,
                             args.n_layers), args.n_layers, done, total)
        w.close()
        os.replace(partial, out)
    except BaseException:
        w.close()
        partial.unlink(missing_ok=True)
        raise
    check(out, args, weights, tokenizer, qtype, gguf_tokenizer)
    kinds: dict[str, int] = {}
    for _, _, kind in sizes.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    return {"path": out, "bytes": out.stat().st_size, "types": kinds, "source_layout": layout}


def _size(weights, name: str, qtype: str) -> tuple[tuple, int, str]:
    """(shape, bytes, type) a tensor will have in the file."""
    shape = tuple(weights.tensors[name].shape)
    if len(shape) == 1:
        return shape, 4 * shape[0], "F32"
    kind = "F16" if qtype == "F16" or shape[-1] % 32 else qtype
    return shape, int(shape[0] * shape[1] * bits_per_weight(kind) / 8), kind


def _metadata(w, args, tokenizer, vocab, qtype: str, name: str) -> None:
    w.add_name(name)
    w.add_file_type(FILE_TYPES[qtype])
    w.add_quantization_version(2)                    # GGML_QNT_VERSION
    w.add_context_length(args.context_len)
    w.add_embedding_length(args.dim)
    w.add_block_count(args.n_layers)
    w.add_feed_forward_length(args.hidden_dim)
    w.add_rope_dimension_count(args.head_dim)
    w.add_head_count(args.n_heads)
    w.add_head_count_kv(args.n_kv_heads)
    if args.head_dim != args.dim // args.n_heads:
        w.add_key_length(args.head_dim)
        w.add_value_length(args.head_dim)
    w.add_layer_norm_rms_eps(args.norm_eps)
    w.add_rope_freq_base(args.rope_theta)
    w.add_vocab_size(args.vocab_size)
    if args.sliding_window is not None:
        w.add_sliding_window(args.sliding_window)
    tokens, scores, types = vocab
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(tokenizer.sp.unk_id())
    w.add_bos_token_id(tokenizer.bos_id)
    w.add_eos_token_id(tokenizer.eos_id)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)


def check(out: Path, args, weights, tokenizer, qtype: str, gguf_tokenizer) -> None:
    """Open the written file again: same config, same vocabulary, and the first, a middle and the
    last matrix within the type's rounding error of the source."""
    new_args, new_weights = open_gguf(out)
    as_float32 = {"norm_eps": float(np.float32(args.norm_eps)), "rope_theta": float(np.float32(args.rope_theta))}
    if new_args != args.replace(**as_float32):      # GGUF stores the two as float32
        raise MinimistralError(f"{show(out)} reads back as {new_args}, not {args}; the file is not usable.")
    new_tok = gguf_tokenizer(out)
    probe = "The cat sat on the mat. [INST] 3.14 日本 [/INST]"
    if new_tok.vocab_size != tokenizer.vocab_size or new_tok.encode(probe) != tokenizer.encode(probe):
        raise MinimistralError(f"{show(out)}: the tokenizer reads back differently; the file is not usable.")
    for name in ("tok_embeddings.weight", f"layers.{args.n_layers // 2}.attention.wq.weight", "output.weight"):
        source = native_rows(weights, name, 0, min(64, weights.tensors[name].shape[0]))
        t = new_weights.tensors[name]
        back = to_float32(t.raw[:source.shape[0]], t.dtype)
        scale = max(float(np.abs(native_rows(weights, name, 0, weights.tensors[name].shape[0])).max()), 1e-30)
        if not np.abs(back - source).max() <= TOLERANCE[qtype if t.dtype != "F16" else "F16"] * scale:
            raise MinimistralError(f"{show(out)}: tensor '{gguf_name(name)}' reads back too far from the "
                                   f"source; the file is not usable.")
