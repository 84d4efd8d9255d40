"""Property tests: config values and .pth zip structure, mutated, never fool the loader.

* config.json / params.json: any value in any field (huge, negative, fractional, inf, NaN,
  strings, nulls, nested, missing, fields minimistral does not implement), and JSON text no
  Python value dumps to (numbers of thousands of digits, deep nesting, NUL and lone surrogates
  in strings). open_checkpoint must
  raise MinimistralError (one line) or accept a config that matches the tensors; an accepted
  model then pre-fills three tokens to finite logits or raises MinimistralError, within a
  machine of 256 MiB (limits.physical_memory patched), in well under a second.
* .pth: the local headers, the central directory and the end record of a torch.save archive
  mutated field by field (lengths, offsets, sizes, CRCs, names, methods, flags, versions) and
  byte by byte, 2,000 archives. read_pth must raise MinimistralError or return exactly the
  tensors torch saved: never other bytes, never another exception.

derandomize=True: CI runs the same examples every time (a fixed seed), in a few seconds each.
"""

import io
import json
import re
import struct
import time
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tiny_checkpoint import write_tiny_hf, write_tiny_native  # noqa: E402

from minimistral import MinimistralError  # noqa: E402
from minimistral.checkpoints.layout import open_checkpoint  # noqa: E402
from minimistral.checkpoints.pth import read_pth  # noqa: E402
from minimistral.config import ModelArgs  # noqa: E402
from minimistral.guards import limits  # noqa: E402
from minimistral.model import Mistral  # noqa: E402

ARGS = ModelArgs(dim=16, n_layers=2, head_dim=4, hidden_dim=24, n_heads=4, n_kv_heads=2,
                 sliding_window=4, context_len=64, vocab_size=40)
FAST = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

VALUES = st.one_of(
    st.integers(-3, 70), st.integers(-2**70, 2**70), st.sampled_from([2**31 - 1, 2**31, 10**9, 10**10, 2**63]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.5, 4.0, 16.0, 1e300, 1e-300, 1e-60]),
    st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from(["type", "factor", "rope_type", "rope_theta"]),
                    st.one_of(st.text(max_size=4), st.floats(), st.integers()), max_size=2))


class Raw(str):
    """JSON text put into the file as is: what no Python value dumps to."""


RAW = st.sampled_from([Raw("9" * 5000), Raw("-" + "9" * 4400), Raw("1" + "0" * 400 + ".5"), Raw("1e99999"),
                       Raw("[" * 3000 + "]" * 3000), Raw('"a\\u0000b"'), Raw('"\\ud800"'), Raw("-0"),
                       Raw("4096.000"), Raw('["silu"]'), Raw("{}")])


def dumps(cfg: dict) -> str:
    """json.dumps, with every Raw value spliced in as raw JSON text."""
    raw = {f"@raw{i}@": v for i, v in enumerate(v for v in cfg.values() if isinstance(v, Raw))}
    back = {v: k for k, v in raw.items()}
    text = json.dumps({k: back.get(v, v) if isinstance(v, Raw) else v for k, v in cfg.items()})
    for marker, value in raw.items():
        text = text.replace(json.dumps(marker), value)
    return text


def mutate_config(valid: dict, extra_keys: list[str], draw) -> dict:
    cfg = dict(valid)
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(cfg) + extra_keys))
        how = draw(st.sampled_from(["value", "value", "delete", "near"]))
        if how == "delete":
            cfg.pop(key, None)
        elif how == "near" and isinstance(cfg.get(key), int) and not isinstance(cfg.get(key), bool):
            cfg[key] = cfg[key] * draw(st.sampled_from([2, 3])) + draw(st.integers(-2, 2))
        else:
            cfg[key] = draw(st.one_of(VALUES, RAW))
    return cfg


OUR_NAMES = re.compile(r"\b(dim|n_layers|hidden_dim|n_heads|n_kv_heads|context_len|norm_eps)\b")


def check_loads_or_refuses(directory: Path, hf: bool) -> None:
    start = time.perf_counter()
    with mock.patch.object(limits, "physical_memory", lambda: 256 * 2**20):
        try:
            args, weights, _ = open_checkpoint(directory)
        except MinimistralError as e:
            assert str(e) and "\n" not in str(e)
            if hf and "config.json" in str(e):
                assert not OUR_NAMES.search(str(e)), str(e)      # the file's own keys, not ours
            return
        finally:
            assert time.perf_counter() - start < 5
        assert (args.dim, args.n_layers, args.vocab_size) == (ARGS.dim, ARGS.n_layers, ARGS.vocab_size)
        try:
            logits = Mistral(args, weights).prefill([1, 2, 3])
        except MinimistralError as e:
            assert str(e) and "\n" not in str(e)
            return
        assert logits.shape == (1, ARGS.vocab_size) and np.isfinite(logits).all()
    assert time.perf_counter() - start < 5


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    d = write_tiny_hf(tmp_path_factory.mktemp("fz") / "hf", ARGS)
    return d, json.loads((d / "config.json").read_text())


