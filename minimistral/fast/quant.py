"""Quantized weights (llama.cpp's GGUF blocks): what the bytes mean, and y = x @ W.T on them.

A quantized row of W is a run of blocks. Each block holds a few scales and one small integer
per weight, and a weight is ``scale * integer`` (or ``scale * integer - min``). The row is
never widened whole: ``quant_matmul_transposed`` turns a cache-sized chunk of rows into float32
(``dequantize``), multiplies it, and moves on, exactly as fast/linear.py widens bf16.

    Q8_0  32 weights in 34 bytes (8.5 bits a weight)
          [d: fp16][q0 .. q31: int8]                      x_j = d * q_j
          d = 0.01 (fp16 0x211F = 0.0099945), q = [-127 .. 127]  ->  x in [-1.27, 1.27]

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

from .linear import ONE_THREAD_PRODUCT, Chunks, _run_chunks

# type name -> (weights per block, bytes per block)
BLOCKS = {"Q8_0": (32, 34), "Q4_0": (32, 18), "Q4_K": (256, 144), "Q6_K": (256, 210)}

CHUNK_VALUES = 1 << 17   # a few rows of x: weights per chunk a thread takes (measured best of 2^15..2^19)
FEW_ROWS = 4             # x with up to this many rows: scales after the sums (below), in threads
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


def _half(two_bytes: np.ndarray) -> np.ndarray:
    """fp16 scales stored as two little-endian bytes [..., 2] -> float32 [..., 1] (exact)."""
    return two_bytes.view("<f2").astype(np.float32)


def _q8_0(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 34] -> out float32 [n, 32]."""
    np.multiply(b[:, 2:].view(np.int8), _half(b[:, :2]), out=out)         # q * d


