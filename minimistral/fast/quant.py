"""Quantized weights (llama.cpp's GGUF blocks): what the bytes mean, and y = x @ W.T on them.

A quantized row of W is a run of blocks. Each block holds a few scales and one small integer
per weight, and a weight is ``scale * integer`` (or ``scale * integer - min``). The row is
never widened whole: ``quant_matmul_transposed`` turns a cache-sized chunk of rows into float32
(``dequantize``), multiplies it, and moves on, exactly as fast/linear.py widens bf16.

    Q8_0  32 weights in 34 bytes (8.5 bits a weight)
          [d: fp16][q0 .. q31: int8]                      x_j = d * q_j
          d = 0.01 (fp16 0x211F = 0.0100021), q = [-127 .. 127]  ->  x in [-1.27, 1.27]

    Q4_0  32 weights in 18 bytes (4.5 bits)
          [d: fp16][16 bytes, two 4-bit q each]          x_j = d * (q_j - 8),  q in 0..15
          byte j holds q_j in its low half and q_(j+16) in its high half:
          byte 0x1F -> q_0 = 0xF = 15 -> 7d,  q_16 = 0x1 = 1 -> -7d

    Q4_K  256 weights in 144 bytes (4.5 bits): a super-block of 8 sub-blocks of 32
          [d: fp16][dmin: fp16][12 bytes: 8 scales, 8 mins, 6 bits each][128 bytes of 4-bit q]
          sub-block s:  x = (d * scale_s) * q - (dmin * min_s),  q in 0..15
          bytes 0..3 hold scale 0..3 in their low 6 bits, bytes 4..7 min 0..3; bytes 8..11
          hold the low 4 bits of scale 4..7 (low half) and min 4..7 (high half), whose top
          2 bits are the top 2 bits of bytes 0..3 (scales) and 4..7 (mins).
          The 128 bytes are 4 runs of 32: run c gives sub-block 2c (low halves) and 2c+1 (high).

    Q6_K  256 weights in 210 bytes (6.5625 bits): 16 sub-blocks of 16
          [ql: 128 bytes, low 4 bits][qh: 64 bytes, high 2 bits][16 int8 scales][d: fp16]
          x = (d * scale_s) * (q - 32),  q = low | high << 4 in 0..63
          For each half h of 128 weights (ql[64h:64h+64], qh[32h:32h+32]) and l in 0..31:
            weight 128h + l      low half of ql[64h + l],       bits 0-1 of qh[32h + l]
            weight 128h + l + 32 low half of ql[64h + l + 32],  bits 2-3
            weight 128h + l + 64 high half of ql[64h + l],      bits 4-5
            weight 128h + l + 96 high half of ql[64h + l + 32], bits 6-7

These are the layouts of llama.cpp's ggml-quants.c (block_q8_0, block_q4_0, block_q4_K,
block_q6_K). Every product here is in float32 and in the same order as llama.cpp's reference
gguf-py (``gguf.quants.dequantize``), so dequantized values equal its bit for bit (fp16
scales that are subnormal, inf or NaN included; tests/fast/test_quant.py).

One idea, longer than the others: four block layouts and the one loop that multiplies them.
"""

from __future__ import annotations

import threading

import numpy as np

from .threads import Chunks, pieces, run_chunks, vecdot

# type name -> (weights per block, bytes per block)
BLOCKS = {"Q8_0": (32, 34), "Q4_0": (32, 18), "Q4_K": (256, 144), "Q6_K": (256, 210)}

CHUNK_VALUES = 1 << 19   # a few rows of x: weights per chunk a thread takes, 2 MiB as float32
                         # (measured, one thread, G weights/s Q8_0/Q4_K/Q6_K: 2^17 1.33/0.64/0.47,
                         # 2^19 1.59/0.77/0.51, 2^21 1.58/0.79/0.42)
FEW_ROWS = 16            # x with up to this many rows: chunks in threads, vecdot
BLOCK_VALUES = 1 << 22   # more rows (pre-fill): 16 MiB blocks, dequantized by all threads,
                         # then one sgemm on all cores


def row_length(dtype: str, row_bytes: int) -> int:
    """Weights in a row of row_bytes bytes: row_length("Q4_K", 2304) -> 4096."""
    per_block, block_bytes = BLOCKS[dtype]
    return row_bytes // block_bytes * per_block


def row_bytes(dtype: str, n: int) -> int:
    """Bytes of a row of n weights (n a multiple of the block): row_bytes("Q8_0", 4096) -> 4352."""
    per_block, block_bytes = BLOCKS[dtype]
    return n // per_block * block_bytes


