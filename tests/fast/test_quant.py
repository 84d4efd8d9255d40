"""GGUF block dequantization (fast/quant.py) against llama.cpp's own gguf-py, bit for bit, and the
quantized product against float64 on the weights gguf-py dequantizes.

Blocks are random bytes, so every fp16 scale pattern occurs (subnormals, inf, NaN, -0), plus
blocks built to hold the extremes on purpose.
"""

import numpy as np
import pytest

from minimistral.fast import quant

gguf = pytest.importorskip("gguf")

TYPES = ["Q8_0", "Q4_0", "Q4_K", "Q6_K"]
SCALE_BYTES = {"Q8_0": [0], "Q4_0": [0], "Q4_K": [0, 2], "Q6_K": [208]}   # where each fp16 scale sits
EXTREME_HALVES = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                  0x7E00, 0x7C01, 0xFE00, 0x3C00]   # +-0, subnormals, max, inf, NaNs, 1.0


def reference(raw, dtype):
    return gguf.quants.dequantize(raw, gguf.GGMLQuantizationType[dtype])


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype == np.float32 and np.array_equal(a.view(np.uint32), b.view(np.uint32))


@pytest.mark.parametrize("dtype", TYPES)
def test_random_blocks_equal_gguf_bit_for_bit(dtype):
    per_block, block_bytes = quant.BLOCKS[dtype]
    rng = np.random.default_rng(len(dtype) * 7 + block_bytes)
    raw = rng.integers(0, 256, size=(23, 40 * block_bytes), dtype=np.uint8)   # 920 random blocks
    with np.errstate(all="ignore"):
        expected = reference(raw, dtype)
    got = quant.dequantize(raw, dtype)
    assert got.shape == (23, 40 * per_block)
    assert same_bits(got, expected)
    assert not np.isfinite(got).all()                    # NaN or inf scales occurred among them


@pytest.mark.parametrize("dtype", TYPES)
def test_extreme_scales_equal_gguf_bit_for_bit(dtype):
    per_block, block_bytes = quant.BLOCKS[dtype]
    rng = np.random.default_rng(5)
    blocks = []
    for h in EXTREME_HALVES:
        for fill in (0x00, 0xFF, None):          # all-zero, all-ones and random integer fields
            b = rng.integers(0, 256, size=block_bytes, dtype=np.uint8) if fill is None else \
                np.full(block_bytes, fill, dtype=np.uint8)
            for at in SCALE_BYTES[dtype]:
                b[at:at + 2] = [h & 0xFF, h >> 8]
            blocks.append(b)
    raw = np.stack(blocks)                                                  # one block per row
    with np.errstate(all="ignore"):
        expected = reference(raw, dtype)
    assert same_bits(quant.dequantize(raw, dtype), expected)


def test_worked_examples_of_the_docstring():
    q4 = np.array([[0x00, 0x3C] + [0x1F] * 16], np.uint8)            # d = 1.0, byte 0x1F
    assert quant.dequantize(q4, "Q4_0").tolist() == [[7.0] * 16 + [-7.0] * 16]
    q8 = np.array([[0x00, 0x3C] + list(range(1, 33))], np.uint8).copy()
    q8[0, 2] = 0x81                                                     # int8 -127
    assert quant.dequantize(q8, "Q8_0")[0, :3].tolist() == [-127.0, 2.0, 3.0]
    assert quant.row_length("Q4_K", 2304) == 4096 and quant.row_bytes("Q8_0", 4096) == 4352


def test_k_scale_unpacking_against_gguf():
    s = np.random.default_rng(1).integers(0, 256, size=(50, 12), dtype=np.uint8)
    scales, mins = quant.k_scales(s)
    ref_scales, ref_mins = gguf.quants.Q4_K.get_scale_min(s)
    assert np.array_equal(scales, ref_scales) and np.array_equal(mins, ref_mins)


def finite_blocks(rng, dtype, rows, cols):
    """Random quantized rows whose scales are ordinary fp16 numbers (no inf/NaN)."""
    per_block, block_bytes = quant.BLOCKS[dtype]
    raw = rng.integers(0, 256, size=(rows, cols // per_block * block_bytes), dtype=np.uint8)
    blocks = raw.reshape(-1, block_bytes)
    for at in SCALE_BYTES[dtype]:
        d = (rng.uniform(0.5, 2.0, size=blocks.shape[0]) * 2.0 ** rng.integers(-9, -3, size=blocks.shape[0]))
        blocks[:, at:at + 2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    return raw


@pytest.mark.parametrize("dtype", TYPES)
@pytest.mark.parametrize("rows", [1, 2, 4, 5, 40])
@pytest.mark.parametrize("threads", [1, 2])
def test_product_matches_float64_on_gguf_weights(monkeypatch, dtype, rows, threads):
    # Tiny chunks and blocks, so every product splits into several, with a remainder.
    monkeypatch.setattr(quant, "CHUNK_VALUES", 3 * 512)
    monkeypatch.setattr(quant, "BLOCK_VALUES", 5 * 512)
    rng = np.random.default_rng(rows * 10 + threads)
    raw = finite_blocks(rng, dtype, 17, 512)
    weights = reference(raw, dtype).astype(np.float64)                          # [17, 512]
    x = rng.standard_normal((rows, 512)).astype(np.float32)
    y = quant.quant_matmul_transposed(x, raw, dtype, threads=threads)
    exact = x.astype(np.float64) @ weights.T
    bound = (np.abs(x.astype(np.float64)) @ np.abs(weights).T) * 512 * 2.0 ** -23   # float32 sums
    assert y.dtype == np.float32 and y.shape == (rows, 17)
    assert (np.abs(y - exact) <= bound).all()


@pytest.mark.parametrize("dtype", TYPES)
def test_linear_dispatch_and_embedding_rows(dtype):
    """Weights.linear and Weights.embed on a quantized StoredTensor: the product and the rows."""
    from pathlib import Path

    from minimistral.checkpoints.weights import StoredTensor, Weights

    rng = np.random.default_rng(3)
    raw = finite_blocks(rng, dtype, 9, 256)
    w = Weights({"m": StoredTensor("m", dtype, (9, 256), raw, Path("<memory>"))})
    full = reference(raw, dtype)
    assert same_bits(w.embed("m", np.array([4, 0, 4])), full[[4, 0, 4]])
    x = rng.standard_normal((3, 256)).astype(np.float32)
    assert np.allclose(w.linear("m", x), x.astype(np.float64) @ full.T.astype(np.float64), rtol=1e-5, atol=1e-5)