def _q4_0(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 18] -> out float32 [n, 32]: low halves are weights 0..15, high halves 16..31."""
    d, qs = _half(b[:, :2]), b[:, 2:]
    low, high = out[:, :16], out[:, 16:]
    np.subtract(qs & 0x0F, np.float32(8), out=low)                        # q - 8, exact
    np.multiply(low, d, out=low)
    np.subtract(qs >> 4, np.float32(8), out=high)
    np.multiply(high, d, out=high)


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
    scale = (_half(b[:, 0:2]) * scales).reshape(n, 4, 2, 1)             # d * scale_s   [n, 4, 2, 1]
    low = (_half(b[:, 2:4]) * mins).reshape(n, 4, 2, 1)                   # dmin * min_s  [n, 4, 2, 1]
    qs = b[:, 16:].reshape(n, 4, 32)                                      # 4 runs of 32 bytes
    o = out.reshape(n, 4, 2, 32)                                          # [run, low/high half, 32]
    for half, q in ((0, qs & 0x0F), (1, qs >> 4)):
        np.multiply(q, scale[:, :, half], out=o[:, :, half])
        np.subtract(o[:, :, half], low[:, :, half], out=o[:, :, half])


def _q6_k(b: np.ndarray, out: np.ndarray) -> None:
    """b uint8 [n, 210] -> out float32 [n, 256]: 6-bit q in 16 sub-blocks of 16."""
    n = b.shape[0]
    ql = b[:, :128].reshape(n, 2, 2, 32)                                  # [half, run of 32, l]
    qh = b[:, 128:192].reshape(n, 2, 1, 32)                               # [half, 1, l]
    scale = (_half(b[:, 208:210]) * b[:, 192:208].view(np.int8)).reshape(n, 2, 2, 2, 2, 1)
    o = out.reshape(n, 2, 2, 2, 2, 16)                                    # [half, nibble, run, 2 x 16]
    for nibble, low in ((0, ql & 0x0F), (1, ql >> 4)):
        shift = np.array([0, 2], dtype=np.uint8).reshape(1, 1, 2, 1) + np.uint8(4 * nibble)
        q = low | (((qh >> shift) & 0x03) << 4)                           # 0..63  [n, 2, 2, 32]
        q = q.view(np.int8).reshape(n, 2, 2, 2, 16)
        np.subtract(q, np.int8(32), out=q)                                # -32..31, in int8
        np.multiply(scale[:, :, nibble], q, out=o[:, :, nibble])


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


# ---- y = x @ W.T for a few rows of x: the scales applied after the sums -----------------------
#
# Dequantizing multiplies every weight by its block's scale: a multiplication per weight whose
# scale changes every 16 or 32 weights, which NumPy runs as short loops (measured: 0.3-0.8 ns a
# weight on its own, most of the time of a product). For a few rows of x it is cheaper to
# apply each scale once, to a block's sum, since the scale is constant inside a block:
#
#     y_r = sum_b sum_j d_rb * (q_rbj - 8) * x_bj  =  sum_b d_rb * (sum_j q_rbj * x_bj  -  8 * sum_j x_bj)
#
# The inner sums need the integers q as float32 and x laid out like them: ``prepare`` builds,
# once per call, x in the byte order of the blocks ("x_ext", zero under the scale bytes), so
# each integer field becomes float32 and meets its x in long, contiguous NumPy loops over the
# whole chunk; the sums over each block are one small sgemm with a column of ones. The result
# is float32 arithmetic on exactly the stored weights, summed in another order than
# ``x @ dequantize(W).T`` (as two BLAS builds differ), measured at most a few 1e-7 apart.


class _Workspace(threading.local):
    """Each thread's buffers, kept between calls: a fresh array of a few hundred kB per step would
    be a fresh mapping from the OS, and its page faults cost more than the arithmetic (measured:
    a chunk took 500 us with fresh arrays, 85 us in kept ones)."""

    def __init__(self):
        self.buffers: dict = {}

    def get(self, name: str, shape: tuple, dtype=np.float32) -> np.ndarray:
        size = int(np.prod(shape))
        buf = self.buffers.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = self.buffers[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)


_work = _Workspace()
_ONES = {run: np.ones((run, 2), dtype=np.float32) for run in (16, 18, 32, 34)}


def _field_order(dtype: str) -> list[tuple[int, int, int, np.ndarray]]:
    """For each integer field of a block: (first byte, last byte + 1, shift, weight index [bytes]).

    The field of byte k is (byte >> shift) & 0x0F (Q8_0: the byte as int8); weight index -1 marks
    bytes that hold no weight of this field (scale bytes), which meet x = 0.
    """
    if dtype == "Q8_0":
        return [(0, 34, 0, np.r_[-1, -1, 0:32])]
    if dtype == "Q4_0":
        return [(0, 18, 0, np.r_[-1, -1, 0:16]), (0, 18, 4, np.r_[-1, -1, 16:32])]
    if dtype == "Q4_K":           # byte 16 + 32c + l: weight 64c + l (low half), 64c + 32 + l (high)
        c, l = np.divmod(np.arange(128), 32)
        return [(16, 144, 0, 64 * c + l), (16, 144, 4, 64 * c + 32 + l)]
    raise KeyError(dtype)


def prepare(x: np.ndarray, dtype: str) -> dict:
    """What every chunk needs from x [T, I]: x in each field's byte order, and sums of x over
    each scale's weights."""
    T, I = x.shape
    per_block, _ = BLOCKS[dtype]
    xb = x.reshape(T, I // per_block, per_block)                           # [T, blocks, weights]
    if dtype == "Q6_K":                                                   # natural order (_fields)
        return {"ext": [x], "sums": xb.reshape(T, -1, 16).sum(-1)}        # [T, I/16]
    padded = np.concatenate([xb, np.zeros((T, xb.shape[1], 1), np.float32)], axis=-1)
    ext = [np.ascontiguousarray(padded[:, :, index].reshape(T, -1))       # [T, blocks * field bytes]
           for _, _, _, index in _field_order(dtype)]
    return {"ext": ext, "sums": xb.reshape(T, -1, 32).sum(-1)}            # [T, I/32]


def _run_sums(m: np.ndarray, run: int, name: str) -> np.ndarray:
    """Sums of consecutive runs of `run` values of m (contiguous) -> [m.size / run].

    One sgemm with a [run, 2] matrix of ones (two columns: with one, NumPy calls sgemv, which
    OpenBLAS splits over all cores above 9216 numbers), cut so each stays on this thread.
    """
    rows = m.reshape(-1, run)
    out = _work.get(name, (rows.shape[0], 2))
    step = max(1, ONE_THREAD_PRODUCT // (2 * run))
    for k in range(0, rows.shape[0], step):
        np.matmul(rows[k:k + step], _ONES[run], out=out[k:k + step])
    return out[:, 0]


def _fields(b: np.ndarray, dtype: str) -> list[np.ndarray]:
    """The integer fields of blocks b [m, bytes] as float32 [m, field bytes] (Q6_K: the 6-bit
    q in the natural order, [m, 256]), in this thread's buffers."""
    m = b.shape[0]
    if dtype == "Q8_0":
        f = _work.get("f0", (m, 34))
        np.copyto(f, b.view(np.int8))                                     # int8 -> float32, exact
        return [f]
    if dtype == "Q6_K":
        q = _work.get("q6", (m, 2, 2, 64), np.uint8)                      # [half, nibble, 64]
        bits = _work.get("bits", (m, 2, 4, 32), np.uint8)                 # [half, bit pair, 32]
        ql, qh = b[:, :128].reshape(m, 2, 64), b[:, 128:192].reshape(m, 2, 32)
        np.bitwise_and(ql, 0x0F, out=q[:, :, 0])                          # low 4 bits, weights 0..63
        np.right_shift(ql, 4, out=q[:, :, 1])                             # ... weights 64..127
        for pair in range(4):                                             # bits 0-1, 2-3, 4-5, 6-7
            np.right_shift(qh, 2 * pair, out=bits[:, :, pair])
        np.bitwise_and(bits, 0x03, out=bits)
        np.left_shift(bits, 4, out=bits)
        np.bitwise_or(q, bits.reshape(q.shape), out=q)                    # + high 2 bits: 0..63
        f = _work.get("f0", (m, 256))
        np.copyto(f, q.reshape(m, 256))                                   # 0..63 as float32
        return [f]
    out = []
    u = _work.get("u8", b.shape, np.uint8)
    for i, (first, last, shift, _) in enumerate(_field_order(dtype)):
        np.right_shift(b, shift, out=u)               # whole blocks: long loops (the scale bytes
        np.bitwise_and(u, 0x0F, out=u)                # are computed too, and left out below)
        f = _work.get(f"f{i}", (m, last - first))
        np.copyto(f, u[:, first:last])
        out.append(f)
    return out


def _times_x(b: np.ndarray, dtype: str, prep: dict, y: np.ndarray) -> None:
    """y [T, n] = x @ dequantize(rows).T for the blocks b [n * blocks per row, bytes] of n rows."""
    T, n = y.shape
    fields = _fields(b, dtype)
    if dtype == "Q6_K":
        scale = (_half(b[:, 208:210]) * b[:, 192:208].view(np.int8)).reshape(n, -1)   # d * scale_s
    elif dtype == "Q4_K":
        scales, mins = k_scales(b[:, 4:16])
        scale = (_half(b[:, 0:2]) * scales).reshape(n, -1)                           # d * scale_s
        low = (_half(b[:, 2:4]) * mins).reshape(n, -1)                               # dmin * min_s
        both = _work.get("both", (b.shape[0], 4, 2))                                 # [m, run, half]
    else:
        scale = _half(b[:, :2]).reshape(n, -1)                                       # d
    m = _work.get("m", (n, fields[0].size // n))
    for t in range(T):
        for i, (f, e) in enumerate(zip(fields, prep["ext"])):
            if i == 0 or dtype == "Q4_K":
                np.multiply(f.reshape(n, -1), e[t], out=m)                           # q * x
            else:
                m2 = _work.get("m2", m.shape)
                np.multiply(f.reshape(n, -1), e[t], out=m2)
                np.add(m, m2, out=m)
            if dtype == "Q4_K":                    # each half's runs of 32 have their own scales
                both[:, :, i] = _run_sums(m, 32, "p").reshape(-1, 4)
        if dtype == "Q4_K":                                                          # sum_s scale_s p_s - min_s x_s
            y[t] = np.vecdot(scale, both.reshape(n, -1)) - np.vecdot(low, prep["sums"][t])
        elif dtype == "Q6_K":                                                        # sum_s scale_s (p_s - 32 x_s)
            y[t] = np.vecdot(scale, _run_sums(m, 16, "p").reshape(n, -1) - 32 * prep["sums"][t])
        else:                                                                        # sum_b d_b (p_b - 8 x_b)
            p = _run_sums(m, b.shape[1], "p").reshape(n, -1)
            y[t] = np.vecdot(scale, p - 8 * prep["sums"][t] if dtype == "Q4_0" else p)


def _chunks_times_x(w: np.ndarray, dtype: str, prep: dict, y: np.ndarray, chunks: Chunks) -> None:
    """y[:, r:r+n] = x @ dequantize(w[r:r+n]).T for each chunk (r, n) this thread takes."""
    block_bytes = BLOCKS[dtype][1]
    out = np.empty((y.shape[0], chunks.rows), dtype=np.float32)
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        with np.errstate(all="ignore"):
            _times_x(w[r:r + n].reshape(-1, block_bytes), dtype, prep, out[:, :n])
        y[:, r:r + n] = out[:, :n]


def _dequantize_rows(w: np.ndarray, dtype: str, out: np.ndarray, chunks: Chunks) -> None:
    """out[r:r+n] = dequantize(w[r:r+n]) for each chunk this thread takes."""
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        dequantize(w[r:r + n], dtype, out=out[r:r + n])


def quant_matmul_transposed(x: np.ndarray, w: np.ndarray, dtype: str, threads: int | None = None) -> np.ndarray:
    """y = x @ dequantize(w).T in float32, for x float32 [T, I] and w uint8 [O, row bytes].

    Up to FEW_ROWS rows of x (decoding, a short turn): threads take chunks of W's rows and
    apply the scales after the block sums (above). More rows (a pre-fill): blocks of
    BLOCK_VALUES weights are dequantized by all threads, then multiplied by one sgemm.
    """
    T, I = x.shape
    O = w.shape[0]
    y = np.empty((T, O), dtype=np.float32)
    if T <= FEW_ROWS:
        prep = prepare(x, dtype)
        chunks = Chunks(O, max(1, CHUNK_VALUES // I))
        _run_chunks(lambda w_, p_, y_, c: _chunks_times_x(w_, dtype, p_, y_, c), w, prep, y, chunks, threads)
        return y
    rows = max(1, min(O, BLOCK_VALUES // I))
    block = np.empty((rows, I), dtype=np.float32)
    for r in range(0, O, rows):
        n = min(rows, O - r)
        chunks = Chunks(n, max(1, CHUNK_VALUES // I))
        _run_chunks(lambda w_, x_, y_, c: _dequantize_rows(w_, dtype, y_, c), w[r:r + n], None, block, chunks,
                    threads)
        np.matmul(x, block[:n].T, out=y[:, r:r + n])                               # [T, n]
    return y
