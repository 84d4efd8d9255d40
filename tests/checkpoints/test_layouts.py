"""One tiny random model, every release layout: HF (fp32, bf16, sharded), native safetensors,
native consolidated.00.pth written by torch.save. Same logits everywhere, equal to transformers.

The native files come from tests/reference/native_layout.py, which un-permutes wq/wk with the
formula of docs/mistral-7b.md §5 (not with minimistral's own permutation).
"""

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import requires_transformers

import minimistral
from minimistral.checkpoints.layout import detect_layout
from minimistral.checkpoints.pth import read_pth
from minimistral.errors import MinimistralError

CFG = dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=8,
           num_key_value_heads=2, sliding_window=5, vocab_size=256)
TOKENS = np.random.default_rng(7).integers(0, 256, 17)     # longer than the window


def rel_err(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """{layout name: directory}, all holding the same random model, and transformers' logits."""
    import torch
    from reference import hf_models, native_layout

    root = tmp_path_factory.mktemp("layouts")
    model = hf_models.make_hf_model(CFG, seed=11)
    dirs = {
        "hf_fp32": hf_models.save_hf(model, root / "hf_fp32"),
        "hf_bf16": hf_models.save_hf(model, root / "hf_bf16", "bfloat16"),
        "hf_bf16_sharded": hf_models.save_hf(model, root / "hf_sharded", "bfloat16", max_shard_size="60KB"),
        "native_fp32": native_layout.save_native_safetensors(model, root / "native_fp32"),
        "native_bf16": native_layout.save_native_safetensors(model, root / "native_bf16", torch.bfloat16),
        "pth_bf16": native_layout.save_native_pth(model, root / "pth_bf16", torch.bfloat16),
    }
    reference = {"fp32": hf_models.reference_logits(dirs["hf_fp32"], TOKENS),
                 "bf16": hf_models.reference_logits(dirs["hf_bf16"], TOKENS)}
    return dirs, reference, model


@requires_transformers
def test_layouts_are_detected(layouts):
    dirs, _, _ = layouts
    assert {name: detect_layout(d) for name, d in dirs.items()} == {
        "hf_fp32": "hf", "hf_bf16": "hf", "hf_bf16_sharded": "hf",
        "native_fp32": "native", "native_bf16": "native", "pth_bf16": "pth"}
    assert len(list(dirs["hf_bf16_sharded"].glob("model-*-of-*.safetensors"))) > 1


@requires_transformers
def test_info_names_each_layout(layouts, capsys):
    from minimistral.cli import main

    dirs, _, _ = layouts
    expected = {"hf_bf16_sharded": "HF transformers", "native_bf16": "consolidated.safetensors",
                "pth_bf16": "consolidated.00.pth, read without torch"}
    for name, words in expected.items():
        assert main(["info", "--model", str(dirs[name])]) == 0
        out = capsys.readouterr().out
        assert words in out and "parameters : 156,096" in out and "BF16" in out


@requires_transformers
@pytest.mark.parametrize("name", ["hf_fp32", "hf_bf16", "hf_bf16_sharded", "native_fp32",
                                  "native_bf16", "pth_bf16"])
def test_every_layout_equals_transformers(layouts, name):
    dirs, reference, _ = layouts
    ref = reference["fp32" if name.endswith("fp32") else "bf16"]
    ours = minimistral.load(dirs[name]).forward(TOKENS)
    assert rel_err(ours, ref) < 1e-5
    assert (ours.argmax(-1) == ref.argmax(-1)).all()


@requires_transformers
def test_bf16_layouts_agree_with_each_other(layouts):
    dirs, _, _ = layouts
    logits = {n: minimistral.load(dirs[n]).forward(TOKENS)
              for n in ("hf_bf16", "hf_bf16_sharded", "native_bf16", "pth_bf16")}
    base = logits["hf_bf16"]
    for n, x in logits.items():
        assert rel_err(x, base) < 1e-6, n
    assert np.array_equal(logits["native_bf16"], logits["pth_bf16"])   # the very same bytes


@requires_transformers
def test_native_weights_without_unpermuting_are_wrong(layouts, tmp_path):
    """The RoPE pairing matters: HF rows saved as if native must NOT reproduce transformers."""
    import json

    from reference import native_layout
    from safetensors.torch import save_file

    dirs, reference, model = layouts
    sd = native_layout.native_state_dict(model)
    for name in list(sd):     # put the HF (permuted) rows back
        layer = name.split(".")[1] if name.startswith("layers.") else None
        if name.endswith(("wq.weight", "wk.weight")):
            hf = "q_proj" if "wq" in name else "k_proj"
            sd[name] = model.state_dict()[f"model.layers.{layer}.self_attn.{hf}.weight"].clone()
    (tmp_path / "params.json").write_text(json.dumps(native_layout.params_json(model.config)))
    save_file(sd, str(tmp_path / "consolidated.safetensors"))
    assert rel_err(minimistral.load(tmp_path).forward(TOKENS), reference["fp32"]) > 1e-2


@requires_transformers
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_read_pth_matches_torch_load(tmp_path, dtype):
    import torch

    torch.manual_seed(0)
    sd = {"a": torch.randn(3, 5).to(getattr(torch, dtype)), "b.weight": torch.randn(7).to(getattr(torch, dtype)),
          "scalar": torch.tensor(2.5).to(getattr(torch, dtype))}
    torch.save(sd, tmp_path / "x.pth")
    got = read_pth(tmp_path / "x.pth")
    assert set(got) == set(sd)
    for name, t in sd.items():
        assert got[name].shape == tuple(t.shape)
        assert np.array_equal(got[name].float32(), t.float().numpy())
        assert not got[name].raw.flags.owndata and not got[name].raw.flags.writeable   # mapped
    assert got["a"].dtype == {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}[dtype]


@requires_transformers
def test_read_pth_of_a_module_state_dict_and_parameters(tmp_path):
    """model.state_dict() pickles with a _metadata attribute; nn.Parameter via _rebuild_parameter."""
    import torch

    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3).to(torch.bfloat16)
    torch.save(module.state_dict(), tmp_path / "sd.pth")
    got = read_pth(tmp_path / "sd.pth")
    assert set(got) == {"weight", "bias"}
    assert np.array_equal(got["weight"].float32(), module.weight.detach().float().numpy())
    torch.save({"p": torch.nn.Parameter(torch.randn(2, 3))}, tmp_path / "p.pth")
    assert read_pth(tmp_path / "p.pth")["p"].shape == (2, 3)