@pytest.fixture(scope="module")
def native_dir(tmp_path_factory):
    d = write_tiny_native(tmp_path_factory.mktemp("fz") / "native", ARGS)
    return d, json.loads((d / "params.json").read_text())


@FAST
@given(data=st.data())
def test_mutated_config_json_loads_consistently_or_is_refused(hf_dir, data):
    directory, valid = hf_dir
    cfg = mutate_config(valid, ["model_type", "hidden_act", "rope_scaling", "rope_parameters",
                                "tie_word_embeddings", "quantization_config"], data.draw)
    (directory / "config.json").write_text(dumps(cfg))
    check_loads_or_refuses(directory, hf=True)


@FAST
@given(data=st.data())
def test_mutated_params_json_loads_consistently_or_is_refused(native_dir, data):
    directory, valid = native_dir
    cfg = mutate_config(valid, ["moe", "hidden_act", "rope_scaling", "vision_encoder"], data.draw)
    (directory / "params.json").write_text(dumps(cfg))
    check_loads_or_refuses(directory, hf=False)


# ---- .pth zip structure --------------------------------------------------------------------------

def zip_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every header field of the archive: local headers, central directory, end."""
    fields = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    local = [(o, s) for o, s in ((4, 2), (6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2))]
    for info in infos:
        h = info.header_offset
        fields += [(h + o, s) for o, s in local]
        name_len, extra_len = struct.unpack("<HH", data[h + 26:h + 30])
        fields += [(h + 30, name_len), (h + 30 + name_len, extra_len)]             # name, extra bytes
    i = data.find(b"PK\x01\x02")
    central = [(4, 2), (6, 2), (8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2), (32, 2), (34, 2),
               (42, 4)]
    while i != -1:
        fields += [(i + o, s) for o, s in central]
        name_len = struct.unpack("<H", data[i + 28:i + 30])[0]
        fields.append((i + 46, name_len))
        i = data.find(b"PK\x01\x02", i + 46)
    e = data.rfind(b"PK\x05\x06")
    fields += [(e + o, s) for o, s in ((4, 2), (6, 2), (8, 2), (10, 2), (12, 4), (16, 4), (20, 2))]
    return fields


@pytest.fixture(scope="module")
def saved_pth(tmp_path_factory):
    torch = pytest.importorskip("torch")
    tensors = {"tok_embeddings.weight": torch.arange(24, dtype=torch.float32).view(6, 4).to(torch.bfloat16),
               "norm.weight": torch.arange(4, dtype=torch.float32) + 0.5,
               "layers.0.attention.wq.weight": torch.arange(16, dtype=torch.float32).view(4, 4) - 8}
    path = tmp_path_factory.mktemp("pth") / "x.pth"
    torch.save(tensors, path)
    data = path.read_bytes()
    want = {k: v.float().numpy() for k, v in tensors.items()}
    return data, zip_fields(data), want


@settings(FAST, max_examples=2000)
@given(data=st.data())
def test_mutated_pth_zip_headers_read_exactly_or_are_refused(saved_pth, tmp_path, data):
    original, fields, want = saved_pth
    b = bytearray(original)
    for _ in range(data.draw(st.integers(1, 3))):
        offset, size = data.draw(st.sampled_from(fields))
        if size == 0:
            continue
        if data.draw(st.booleans()):                      # the field as a number: any, or near
            old = int.from_bytes(b[offset:offset + size], "little")
            new = data.draw(st.one_of(st.integers(0, 256**size - 1),
                                      st.integers(max(0, old - 8), min(256**size - 1, old + 8))))
            b[offset:offset + size] = new.to_bytes(size, "little")
        else:                                             # one byte of it, one bit or any value
            i = offset + data.draw(st.integers(0, size - 1))
            b[i] = data.draw(st.one_of(st.integers(0, 255), st.sampled_from([b[i] ^ (1 << k) for k in range(8)])))
    path = tmp_path / "m.pth"
    path.write_bytes(bytes(b))
    try:
        got = read_pth(path)
    except MinimistralError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert set(got) == set(want)
    for name, x in want.items():
        assert got[name].shape == x.shape and np.array_equal(got[name].float32(), x), name
