"""The bf16 fast path (fastpath.py) against an independent float64 reference.

Weights are built as small integers times powers of two, so each is exactly a bf16 number; its
bits come from struct (IEEE float32, top 16 bits), and the reference product is float64 NumPy.
"""

import struct

import numpy as np
import pytest

from minimistral.fast import linear as fastpath
from minimistral.fast.linear import matmul_transposed


def exact_bf16(rng, shape):
    """(raw uint16 bits, float64 values) of random numbers that bf16 holds exactly."""
    values = rng.integers(-127, 128, size=shape) * 2.0 ** rng.integers(-12, 4, size=shape)
    bits = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in values.ravel()]
    return np.array(bits, dtype=np.uint16).reshape(shape), values


def reference(x, values):
    return x.astype(np.float64) @ values.T


def check(y, x, values):
    # float32 accumulation: error bounded by ~n * eps * sum |x_i w_i|
    bound = (np.abs(x.astype(np.float64)) @ np.abs(values).T) * x.shape[-1] * 2.0 ** -23
    assert y.dtype == np.float32 and y.shape == x.shape[:-1] + (values.shape[0],)
    assert (np.abs(y - reference(x, values)) <= bound + 1e-30).all()


def test_widen_pairs_worked_example():
    pairs = np.array([[0x3F804000, 0xC0490000]], dtype=np.uint32)   # bf16 pairs (2.0, 1.0), (0, -3.140625)
    out = fastpath.widen_pairs(pairs, np.empty((2, 1, 2), np.uint32))
    assert out.dtype == np.float32 and out.tolist() == [[[2.0, 0.0]], [[1.0, -3.140625]]]
    assert fastpath.split_pairs(np.arange(6)).tolist() == [[0, 2, 4], [1, 3, 5]]


def test_widen_pairs_is_exact_for_every_bit_pattern():
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 2**16, size=(5, 2 * 999), dtype=np.uint16)   # incl. inf, NaN, subnormals
    expected = [[struct.unpack("<I", struct.pack("<I", int(b) << 16))[0] for b in row] for row in raw]
    expected = np.array(expected, dtype=np.uint32)                       # float32 bits, natural order
    got = fastpath.widen_pairs(raw.view(np.uint32), np.empty((2, 5, 999), np.float32)).view(np.uint32)
    assert (got == fastpath.split_pairs(expected)).all()


@pytest.mark.parametrize("out_f, in_f", [(1, 2), (7, 6), (33, 130), (130, 64), (5, 1026)])
@pytest.mark.parametrize("rows", [1, 2, 3, 17])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_bf16_product_matches_float64(monkeypatch, out_f, in_f, rows, threads):
    # Tiny chunks and blocks, so every shape splits into several, with a remainder.
    monkeypatch.setattr(fastpath, "CHUNK_FLOATS", 3 * in_f)
    monkeypatch.setattr(fastpath, "BLOCK_FLOATS", 5 * in_f)
    rng = np.random.default_rng(out_f * 1000 + in_f + rows)
    raw, values = exact_bf16(rng, (out_f, in_f))
    x = rng.standard_normal((rows, in_f)).astype(np.float32)
    check(fastpath.bf16_matmul_transposed(x, raw, threads=threads), x, values)


@pytest.mark.parametrize("in_f", [5, 8])
def test_matmul_transposed_any_layout(in_f):
    """Odd widths, misaligned and strided views, 1-D and 3-D x all give the same product."""
    rng = np.random.default_rng(in_f)
    raw, values = exact_bf16(rng, (9, in_f))
    shifted = np.frombuffer(b"\0\0" + raw.tobytes(), dtype=np.uint16, offset=2).reshape(9, in_f)
    assert shifted.ctypes.data % 4 == 2                                    # not 4-byte aligned
    strided = np.repeat(raw, 2, axis=1)[:, ::2]                            # columns 4 bytes apart
    for w in (raw, shifted, strided):
        for x in (rng.standard_normal(in_f), rng.standard_normal((2, 3, in_f))):
            x = x.astype(np.float32)
            check(matmul_transposed(x, w, "BF16"), x, values)


def test_pieces_reach_500_outer_iterations():
    assert fastpath.pieces(2048, 128) == 4 and fastpath.pieces(7168, 36) == 16
    assert fastpath.pieces(513, 2) == 1 and fastpath.pieces(2048, 1000) == 1


def test_no_rows():
    raw, values = exact_bf16(np.random.default_rng(0), (4, 6))
    assert matmul_transposed(np.zeros((0, 6), np.float32), raw, "BF16").shape == (0, 4)