@requires_transformers
def test_read_pth_views_a_shared_storage_at_an_offset(tmp_path):
    import torch

    base = torch.arange(20, dtype=torch.float32)
    torch.save({"tail": base[8:], "head": base[:8].view(2, 4)}, tmp_path / "x.pth")
    got = read_pth(tmp_path / "x.pth")
    assert np.array_equal(got["tail"].float32(), np.arange(8, 20, dtype=np.float32))
    assert np.array_equal(got["head"].float32(), np.arange(8, dtype=np.float32).reshape(2, 4))


@requires_transformers
def test_read_pth_rejects_non_contiguous(tmp_path):
    import torch

    torch.save({"t": torch.randn(4, 6).t()}, tmp_path / "x.pth")
    with pytest.raises(MinimistralError, match="non-contiguously"):
        read_pth(tmp_path / "x.pth")


@requires_transformers
def test_read_pth_rejects_compressed_entries(tmp_path):
    import torch

    torch.save({"t": torch.randn(4, 6)}, tmp_path / "x.pth")
    with zipfile.ZipFile(tmp_path / "x.pth") as src, \
            zipfile.ZipFile(tmp_path / "y.pth", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with pytest.raises(MinimistralError, match="compressed"):
        read_pth(tmp_path / "y.pth")


def test_read_pth_needs_no_torch(tmp_path):
    """Reading a .pth must work with torch unimportable (the runtime never depends on it)."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from minimistral.checkpoints.pth import read_pth\n"
            "try:\n    read_pth(sys.argv[1])\nexcept Exception as e:\n    print(type(e).__name__)\n"
            "print('torch' in sys.modules and sys.modules['torch'] is not None)")
    (tmp_path / "bad.pth").write_bytes(b"not a zip")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "bad.pth")], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["MinimistralError", "False"]


class _RunsACommand:
    """Pickles as a call to os.system: what a hostile checkpoint would contain."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _hostile_checkpoint(directory, marker, protocol):
    """params.json + a consolidated.00.pth whose data.pkl calls os.system('touch marker')."""
    import json

    directory.mkdir()
    (directory / "params.json").write_text(json.dumps(
        {"dim": 8, "n_layers": 1, "head_dim": 4, "hidden_dim": 16, "n_heads": 2, "n_kv_heads": 1,
         "norm_eps": 1e-5, "sliding_window": 4, "vocab_size": 16}))
    payload = pickle.dumps({"tok_embeddings.weight": _RunsACommand(f"touch {marker}")}, protocol=protocol)
    with zipfile.ZipFile(directory / "consolidated.00.pth", "w", zipfile.ZIP_STORED) as z:
        z.writestr("consolidated/data.pkl", payload)
        z.writestr("consolidated/byteorder", "little")
    return payload


@pytest.mark.parametrize("protocol", [2, 4])   # GLOBAL and STACK_GLOBAL opcodes
def test_hostile_pth_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = _hostile_checkpoint(tmp_path / "ckpt", marker, protocol)
    with pytest.raises(MinimistralError, match=r"system.*refusing"):
        minimistral.load(tmp_path / "ckpt")
    assert not marker.exists()
    pickle.loads(payload)          # the payload is real: an ordinary unpickler runs the command
    assert marker.exists()


def test_pth_with_other_globals_is_refused(tmp_path):
    import collections
    payload = pickle.dumps(collections.Counter("abc"), protocol=2)
    with zipfile.ZipFile(tmp_path / "x.pth", "w") as z:
        z.writestr("archive/data.pkl", payload)
    with pytest.raises(MinimistralError, match="collections.Counter"):
        read_pth(tmp_path / "x.pth")


def test_pth_that_is_not_a_zip_is_a_clear_error(tmp_path):
    (tmp_path / "x.pth").write_bytes(b"\x80\x02}q\x00.")      # a legacy (pre-zip) torch pickle
    with pytest.raises(MinimistralError, match="not a torch zip archive"):
        read_pth(tmp_path / "x.pth")


# ---- the released variants: their config files, verbatim -----------------------------------------

V01_PARAMS = {"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336, "n_heads": 32,
              "n_kv_heads": 8, "norm_eps": 1e-05, "sliding_window": 4096, "vocab_size": 32000}  # reference §5
V02_PARAMS = {"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336, "n_heads": 32,
              "n_kv_heads": 8, "norm_eps": 1e-05, "vocab_size": 32000, "rope_theta": 1000000.0}
V03_PARAMS = {"dim": 4096, "n_layers": 32, "head_dim": 128, "hidden_dim": 14336, "n_heads": 32,
              "n_kv_heads": 8, "norm_eps": 1e-05, "vocab_size": 32768, "rope_theta": 1000000.0}
_HF_COMMON = {"architectures": ["MistralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
              "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
              "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
              "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
              "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": None,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16"}
V02_CONFIG = {**_HF_COMMON, "transformers_version": "4.36.0", "use_cache": True, "vocab_size": 32000}
V03_CONFIG = {**_HF_COMMON, "transformers_version": "4.42.0.dev0", "use_cache": True, "vocab_size": 32768}


def test_v03_files_are_the_released_bytes():
    """The hub lists params.json at 202 bytes and config.json at 601: these dicts reproduce both."""
    import json

    assert len(json.dumps(V03_PARAMS, indent=4)) == 202
    assert len(json.dumps(V03_CONFIG, indent=2) + "\n") == 601


@pytest.mark.parametrize("source, cfg, window, theta, vocab, context", [
    ("params", V01_PARAMS, 4096, 1e4, 32000, 8192),
    ("params", V02_PARAMS, None, 1e6, 32000, 32768),
    ("config", V02_CONFIG, None, 1e6, 32000, 32768),
    ("params", V03_PARAMS, None, 1e6, 32768, 32768),
    ("config", V03_CONFIG, None, 1e6, 32768, 32768),
])
def test_released_variants(source, cfg, window, theta, vocab, context):
    from minimistral.config import ModelArgs

    a = ModelArgs.from_params_json(cfg) if source == "params" else ModelArgs.from_hf_config(cfg)
    assert (a.sliding_window, a.rope_theta, a.vocab_size, a.context_len) == (window, theta, vocab, context)
    assert (a.dim, a.n_layers, a.head_dim, a.hidden_dim, a.n_heads, a.n_kv_heads) == (4096, 32, 128, 14336, 32, 8)
    assert a.n_params() == 7_241_732_096 + (vocab - 32000) * 4096 * 2


def _v03_like(directory, hf_too=False):
    """A tiny model laid out like the v0.3 download: params.json, consolidated.safetensors,
    tokenizer.model.v3 (the real v3 file from mistral-common), optionally config.json too."""
    import json
    import shutil

    mc = pytest.importorskip("mistral_common")
    from tiny_checkpoint import TINY_ARGS, write_tiny_native

    args = TINY_ARGS.replace(vocab_size=32768, sliding_window=None, rope_theta=1e6)
    d = write_tiny_native(directory, args)
    (d / "tokenizer.model").unlink()
    shutil.copy(Path(mc.__file__).parent / "data" / "mistral_instruct_tokenizer_240323.model.v3",
                d / "tokenizer.model.v3")
    p = json.loads((d / "params.json").read_text())
    del p["sliding_window"]                         # v0.3's params.json has no such key
    (d / "params.json").write_text(json.dumps(p, indent=4))
    if hf_too:
        (d / "config.json").write_text(json.dumps({**V03_CONFIG, "hidden_size": args.dim}))
    return d


@pytest.mark.parametrize("hf_too", [False, True])
def test_v03_download_is_native_with_the_v3_tokenizer(tmp_path, hf_too):
    d = _v03_like(tmp_path / "v03", hf_too)
    assert detect_layout(d) == "native"
    model = minimistral.load(d)
    assert model.args.sliding_window is None and model.args.rope_theta == 1e6
    assert model.tokenizer.path.name == "tokenizer.model.v3" and model.tokenizer.vocab_size == 32768
    ids = model.tokenizer.encode_chat([{"role": "user", "content": "Hi"}])
    assert ids[:2] == [1, 3] and ids[-1] == 4                  # <s>[INST] ... [/INST] as control tokens
    assert model.forward(ids).shape == (len(ids), 32768)


def test_a_tokenizer_larger_than_the_model_is_refused(tmp_path):
    import shutil

    mc = pytest.importorskip("mistral_common")
    from tiny_checkpoint import write_tiny_native

    d = write_tiny_native(tmp_path / "v01")
    shutil.copy(Path(mc.__file__).parent / "data" / "mistral_instruct_tokenizer_240323.model.v3",
                d / "tokenizer.model")
    with pytest.raises(MinimistralError, match="32768 tokens but the model only 32000"):
        minimistral.load(d)


@requires_transformers
def test_mutated_pth_pickles_load_or_fail_cleanly(tmp_path):
    """Random edits of data.pkl (bytes flipped, inserted, cut): the reader returns tensors or
    raises MinimistralError, nothing else, and never reaches a global outside the allowed set."""
    import torch
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    torch.manual_seed(0)
    torch.save(torch.nn.Linear(4, 3).to(torch.bfloat16).state_dict(), tmp_path / "ok.pth")
    with zipfile.ZipFile(tmp_path / "ok.pth") as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    pkl = next(n for n in members if n.endswith("/data.pkl"))
    counter = [0]

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete", "cut"]),
                              st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4))
    def check(edits):
        data = bytearray(members[pkl])
        for op, where, value in edits:
            i = where % (len(data) + 1)
            if op == "flip" and i < len(data):
                data[i] = value
            elif op == "insert":
                data[i:i] = bytes([value])
            elif op == "delete":
                del data[i:i + 1]
            else:
                del data[i:]
        counter[0] += 1
        path = tmp_path / f"m{counter[0]}.pth"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            for name, blob in members.items():
                z.writestr(name, bytes(data) if name == pkl else blob)
        try:
            got = read_pth(path)
        except MinimistralError:
            return
        for t in got.values():
            t.float32()              # whatever loaded is readable
        path.unlink()

    check()


def test_pth_records_with_any_numbers_load_or_fail_cleanly(tmp_path):
    """The numbers of a tensor record (shape, stride, offset, storage size), any of them huge,
    negative, zero or wrapping int64: the reader returns that exact view of the storage, or
    raises MinimistralError; never NumPy's own ValueError or OverflowError."""
    import math

    from handmade_pth import handmade_pth
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    counts = st.one_of(st.integers(0, 16), st.integers(-2, 2**66),
                       st.sampled_from([2**31, 2**32, 2**48, 2**62, 2**63, 2**64, 10**5000, -10**5000]))

    @settings(max_examples=500, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(shape=st.lists(counts, max_size=10), stride=st.lists(counts, max_size=10), offset=counts,
           numel=st.one_of(st.just(12), counts))
    def check(shape, stride, offset, numel):
        path = handmade_pth(tmp_path / "x.pth", tuple(shape), tuple(stride), offset, numel)
        try:
            got = read_pth(path)["w"]
        except MinimistralError as e:
            assert "\n" not in str(e)
            return
        assert got.shape == tuple(shape) and got.float32().size == math.prod(shape)
        assert numel == 12 and offset + math.prod(shape) <= 12        # inside the 48-byte storage

    check()


@requires_transformers
def test_pth_with_a_damaged_pickle_entry_is_a_clear_error(tmp_path):
    import torch

    torch.save({"t": torch.randn(3)}, tmp_path / "x.pth")
    data = bytearray((tmp_path / "x.pth").read_bytes())
    at = data.index(b"data.pkl") + len(b"data.pkl") + 40     # inside the stored pickle bytes
    data[at] ^= 0xFF                                          # the CRC no longer matches
    (tmp_path / "x.pth").write_bytes(bytes(data))
    with pytest.raises(MinimistralError, match="Bad CRC"):
        read_pth(tmp_path / "x.pth")


def test_read_pth_rejects_unknown_compression_method(tmp_path):
    """A zip entry with a method zipfile cannot read (here 99) is a user error, not a crash."""
    path = tmp_path / "x.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle.dumps({}, protocol=2))
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")                  # the entry's central directory record
    data[central + 10:central + 12] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(MinimistralError, match="compression method 99"):
        read_pth(path)
