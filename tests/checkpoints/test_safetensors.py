"""bf16 widening and the safetensors reader against independent references."""

import json
import struct

import numpy as np
import pytest

from minimistral import MinimistralError
from minimistral.checkpoints.safetensors import read_safetensors
from minimistral.fast.linear import bf16_to_float32, float32_to_bf16, matmul_transposed


def test_bf16_widening_is_exact():
    # struct gives the IEEE float32 whose top 16 bits are the bf16 pattern: an outside definition.
    patterns = np.array([0x0000, 0x3F80, 0xBF80, 0x4049, 0x7F80, 0xFF80, 0x0001, 0x7F7F], dtype=np.uint16)
    expected = [struct.unpack("<f", struct.pack("<I", int(p) << 16))[0] for p in patterns]
    assert bf16_to_float32(patterns).tolist() == expected


def test_bf16_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 100
    ref = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    assert (float32_to_bf16(x) == ref).all()


def test_reads_the_safetensors_library_files(tmp_path):
    from safetensors.numpy import save_file
    rng = np.random.default_rng(1)
    arrays = {"a": rng.standard_normal((3, 5)).astype(np.float32),
              "b": rng.standard_normal(7).astype(np.float16), "empty": np.zeros((0, 4), np.float32)}
    save_file(arrays, str(tmp_path / "x.safetensors"))
    got = read_safetensors(tmp_path / "x.safetensors")
    for name, x in arrays.items():
        assert got[name].shape == x.shape and (got[name].float32() == x.astype(np.float32)).all()


@pytest.mark.parametrize("dtype", ["BF16", "F16", "F32"])
def test_blocked_matmul_equals_widened_matmul(dtype):
    rng = np.random.default_rng(2)
    w32 = rng.standard_normal((1100, 48)).astype(np.float32)   # more rows than one block
    raw = {"BF16": float32_to_bf16(w32), "F16": w32.astype(np.float16), "F32": w32}[dtype]
    dense = bf16_to_float32(raw) if dtype == "BF16" else raw.astype(np.float32)
    x = rng.standard_normal((3, 48)).astype(np.float32)
    np.testing.assert_allclose(matmul_transposed(x, raw, dtype), x.astype(np.float64) @ dense.T.astype(np.float64),
                               rtol=1e-4, atol=1e-4)


def write_raw(path, header, data=b""):
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + data)


@pytest.mark.parametrize("header, data, word", [
    ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "truncated"),
    ({"x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "needs 12 bytes"),
    ({"x": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "I64"),
    ({"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, "overlap"),
])
def test_corrupt_headers_raise_user_error(tmp_path, header, data, word):
    write_raw(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(MinimistralError, match=word):
        read_safetensors(tmp_path / "bad.safetensors")


def test_header_length_past_end_and_not_json(tmp_path):
    p = tmp_path / "bad.safetensors"
    p.write_bytes((10**6).to_bytes(8, "little") + b"{}")
    with pytest.raises(MinimistralError, match="runs past the end"):
        read_safetensors(p)
    p.write_bytes((4).to_bytes(8, "little") + b"\xff{]x")
    with pytest.raises(MinimistralError, match="not valid JSON"):
        read_safetensors(p)
