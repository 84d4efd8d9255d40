"""Bad input never crashes, never lies, never runs code (issue 6), met through the CLI.

Every case ends in exactly one line on stderr starting "minimistral: error:", exit code 2,
and no traceback. The broken checkpoints are made from the committed golden fixture.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import TESTS
from tiny_checkpoint import TINY_ARGS, write_tiny_hf, write_tiny_native

from minimistral import cli
from minimistral.checkpoints.safetensors import read_safetensors, write_safetensors

GOLDEN = TESTS / "fixtures" / "tiny_hf_bf16" / "model"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, argv, *words):
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    # The load progress bar may come first; the error itself is one line, the last.
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("loading ")]
    assert len(lines) == 1 and lines[0].startswith("minimistral: error:"), err
    assert "Traceback" not in err
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])
    return lines[0]


@pytest.fixture
def ckpt(tmp_path):
    d = tmp_path / "ckpt"
    shutil.copytree(GOLDEN, d)
    return d


def rewrite(ckpt, edit):
    """Load the fixture's tensors (as float32), let `edit` change the dict, write it back in BF16."""
    path = ckpt / "model.safetensors"
    tensors = {name: t.float32() for name, t in read_safetensors(path).items()}
    edit(tensors)
    path.unlink()
    write_safetensors(path, tensors, dtype="BF16")


def edit_config(ckpt, **changes):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg.update(changes)
    (ckpt / "config.json").write_text(json.dumps(cfg))


def test_directory_missing(capsys, tmp_path):
    assert_user_error(capsys, ["info", "--model", str(tmp_path / "nope")], "does not exist")


def test_directory_empty(capsys, tmp_path):
    assert_user_error(capsys, ["info", "--model", str(tmp_path)], "empty")


def test_no_config(capsys, ckpt):
    (ckpt / "config.json").unlink()
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "config.json", "params.json")


def test_config_not_json(capsys, ckpt):
    (ckpt / "config.json").write_text('{"hidden_size": 64,')
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "config.json", "not valid JSON")


def test_config_unreadable(capsys, ckpt):
    (ckpt / "config.json").write_bytes(b"\xff\xfe\x00garbage")
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "config.json")


@pytest.mark.parametrize("changes, words", [
    ({"num_attention_heads": 7, "head_dim": None}, ["divisible"]),
    ({"num_key_value_heads": 3}, ["multiple of num_key_value_heads"]),   # the file's own keys
    ({"sliding_window": 0}, ["sliding_window"]),
    ({"sliding_window": -4}, ["sliding_window"]),
    ({"num_hidden_layers": 0}, ["num_hidden_layers"]),
])
def test_config_values_out_of_range(capsys, ckpt, changes, words):
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg.update(changes)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    (ckpt / "config.json").write_text(json.dumps(cfg))
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "config.json", *words)


def test_weight_missing(capsys, ckpt):
    rewrite(ckpt, lambda t: t.pop("model.layers.1.mlp.up_proj.weight"))
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "layers.1.feed_forward.w3.weight", "lack")


def test_weight_extra_layer(capsys, ckpt):
    edit_config(ckpt, num_hidden_layers=2)
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "layers.2", "does not imply")


def test_weight_shape_wrong(capsys, ckpt):
    edit_config(ckpt, intermediate_size=100)
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "shape", "does not match")


def test_weight_dtype_not_float(capsys, ckpt):
    path = ckpt / "model.safetensors"
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["model.norm.weight"]["dtype"] = "I16"   # same size as BF16: only the dtype is wrong
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + data[8 + n:])
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "model.norm.weight", "I16")


def test_truncated_shard(capsys, ckpt):
    path = ckpt / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "model.safetensors", "truncated")


def test_header_length_beyond_file(capsys, ckpt):
    path = ckpt / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes((len(data) * 2).to_bytes(8, "little") + data[8:])
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "header length", "past the end")


def test_header_not_json(capsys, ckpt):
    path = ckpt / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[8] = ord("!")
    path.write_bytes(bytes(data))
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "not valid JSON")


def test_overlapping_tensors(capsys, ckpt):
    path = ckpt / "model.safetensors"
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    b, e = header["model.norm.weight"]["data_offsets"]
    start = header["lm_head.weight"]["data_offsets"][0]     # a larger tensor's first bytes
    header["model.norm.weight"]["data_offsets"] = [start, start + (e - b)]   # same bytes twice
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + data[8 + n:])
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "overlap")


def test_index_names_missing_shard(capsys, ckpt):
    (ckpt / "model.safetensors").rename(ckpt / "model-00001-of-00002.safetensors")
    names = read_safetensors(ckpt / "model-00001-of-00002.safetensors")
    weight_map = {n: "model-00001-of-00002.safetensors" for n in names}
    weight_map["lm_head.weight"] = "model-00002-of-00002.safetensors"
    (ckpt / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "model-00002-of-00002.safetensors", "missing")


def test_gguf_recognised(capsys, tmp_path):
    (tmp_path / "mistral-7b-v0.1.Q4_K_M.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    assert_user_error(capsys, ["info", "--model", str(tmp_path)], "GGUF")
    assert_user_error(capsys, ["info", "--model", str(tmp_path / "mistral-7b-v0.1.Q4_K_M.gguf")], "GGUF")


def test_pytorch_bin_recognised(capsys, ckpt):
    (ckpt / "model.safetensors").rename(ckpt / "pytorch_model.bin")
    assert_user_error(capsys, ["info", "--model", str(ckpt)], "pytorch_model", "safetensors")


def test_non_finite_weights_are_reported_with_their_layer(capsys, tmp_path):
    def poison(arrays):
        arrays["layers.1.feed_forward.w2.weight"] = arrays["layers.1.feed_forward.w2.weight"].copy()
        arrays["layers.1.feed_forward.w2.weight"][0, 0] = np.inf
    d = write_tiny_native(tmp_path / "m", edit=poison)
    assert_user_error(capsys, ["generate", "--model", str(d), "--prompt", "hi", "--max-tokens", "2"],
                      "layer 1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_native(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("option, value, word", [
    ("--temperature", "-0.5", "temperature"),
    ("--top-p", "0", "top"),
    ("--top-p", "1.5", "top"),
    ("--max-tokens", "-1", "max"),
    ("--chunk-size", "0", "chunk"),
    ("--seed", "abc", "seed"),
])
def test_bad_generate_options(capsys, tiny, option, value, word):
    code, out, err = run(capsys, "generate", "--model", str(tiny), "--prompt", "Hello", option, value)
    assert code == 2 and "Traceback" not in err and word in err.lower(), err
    assert err.strip().splitlines()[-1].startswith("minimistral")


def test_empty_prompt_is_bos_only(capsys, tiny):
    code, out, err = run(capsys, "generate", "--model", str(tiny), "--prompt", "", "--max-tokens", "3")
    assert code == 0, err


def test_prompt_longer_than_context_without_window_warns(capsys, tmp_path):
    d = write_tiny_hf(tmp_path / "m", TINY_ARGS.replace(sliding_window=None, context_len=16))
    code, out, err = run(capsys, "generate", "--model", str(d), "--prompt", "word " * 40, "--max-tokens", "1")
    assert code == 0 and "warning" in err.lower() and "trained" in err.lower(), err


def test_real_entry_point_prints_one_line(tmp_path):
    """The installed module entry point, in a fresh process: one line, exit 2, no traceback."""
    r = subprocess.run([sys.executable, "-m", "minimistral", "info", "--model", str(tmp_path / "missing")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