class _Workspace(threading.local):
    """Each thread's buffers, kept between calls. A fresh array of a few hundred kB for every step
    is a fresh mapping from the OS, whose page faults cost more than the arithmetic (measured in
    an earlier version of the product: 500 us a chunk of 128K Q8_0 weights with fresh arrays,
    85 us with kept ones)."""

    def __init__(self):
        self.buffers: dict = {}

    def get(self, name: str, shape: tuple, dtype=np.float32) -> np.ndarray:
        size = int(np.prod(shape))
        buf = self.buffers.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.buffers[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


_work = _Workspace()


def _half(two_bytes: np.ndarray) -> np.ndarray:
    """fp16 scales stored as two little-endian bytes [..., 2] -> float32 [..., 1] (exact)."""
    return two_bytes.view("<f2").astype(np.float32)


def _q8_0(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 34] -> out float32 [n, 32]."""
    np.multiply(b[:, 2:].view(np.int8), _half(b[:, :2]), out=out)         # q * d


def _q4_0(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 18] -> out float32 [n, 32]: low halves are weights 0..15, high halves 16..31."""
    n = b.shape[0]
    q = _work.get("natural", (n, 2, 16), np.uint8)
    np.bitwise_and(b[:, 2:], 0x0F, out=q[:, 0])
    np.right_shift(b[:, 2:], 4, out=q[:, 1])
    np.subtract(q.reshape(n, 32), np.float32(8), out=out)                  # q - 8, exact
    np.multiply(out, _half(b[:, :2]), out=out)                            # * d


def k_scales(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_K's 12 packed bytes [n, 12] -> (scales, mins), uint8 [n, 8] each, in 0..63.

    Four bytes at a time, as uint32 words w0 (bytes 0-3), w1 (4-7), w2 (8-11), each byte of a
    result word one scale: scales 0-3 = w0 & 0x3F3F3F3F, scales 4-7 = the low halves of w2 with
    the top 2 bits of w0's bytes moved to bits 4-5 ((w0 >> 2) & 0x30303030); mins likewise from
    w1 and w2's high halves.
    """
    w = (s if s.strides[-1] == 1 else np.ascontiguousarray(s)).view("<u4")   # [n, 3], no copy
    w0, w1, w2 = w[:, 0], w[:, 1], w[:, 2]
    out = np.empty((s.shape[0], 4), dtype="<u4")                         # scales 0-3, 4-7, mins 0-3, 4-7
    np.bitwise_and(w0, np.uint32(0x3F3F3F3F), out=out[:, 0])
    np.bitwise_or(w2 & np.uint32(0x0F0F0F0F), (w0 >> 2) & np.uint32(0x30303030), out=out[:, 1])
    np.bitwise_and(w1, np.uint32(0x3F3F3F3F), out=out[:, 2])
    np.bitwise_or((w2 >> 4) & np.uint32(0x0F0F0F0F), (w1 >> 2) & np.uint32(0x30303030), out=out[:, 3])
    both = out.view(np.uint8)                                            # [n, 16]
    return both[:, :8], both[:, 8:]


def _q4_k(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 144] -> out float32 [n, 256], sub-block by sub-block."""
    n = b.shape[0]
    scales, mins = k_scales(b[:, 4:16])
    q = _work.get("natural", (n, 4, 2, 32), np.uint8)                     # [run, low/high half, 32]
    qs = b[:, 16:].reshape(n, 4, 32)                                      # 4 runs of 32 bytes
    np.bitwise_and(qs, 0x0F, out=q[:, :, 0])
    np.right_shift(qs, 4, out=q[:, :, 1])
    np.copyto(out, q.reshape(n, 256))                                     # 0..15 as float32
    o = out.reshape(n, 8, 32)                                             # [sub-block, 32]
    np.multiply(o, (_half(b[:, 0:2]) * scales)[:, :, None], out=o)        # * (d * scale_s)
    np.subtract(o, (_half(b[:, 2:4]) * mins)[:, :, None], out=o)          # - dmin * min_s


def _q6_values(b: np.ndarray) -> np.ndarray:
    """Q6_K's 6-bit q of blocks b [n, 210] as float32 [n, 256] in the natural order (0..63)."""
    n = b.shape[0]
    q = _work.get("q6", (n, 2, 2, 64), np.uint8)                          # [half, nibble, 64]
    bits = _work.get("bits", (n, 2, 4, 32), np.uint8)                     # [half, bit pair, 32]
    ql, qh = b[:, :128].reshape(n, 2, 64), b[:, 128:192].reshape(n, 2, 32)
    np.bitwise_and(ql, 0x0F, out=q[:, :, 0])                              # low 4 bits, weights 0..63
    np.right_shift(ql, 4, out=q[:, :, 1])                                 # ... weights 64..127
    for pair in range(4):                                                 # bits 0-1, 2-3, 4-5, 6-7
        np.right_shift(qh, 2 * pair, out=bits[:, :, pair])
    np.bitwise_and(bits, 0x03, out=bits)
    np.left_shift(bits, 4, out=bits)
    np.bitwise_or(q, bits.reshape(q.shape), out=q)                        # + high 2 bits: 0..63
    f = _work.get("q6f", (n, 256))
    np.copyto(f, q.reshape(n, 256))
    return f


def _q6_k(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 210] -> out float32 [n, 256]: 6-bit q in 16 sub-blocks of 16 (_q6_values)."""
    n = b.shape[0]
    np.subtract(_q6_values(b), np.float32(32), out=out)                   # q - 32, exact
    o = out.reshape(n, 16, 16)
    np.multiply(o, (_half(b[:, 208:210]) * b[:, 192:208].view(np.int8))[:, :, None], out=o)   # * d * scale_s


_KERNELS = {"Q8_0": _q8_0, "Q4_0": _q4_0, "Q4_K": _q4_k, "Q6_K": _q6_k}


def dequantize(raw: np.ndarray, dtype: str, out: np.ndarray | None = None) -> np.ndarray:
    """Quantized rows uint8 [..., row bytes] -> float32 [..., row length], block by block.

    dequantize(np.array([[0x00, 0x3C] + [0x1F] * 16], np.uint8), "Q4_0")   # d = fp16 1.0
      -> [[7., 7., ..., 7., -7., -7., ..., -7.]]    (16 sevens from the low halves, 16 minus sevens)
    """
    per_block, block_bytes = BLOCKS[dtype]
    shape = raw.shape[:-1] + (row_length(dtype, raw.shape[-1]),)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    blocks = np.ascontiguousarray(raw).reshape(-1, block_bytes)          # [blocks, bytes]
    if blocks.shape[0]:
        with np.errstate(all="ignore"):   # a NaN or inf scale gives NaN or inf, as in llama.cpp;
            _KERNELS[dtype](blocks, out.reshape(-1, per_block))  # the model names where it appears
    return out


# ---- y = x @ W.T, a chunk of rows at a time ----------------------------------------------------

def _chunks_times_x(w: np.ndarray, dtype: str, x: np.ndarray, y: np.ndarray, chunks: Chunks) -> None:
    """y[:, r:r+n] = x @ dequantize(w[r:r+n]).T for each chunk (r, n) this thread takes.

    x float32 [T, I] with T <= FEW_ROWS. A chunk is dequantized into this thread's cache-sized
    buffer and multiplied while it is there by every row of x, with vecdot: no BLAS call, so no
    BLAS threads competing with these (fast/threads.py, ONE_THREAD_PRODUCT); each dot product is
    cut in pieces so the loop is long enough to let go of the GIL (threads.pieces).
    """
    T, I = x.shape
    s = pieces(I, T * chunks.rows)
    x_pieces = x.reshape(T, 1, s, I // s)                                 # [T, 1, s, I/s]
    parts = _work.get("parts", (T, chunks.rows, s))
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        wf = dequantize(w[r:r + n], dtype, out=_work.get("chunk", (n, I)))                 # [n, I]
        vecdot(wf.reshape(1, n, s, I // s), x_pieces, out=parts[:, :n])                   # [T, n, s]
        np.sum(parts[:, :n], axis=-1, out=y[:, r:r + n])                                   # [T, n]


def _dequantize_rows(w: np.ndarray, dtype: str, out: np.ndarray, chunks: Chunks) -> None:
    """out[r:r+n] = dequantize(w[r:r+n]) for each chunk this thread takes."""
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        dequantize(w[r:r + n], dtype, out=out[r:r + n])


def quant_matmul_transposed(x: np.ndarray, w: np.ndarray, dtype: str, threads: int | None = None) -> np.ndarray:
    """y = x @ dequantize(w).T in float32, for x float32 [T, I] and w uint8 [O, row bytes].

    Up to FEW_ROWS rows of x (decoding, a short turn): threads take cache-sized chunks of W's
    rows, dequantize each and multiply it while it is in cache. More rows (a pre-fill): blocks
    of BLOCK_VALUES weights are dequantized by all threads, then multiplied by one sgemm.
    """
    T, I = x.shape
    O = w.shape[0]
    y = np.empty((T, O), dtype=np.float32)
    if T <= FEW_ROWS:
        chunks = Chunks(O, max(1, CHUNK_VALUES // I))
        run_chunks(lambda w_, x_, y_, c: _chunks_times_x(w_, dtype, x_, y_, c), w, x, y, chunks, threads)
        return y
    rows = max(1, min(O, BLOCK_VALUES // I))
    block = np.empty((rows, I), dtype=np.float32)
    for r in range(0, O, rows):
        n = min(rows, O - r)
        chunks = Chunks(n, max(1, CHUNK_VALUES // I))
        run_chunks(lambda w_, x_, y_, c: _dequantize_rows(w_, dtype, y_, c), w[r:r + n], None, block, chunks,
                    threads)
        np.matmul(x, block[:n].T, out=y[:, r:r + n])                               # [T, n]
    return y
