"""Property test: a mutated safetensors file loads exactly what its bytes say, or raises our error.

Mutations: header bytes flipped, inserted or deleted, the 8-byte length changed, offsets edited,
an entry's dtype, shape or name replaced by a hostile one (a list for a dtype, [0, 2**70],
a NUL in a name, a number of 5000 digits), the file truncated or extended. For every one the
loader must either
  * raise MinimistralError (one sentence for the user), or
  * return tensors whose bytes are exactly the ranges the header names, inside the file,
    and, where the `safetensors` library (the outside reference) also loads the file, the same
    names and values it returns;
it never raises anything else, never reads outside the file, and never hangs (deadline).
"""

import json

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from minimistral import MinimistralError  # noqa: E402
from minimistral.checkpoints.safetensors import read_safetensors, write_safetensors  # noqa: E402
from minimistral.fast.linear import float32_to_bf16  # noqa: E402

RNG = np.random.default_rng(0)
ORIGINAL = {"tok_embeddings.weight": RNG.standard_normal((6, 4)).astype(np.float32),
            "norm.weight": RNG.standard_normal(4).astype(np.float32),
            "layers.0.attention.wq.weight": RNG.standard_normal((4, 4)).astype(np.float32)}
NP_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


def valid_file(tmp_path_factory, dtype):
    path = tmp_path_factory.mktemp("st") / f"valid_{dtype}.safetensors"
    write_safetensors(path, ORIGINAL, dtype=dtype, metadata={"format": "pt"})
    return path.read_bytes()


@pytest.fixture(scope="module", params=["F32", "BF16", "F16"])
def original(request, tmp_path_factory):
    return request.param, valid_file(tmp_path_factory, request.param)


HOSTILE = {
    "dtype": st.sampled_from([["F32"], {"F32": 1}, None, 5, "F64", "bf16", "", "F32\u0000"]),
    "shape": st.one_of(st.sampled_from([[0, 2**70], [2**32, 2**32, 0], [0, 2**62, 8], [0] * 9, [2**64], [-1],
                                        [1.5], "[4]", [True], [], [0]]),
                       st.lists(st.integers(0, 2**66), max_size=3)),
    "name": st.sampled_from(["a\u0000b", "x\ud800", "", "n" * 2000, "layers.\u00b2.x", "__metadata__"]),
}
HUGE = "9" * 5000


def mutate(data: bytes, draw) -> bytes:
    n = int.from_bytes(data[:8], "little")
    kind = draw(st.sampled_from(["flip", "insert", "delete", "length", "offsets", "entry", "digits",
                                 "truncate", "extend", "none"]))
    b = bytearray(data)
    if kind == "flip":                       # any byte of the length or header
        i = draw(st.integers(0, 8 + n - 1))
        b[i] = draw(st.integers(0, 255))
    elif kind == "insert":
        i = draw(st.integers(8, 8 + n))
        b[i:i] = draw(st.binary(min_size=1, max_size=4))
    elif kind == "delete":
        i = draw(st.integers(8, 8 + n - 1))
        del b[i:i + draw(st.integers(1, 4))]
    elif kind == "length":
        b[:8] = draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(max(0, n - 16), n + 16))).to_bytes(8, "little")
    elif kind == "offsets":                  # rewrite one tensor's data_offsets in the JSON
        header = json.loads(bytes(b[8:8 + n]))
        name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        header[name]["data_offsets"] = [draw(st.integers(-8, 300)), draw(st.integers(-8, 300))]
        head = json.dumps(header).encode()
        b = bytearray(len(head).to_bytes(8, "little") + head + bytes(b[8 + n:]))
    elif kind in ("entry", "digits"):        # one entry's dtype, shape or name made hostile
        header = json.loads(bytes(b[8:8 + n]))
        name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        field = draw(st.sampled_from(["dtype", "shape", "name"]))
        if kind == "digits":                 # a number no int() may read: spliced in as text
            header[name]["shape" if field == "name" else field] = "@HUGE@"
        elif field == "name":
            header[draw(HOSTILE["name"])] = header.pop(name)
        else:
            header[name][field] = draw(HOSTILE[field])
        head = json.dumps(header).replace('"@HUGE@"', HUGE).encode()
        b = bytearray(len(head).to_bytes(8, "little") + head + bytes(b[8 + n:]))
    elif kind == "truncate":
        del b[draw(st.integers(0, len(b) - 1)):]
    elif kind == "extend":
        b += draw(st.binary(min_size=1, max_size=64))
    return bytes(b)


def expected_from_bytes(data: bytes):
    """What the (mutated) header says, parsed here with plain json and slicing: an independent reading."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        assert 0 <= b <= e <= len(data) - 8 - n, "loader accepted a range outside the file"
        raw = np.frombuffer(data[8 + n + b:8 + n + e], dtype=NP_DTYPES[info["dtype"]])
        out[name] = raw.reshape(info["shape"])
    return out


def reference_load(path):
    """The safetensors library's own reading, or None if it refuses the file."""
    from safetensors.numpy import load_file
    try:
        return load_file(str(path))
    except Exception:
        return None


@settings(max_examples=500, deadline=2000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_load_exactly_or_raise_user_error(original, tmp_path, data):
    dtype, valid = original
    mutated = mutate(valid, data.draw)
    path = tmp_path / "m.safetensors"
    path.write_bytes(mutated)
    try:
        got = read_safetensors(path)
    except MinimistralError as e:
        assert str(e) and "\n" not in str(e)
        return
    expected = expected_from_bytes(mutated)
    assert set(got) == set(expected)
    for name, t in got.items():
        assert t.raw.shape == expected[name].shape and t.raw.tobytes() == expected[name].tobytes()
    if mutated == valid:                               # unchanged: exactly the original tensors
        for name, x in ORIGINAL.items():
            want = float32_to_bf16(x) if dtype == "BF16" else x.astype(NP_DTYPES[dtype])
            assert (got[name].raw == want).all()
    ref = reference_load(path) if dtype != "BF16" else None   # safetensors.numpy has no bfloat16
    if ref is not None:
        assert set(ref) == set(got)
        for name, x in ref.items():
            assert (got[name].raw == x).all()
