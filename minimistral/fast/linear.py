"""The fast path: y = x @ W.T for W stored as bf16 bits, exactly, on every core, in pure NumPy.

Decoding one token reads every weight once: for the 7B that is 7.2 G bf16 numbers per token,
and the work per number (widen to float32, multiply, add) is what sets the speed. Two ideas:

1. Widen pairs, not numbers. Two neighbouring bf16 numbers a (even column) and b (odd column)
   are one little-endian uint32 u = b << 16 | a. Two uint32 operations give both as float32
   bits, exactly, with no uint16 -> uint32 conversion:

       a = u << 16              the low half moved up:   0x3F80_4000 -> 0x4000_0000 = 2.0
       b = u & 0xFFFF0000       the high half kept:      0x3F80_4000 -> 0x3F80_0000 = 1.0

   The even columns of W come out of one operation, the odd columns out of the other, each
   into its own contiguous array, and the product is the sum of two halves:

       W row [w0 w1 w2 w3] . x [x0 x1 x2 x3]  =  [w0 w2] . [x0 x2]  +  [w1 w3] . [x1 x3]

   (``x`` is split the same way once per call, ``split_pairs``.)

2. Stay in cache, use both cores. For a few rows of x (decoding, a short chunk, a verification
   of draft tokens) the rows of W are cut into chunks that the threads take in turn; each
   widens a chunk into its own cache-sized scratch and multiplies it by every row of x at once,
   while the chunk is still in cache. So T rows share one widening, and T tokens cost little
   more than one. Two rules decide how that multiply is written:

   - A thread needs the GIL between NumPy calls. NumPy's BLAS calls and ufunc loops let go of
     it while they run, but each return queues for it again, so short calls leave the two
     threads waiting for each other. Measured (benchmarks/bench_gil.py, four runs): two threads
     making 1-4 microsecond calls ran 1.0x as fast as one, 5 microsecond np.dot calls 1.2-1.9x
     (it varies from run to run), 150-200 microsecond np.matmul calls 1.4-2.0x, mostly 1.9-2.0x.
   - OpenBLAS runs a product on the calling thread alone only when m * n * k <= 2^18
     (ONE_THREAD_PRODUCT); a bigger one wakes its own threads, which then spin on the cores
     the widening threads need.

   So one row of x (decoding) uses vecdot on the whole chunk, cut into pieces so that its
   loop has more than 500 items, the size at which a ufunc lets go of the GIL (``pieces``).
   From 2 to FEW_ROWS rows, one ``np.matmul`` per chunk multiplies a stack of small blocks, each
   nb weight rows by kp columns against the same columns of x (``block_shape``: [16, 512] @
   [512, T] up to T = 32), within the one-thread size. The stack is a view of the widened
   chunk (no copy), its loop runs in C, and the partial sums over the column blocks are added
   at the end. For more rows (a long pre-fill) the work is large sgemm: one thread widens big
   blocks, OpenBLAS multiplies on all cores.

   Why it matters: sent the big-sgemm way, a product with 3 rows widens 16 MiB blocks on one
   thread (out of cache) and hands each to a threaded sgemm that has almost nothing to do per
   thread and whose threads spin between blocks: a 14336 x 4096 product took 0.9 s at T = 3
   that way, against 33 ms at T = 1 (benchmarks/RESULTS.md).

The result is float32 arithmetic on exactly the stored weights: only the order of the additions
differs from a plain ``x @ widen(W).T``, as it does between any two BLAS builds.

One idea, longer than the others: the bf16 product and the scheduling it needs to be fast.
"""

from __future__ import annotations

import threading

import numpy as np

from .threads import ONE_THREAD_PRODUCT, Chunks, pieces, run_chunks, vecdot

HIGH_HALF = np.uint32(0xFFFF0000)
SIXTEEN = np.uint32(16)