def test_threads_share_no_scratch():
    """Two callers at once (e.g. two models in two threads) still get their own results."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(7)
    cases = [exact_bf16(rng, (257, 64)) for _ in range(2)]
    xs = [rng.standard_normal((1, 64)).astype(np.float32) for _ in range(2)]
    with ThreadPoolExecutor(2) as ex:
        futures = [[ex.submit(fastpath.bf16_matmul_transposed, x, raw) for _ in range(20)]
                   for x, (raw, _) in zip(xs, cases)]
    for x, (_, values), fs in zip(xs, cases, futures):
        for f in fs:
            check(f.result(), x, values)


def exact_bf16_fast(rng, shape):
    """Like exact_bf16, for big matrices: each value is exactly a float32 whose low 16 bits are 0,
    so its bf16 bits are the top half of NumPy's float32 bits (no rounding involved)."""
    values = rng.integers(-127, 128, size=shape) * 2.0 ** rng.integers(-12, 4, size=shape)
    bits = (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return bits, values


@pytest.mark.parametrize("T", range(1, 21))
def test_small_T_products_match_float64_at_the_7b_widths(T):
    """T = 1..20 rows of x against float64, at the 7B's two row lengths (4096 and 14336).

    From T = 2 on, each row is cut into column blocks of 512 (14 of them per 7168-column half)
    whose partial sums must add up; 300 rows cut in chunks of 128 or 32 leave a shorter last
    chunk, and 300 - 2 x 128 = 44 rows (and 70 - 2 x 32 = 6) do not fill groups of 16."""
    rng = np.random.default_rng(100 + T)
    for out_f, in_f in [(300, 4096), (70, 14336)]:
        raw, values = exact_bf16_fast(rng, (out_f, in_f))
        x = rng.standard_normal((T, in_f)).astype(np.float32)
        check(fastpath.bf16_matmul_transposed(x, raw), x, values)


@pytest.mark.parametrize("T", [2, 3, 5, 9, 20, 128])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_stacked_path_with_tiny_blocks(monkeypatch, T, threads):
    """Tiny blocks and chunks force every split: column blocks, row groups, a ragged last chunk."""
    monkeypatch.setattr(fastpath, "BLOCKS", ((4, 13), (2, 5)))
    monkeypatch.setattr(fastpath, "FEW_CHUNK_FLOATS", 20 * 130)
    rng = np.random.default_rng(T * 10 + threads)
    monkeypatch.setattr(fastpath, "ONE_THREAD_PRODUCT", 4 * 13 * 127)
    raw, values = exact_bf16_fast(rng, (41, 130))                 # chunks of 16, 16 and 9 rows
    assert fastpath.block_shape(65, T) == ((4, 13) if T < 128 else (2, 5))
    x = rng.standard_normal((T, 130)).astype(np.float32)
    check(fastpath.bf16_matmul_transposed(x, raw, threads=threads), x, values)


def test_block_shapes():
    assert [fastpath.largest_divisor(n, 256) for n in (2048, 7168, 64, 300, 7)] == [256, 256, 64, 150, 7]
    assert fastpath.block_shape(2048, 13) == (16, 512) and fastpath.block_shape(7168, 32) == (16, 512)
    assert fastpath.block_shape(2048, 64) == (16, 256) and fastpath.block_shape(2048, 128) == (8, 256)


@pytest.mark.parametrize("out_f, in_f", [(14336, 4096), (4096, 14336), (1024, 4096), (32000, 4096)])
def test_the_7b_blocks_stay_on_one_blas_thread(out_f, in_f):
    """The design rules, at the 7B's shapes: a full chunk is whole groups of ITEM_ROWS rows, and
    every block of the stack, for every T of the stacked path, stays within OpenBLAS's one-thread
    size, so no BLAS thread spins against the widening threads."""
    half = in_f // 2
    rows = fastpath.few_chunk_rows(in_f)
    assert rows % fastpath.ITEM_ROWS == 0 and 0 < 2 * rows * half <= fastpath.FEW_CHUNK_FLOATS
    assert 2 * (rows + fastpath.ITEM_ROWS) * half > fastpath.FEW_CHUNK_FLOATS      # no room for more
    for T in range(2, fastpath.FEW_ROWS + 1):
        nb, kp = fastpath.block_shape(half, T)
        assert fastpath.ITEM_ROWS % nb == 0 and half % kp == 0 and kp >= 256
        assert nb * kp * T <= fastpath.ONE_THREAD_PRODUCT