DECODE_MAX_ROWS = 1          # x with one row (decoding) takes vecdot on cache-sized chunks
CHUNK_FLOATS = 1 << 20       # decode, per thread: 4 MiB of widened weights per chunk (measured best)
BLOCK_FLOATS = 1 << 22       # pre-fill: 16 MiB blocks, big enough for sgemm to run at full speed
FEW_ROWS = 128               # x with up to this many rows: stacks of small one-thread sgemms
FEW_CHUNK_FLOATS = 1 << 19   # ... per thread: 2 MiB of widened weights per chunk (measured best of 1, 2, 4)
ITEM_ROWS = 16               # ... chunks are whole groups of this many weight rows, and
BLOCKS = ((16, 512), (16, 256), (8, 256), (4, 256), (2, 256), (1, 256))   # (rows, columns) of
                             #     each small product, the first that stays on one BLAS thread
                             #     (block_shape; measured on OpenBLAS's SkylakeX and Haswell kernels)


def split_pairs(x: np.ndarray) -> np.ndarray:
    """[..., I] -> [2, ..., I/2]: the even columns, then the odd ones.

    split_pairs([x0 x1 x2 x3 x4 x5]) -> [[x0 x2 x4], [x1 x3 x5]]
    """
    return np.stack([x[..., 0::2], x[..., 1::2]])


def widen_pairs(pairs: np.ndarray, out: np.ndarray) -> np.ndarray:
    """uint32 pairs of bf16 [R, I/2] -> float32 [2, R, I/2]: the even columns, then the odd.

    widen_pairs([[0x3F80_4000]]) -> [[[2.0]], [[1.0]]]   (2.0 = bf16 0x4000, 1.0 = bf16 0x3F80)
    ``out`` is uint32 or float32 scratch of shape [2, R, I/2]; it is returned as float32.
    """
    bits = out.view(np.uint32)
    np.left_shift(pairs, SIXTEEN, out=bits[0])               # even columns: low halves moved up
    np.bitwise_and(pairs, HIGH_HALF, out=bits[1])            # odd columns: high halves kept
    return bits.view(np.float32)


_scratch = threading.local()
def scratch(n: int) -> np.ndarray:
    """This thread's reusable uint32 buffer of at least n elements (allocated once, then kept)."""
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.size < n:
        buf = _scratch.buf = np.empty(n, dtype=np.uint32)
    return buf


def _rows_times_x(pairs: np.ndarray, xs: np.ndarray, y: np.ndarray, chunks: Chunks) -> None:
    """y[:, r:r+n] = x @ widen(pairs[r:r+n]).T for each chunk (r, n) this thread takes.

    pairs uint32 [O, I/2], xs float32 [2, T, I/2] (split_pairs), y float32 [T, O].
    This loop is the hot spot of decoding, so its views are made once, not per chunk.
    """
    half, T, rows = pairs.shape[1], xs.shape[1], chunks.rows
    s = pieces(half, 2 * T * rows)                        # each dot product in s pieces of I/2s
    x5 = xs.reshape(2, T, 1, s, half // s)                                      # [2, T, 1, s, I/2s]
    bits = scratch(2 * rows * half)[:2 * rows * half].reshape(2, rows, half)   # [2, rows, I/2]
    parts = np.empty((2, T, rows, s), dtype=np.float32)                        # [2, T, rows, s]
    for_dot = bits.view(np.float32).reshape(2, 1, rows, s, half // s)          # [2, 1, rows, s, I/2s]
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        if n < rows:                                            # the last, shorter chunk
            bits, for_dot, parts = bits[:, :n], for_dot[:, :, :n], parts[:, :, :n]
        widen_pairs(pairs[r:r + n], bits)                       # [2, n, I/2]
        vecdot(for_dot, x5, out=parts)                         # [2, T, n, s] partial sums
        np.sum(parts, axis=(0, 3), out=y[:, r:r + n])           # even + odd, all pieces: [T, n]


def largest_divisor(n: int, most: int) -> int:
    """The largest divisor of n that is at most `most`.  largest_divisor(7168, 512) -> 512;
    largest_divisor(300, 256) -> 150."""
    return next(k for k in range(max(1, min(n, most)), 0, -1) if n % k == 0)


def block_shape(half: int, T: int) -> tuple[int, int]:
    """(weight rows, columns) of each small product of the stack: the first of BLOCKS whose
    product with T rows of x stays on one BLAS thread (rows x columns x T <= ONE_THREAD_PRODUCT),
    the columns cut to a divisor of I/2.

    block_shape(2048, 13) -> (16, 512);  block_shape(2048, 64) -> (16, 256);
    block_shape(2048, 128) -> (8, 256);  block_shape(64, 13) -> (16, 64).
    """
    for rows, cols in BLOCKS:
        kp = largest_divisor(half, cols)
        if rows * kp * T <= ONE_THREAD_PRODUCT:
            return rows, kp
    return 1, largest_divisor(half, ONE_THREAD_PRODUCT // T)


def few_chunk_rows(in_features: int) -> int:
    """Weight rows per chunk of the stacked path: FEW_CHUNK_FLOATS of widened weights, in whole
    groups of ITEM_ROWS rows (a ragged group would go row by row).
    few_chunk_rows(4096) -> 128;  few_chunk_rows(14336) -> 32 (not 36);  few_chunk_rows(2**20) -> 1."""
    rows = max(1, FEW_CHUNK_FLOATS // in_features)
    return rows - rows % ITEM_ROWS if rows >= ITEM_ROWS else rows


def _rows_times_x_stacked(pairs: np.ndarray, xs: np.ndarray, y: np.ndarray, chunks: Chunks) -> None:
    """Like _rows_times_x, for 2..FEW_ROWS rows of x: one stack of small sgemms per chunk.

    pairs uint32 [O, I/2], xs float32 [2, T, I/2] (split_pairs), y float32 [T, O]. A chunk of
    n weight rows is widened into [2, n, I/2] and seen, without copying, as a stack of blocks
    [2, P, G, nb, kp]: even/odd columns, P column blocks of kp columns, G groups of nb rows
    ((nb, kp) = block_shape(I/2, T)). x is seen the same way as [2, P, 1, kp, T]. One np.matmul
    gives the partial products [2, P, G, nb, T]; their sum over the even/odd halves and the P
    column blocks is the chunk's y, [n, T], written into y[:, r:r+n].
    """
    _, T, half = xs.shape
    rows, (nb, kp) = chunks.rows, block_shape(half, T)
    P = half // kp
    bits = scratch(2 * rows * half)[:2 * rows * half].reshape(2, rows, half)       # [2, rows, I/2]
    w = bits.view(np.float32)
    x_blocks = xs.reshape(2, 1, T, P, kp).transpose(0, 3, 1, 4, 2)                 # [2, P, 1, kp, T]
    parts = np.empty(2 * P * rows * T, dtype=np.float32)
    acc = np.empty((rows, T), dtype=np.float32)

    def plan(n):
        """The views for a chunk of n rows (made once for the full chunks, again for the last)."""
        m = nb if n % nb == 0 else 1                               # a ragged last chunk: rows one by one
        G = n // m
        return (w[:, :n].reshape(2, G, m, P, kp).transpose(0, 3, 1, 2, 4),       # [2, P, G, m, kp]
                parts[:2 * P * n * T].reshape(2, P, G, m, T), acc[:n].reshape(G, m, T))

    full = plan(rows)
    while (chunk := chunks.take()) is not None:
        r, n = chunk
        w_blocks, p, a = full if n == rows else plan(n)
        widen_pairs(pairs[r:r + n], bits[:, :n])                                    # [2, n, I/2]
        np.matmul(w_blocks, x_blocks, out=p)                                        # [2, P, G, nb, T]
        np.sum(p, axis=(0, 1), out=a)                                               # [G, nb, T]
        y[:, r:r + n] = acc[:n].T                                                   # [T, n]


def bf16_matmul_transposed(x: np.ndarray, w: np.ndarray, threads: int | None = None) -> np.ndarray:
    """y = x @ widen(w).T in float32, for x float32 [T, I] and w raw bf16 bits uint16 [O, I].

    I must be even and w's rows contiguous (true of every Mistral matrix); the caller checks.
    """
    T, (out_features, in_features) = x.shape[0], w.shape
    pairs = w.view(np.uint32)                                                 # [O, I/2]
    xs = split_pairs(x)                                                       # [2, T, I/2]
    y = np.empty((T, out_features), dtype=np.float32)
    if T <= DECODE_MAX_ROWS:
        chunks = Chunks(out_features, max(1, CHUNK_FLOATS // in_features))
        run_chunks(_rows_times_x, pairs, xs, y, chunks, threads)
        return y
    if T <= FEW_ROWS:
        chunks = Chunks(out_features, few_chunk_rows(in_features))
        run_chunks(_rows_times_x_stacked, pairs, xs, y, chunks, threads)
        return y
    half = in_features // 2
    rows = max(1, min(out_features, BLOCK_FLOATS // in_features))
    bits = scratch(2 * rows * half)[:2 * rows * half].reshape(2, rows, half)
    for r in range(0, out_features, rows):
        n = min(rows, out_features - r)
        block = widen_pairs(pairs[r:r + n], bits[:, :n])                      # [2, n, I/2]
        parts = np.matmul(xs, block.transpose(0, 2, 1))                       # [2, T, n]
        np.add(parts[0], parts[1], out=y[:, r:r + n])                         # [T, n]
    return y


# ---- bf16 as raw bits, and x @ W.T for any storage dtype ---------------------------------------

def bf16_to_float32(raw: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Widen raw bf16 bits (uint16) to float32 exactly: the 16 bits become the top half."""
    if out is None:
        out = np.empty(raw.shape, dtype=np.float32)
    np.left_shift(raw, 16, out=out.view(np.uint32), dtype=np.uint32)
    return out


def float32_to_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 to bf16 bits (round to nearest even), as torch does, for writing weights."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + np.uint32(0x7FFF)
    return ((bits + rounding) >> 16).astype(np.uint16)


QUANTIZED = ("Q8_0", "Q4_0", "Q4_K", "Q6_K")   # llama.cpp block types, fast/quant.py
BLOCK_ROWS = 512   # other dtypes: rows of W widened at once, 512 x 4096 x 4 B = 8 MiB of scratch


def matmul_transposed(x: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
    """y = x @ w.T in float32, for w [out, in] stored as F32, F16, raw BF16 bits or GGUF blocks.

    bf16 matrices with an even number of columns (every Mistral matrix) go through
    bf16_matmul_transposed above: widened in pairs, cache-sized chunks, all cores.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    if dtype == "F32":
        return x @ w.T
    if dtype in QUANTIZED:               # GGUF blocks (fast/quant.py): w is uint8 [out, row bytes]
        from .quant import quant_matmul_transposed

        y = quant_matmul_transposed(x.reshape(-1, x.shape[-1]), w, dtype)            # [T, out]
        return y.reshape(x.shape[:-1] + (w.shape[0],))
    out_features, in_features = w.shape
    if dtype == "BF16" and in_features % 2 == 0 and w.strides == (2 * in_features, 2) and x.size:
        y = bf16_matmul_transposed(x.reshape(-1, in_features), w)          # [T, in] -> [T, out]
        return y.reshape(x.shape[:-1] + (out_features,))
    y = np.empty(x.shape[:-1] + (out_features,), dtype=np.float32)
    buf = np.empty((min(BLOCK_ROWS, out_features), in_features), dtype=np.float32)
    for r in range(0, out_features, BLOCK_ROWS):
        block = w[r:r + BLOCK_ROWS]
        s = buf[:block.shape[0]]
        if dtype == "BF16":
            bf16_to_float32(block, out=s)
        else:
            s[...] = block
        np.matmul(x, s.T, out=y[..., r:r + block.shape[0]])
    return y
