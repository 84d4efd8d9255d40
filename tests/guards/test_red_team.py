"""Hostile and careless inputs of the second red team: each ends in one sentence, never a crash.

One section per group: JSON numbers and types, sizes that overflow or vanish, names with NUL
bytes, zip fields, API arguments. Each input here used to escape as a Python exception (or gave
a silent wrong answer); the loaders must now raise MinimistralError, the CLI exit 2.
"""

import json
import shutil
from decimal import Decimal

import numpy as np
import pytest
from conftest import TESTS
from handmade_pth import handmade_pth
from tiny_checkpoint import write_tiny_hf, write_tiny_native

from minimistral import MinimistralError, cli
from minimistral.checkpoints.layout import open_checkpoint
from minimistral.checkpoints.pth import read_pth
from minimistral.checkpoints.safetensors import read_safetensors, write_safetensors

GOLDEN = TESTS / "fixtures" / "tiny_hf_bf16"
HUGE = "9" * 5000                      # beyond Python's 4300-digit int-string limit


@pytest.fixture
def hf(tmp_path):
    d = tmp_path / "hf"
    shutil.copytree(GOLDEN / "model", d)
    return d


def refused(call, *words):
    """call() raises MinimistralError, one line, holding every word; returns the message."""
    with pytest.raises(MinimistralError) as e:
        call()
    message = str(e.value)
    assert "\n" not in message
    for w in words:
        assert w.lower() in message.lower(), (w, message)
    return message


def one_error(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("minimistral: error:"), (code, err)
    return err[0]


def raw_safetensors(path, header, data=b""):
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + data)
    return path


# ---- JSON numbers and types nobody expected --------------------------------------------------------

@pytest.mark.parametrize("key, value", [("hidden_size", HUGE), ("hidden_size", "-" + HUGE),
                                        ("rms_norm_eps", "1" + HUGE + ".5"), ("sliding_window", HUGE[:4000])])
def test_a_number_of_thousands_of_digits_in_config_json(capsys, hf, key, value):
    cfg = json.loads((hf / "config.json").read_text())
    text = json.dumps({**cfg, key: "PLACE"}).replace('"PLACE"', value)
    (hf / "config.json").write_text(text)
    one_error(capsys, "info", "--model", hf)
    refused(lambda: open_checkpoint(hf), "config.json", "number of")


def test_a_number_of_thousands_of_digits_in_the_index(hf):
    (hf / "model.safetensors.index.json").write_text(
        '{"metadata": {"total_size": %s}, "weight_map": {"lm_head.weight": "model.safetensors"}}' % HUGE)
    refused(lambda: open_checkpoint(hf), "index.json", "number of 5,000 characters")


@pytest.mark.parametrize("where", ["shape", "offsets", "metadata"])
def test_a_number_of_thousands_of_digits_in_a_safetensors_header(tmp_path, where):
    entry = {"shape": f"[{HUGE}]", "offsets": f"[0, {HUGE}]", "metadata": "[1]"}
    head = (f'{{"__metadata__": {{"n": {HUGE if where == "metadata" else 1}}}, "a": {{"dtype": "F32", '
            f'"shape": {entry["shape"] if where == "shape" else "[1]"}, '
            f'"data_offsets": {entry["offsets"] if where == "offsets" else "[0, 4]"}}}}}').encode()
    path = raw_safetensors(tmp_path / "x.safetensors", head, b"\0" * 4)
    refused(lambda: read_safetensors(path), "x.safetensors", "the header holds a number")


@pytest.mark.parametrize("dtype", [["F32"], {"F32": 1}, None, 32])
def test_a_dtype_that_is_a_list_or_a_dict(tmp_path, dtype):
    path = raw_safetensors(tmp_path / "x.safetensors", {"a": {"dtype": dtype, "shape": [1],
                                                              "data_offsets": [0, 4]}}, b"\0" * 4)
    refused(lambda: read_safetensors(path), "tensor 'a' has dtype", "BF16, F16 and F32")


# ---- sizes that overflow or vanish -----------------------------------------------------------------

@pytest.mark.parametrize("shape", [[0, 2**70], [2**32, 2**32, 0], [0, 2**62, 8], [0] * 9, [2**64]])
def test_zero_size_tensors_with_absurd_dimensions(tmp_path, shape):
    path = raw_safetensors(tmp_path / "x.safetensors", {"a": {"dtype": "F32", "shape": shape,
                                                              "data_offsets": [0, 0]}})
    refused(lambda: read_safetensors(path), "tensor 'a' has the shape", "corrupt")


def test_a_zero_size_tensor_of_sane_shape_still_loads(tmp_path):
    path = raw_safetensors(tmp_path / "x.safetensors", {"a": {"dtype": "F32", "shape": [0, 2**40],
                                                              "data_offsets": [0, 0]}})
    assert read_safetensors(path)["a"].raw.shape == (0, 2**40)


def test_the_handmade_pth_reads_when_its_numbers_are_right(tmp_path):
    got = read_pth(handmade_pth(tmp_path / "x.pth", (3, 4), (4, 1)))["w"]
    assert got.shape == (3, 4) and (got.float32() == 0).all()


@pytest.mark.parametrize("record, words", [
    (dict(shape=(10**5000,), stride=(1,)), ["has the shape", "5,001 digits"]),
    (dict(shape=(0, 2**70), stride=(2**70, 1)), ["has the shape"]),
    (dict(shape=(2**32, 2**32, 0), stride=(0, 0, 1)), ["has the shape"]),
    (dict(shape=(2**32, 2**32), stride=(2**32, 1)), ["has the shape"]),          # wraps to 0 in int64
    (dict(shape=(2**62, 4, 3), stride=(12, 3, 1)), ["has the shape"]),           # wraps to 0 as well
    (dict(shape=(1,) * 70, stride=(1,) * 70), ["has the shape"]),
    (dict(shape=(3, 4), stride=(10**5000, 1)), ["stride"]),
    (dict(shape=(3, 4), stride=(4, 1), numel=10**5000), ["storage"]),
])
def test_pth_records_whose_numbers_overflow(tmp_path, record, words):
    path = handmade_pth(tmp_path / "x.pth", **record)
    refused(lambda: read_pth(path), "x.pth", *words)


# ---- names and paths with NUL bytes ----------------------------------------------------------------

@pytest.mark.parametrize("shard, words", [("model\x00.safetensors", ["NUL byte"]),
                                          ("model\ud800.safetensors", ["surrogate"]),
                                          ("", ["empty"])])
def test_a_shard_name_in_the_index_that_cannot_be_a_path(hf, shard, words):
    (hf / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"lm_head.weight": shard}}))
    refused(lambda: open_checkpoint(hf), "index.json", "shard", *words)


@pytest.mark.parametrize("name, words", [("a\x00b", ["a\\x00b", "NUL byte"]), ("x\ud800", ["surrogate"]),
                                         ("", ["empty"]), ("n" * 5000, ["5,000 characters"])])
def test_tensor_names_are_validated_once(tmp_path, name, words):
    path = raw_safetensors(tmp_path / "x.safetensors", {name: {"dtype": "F32", "shape": [1],
                                                               "data_offsets": [0, 4]}}, b"\0" * 4)
    refused(lambda: read_safetensors(path), "x.safetensors", *words)


def test_a_storage_key_with_a_nul_byte(tmp_path):
    path = handmade_pth(tmp_path / "x.pth", (3, 4), (4, 1), key="0\x00")
    refused(lambda: read_pth(path), "storage", "NUL byte")


@pytest.mark.parametrize("layer", ["\u00b2", "\u0663", "07", "9" * 30])
def test_layer_numbers_only_in_ascii_digits(tmp_path, layer):
    """'²'.isdigit() is True but int('²') fails; '٣' is int 3. Neither is a layer number."""
    def extra(arrays):
        arrays[f"layers.{layer}.attention.wq.weight"] = np.zeros(2, np.float32)
    d = write_tiny_native(tmp_path / "m", edit=extra)
    refused(lambda: open_checkpoint(d), "which the config does not imply")
    hf = write_tiny_hf(tmp_path / "hf")
    tensors = {n: t.float32() for n, t in read_safetensors(hf / "model.safetensors").items()}
    write_safetensors(hf / "model.safetensors", {**tensors, f"model.layers.{layer}.mlp.up_proj.weight":
                                                 np.zeros(2, np.float32)})
    refused(lambda: open_checkpoint(hf), "unexpected tensor")
    from minimistral.checkpoints.names import native_name

    assert native_name(f"blk.{layer}.ffn_up.weight") is None and native_name("blk.3.ffn_up.weight") is not None


# ---- zip fields ------------------------------------------------------------------------------------

def _central_record(data: bytes, name: bytes) -> int:
    i = data.index(b"PK\x01\x02")
    while data[i + 46:i + 46 + len(name)] != name:
        i = data.index(b"PK\x01\x02", i + 4)
    return i


@pytest.mark.parametrize("field, value", [(6, 112), (6, 255), (8, 0x40), (8, 0x20), (8, 0x01)])
def test_zip_fields_zipfile_does_not_implement(tmp_path, field, value):
    """Version needed 11.2 (one flipped byte), strong encryption, patched data, encryption:
    zipfile's NotImplementedError and RuntimeError become one sentence."""
    path = handmade_pth(tmp_path / "x.pth", (3, 4), (4, 1))
    data = bytearray(path.read_bytes())
    i = _central_record(bytes(data), b"archive/data.pkl")
    data[i + field:i + field + 2] = value.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    refused(lambda: read_pth(path), "x.pth")


# ---- API arguments ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    from minimistral.training.init import tiny_model

    return tiny_model(seed=0)


def real_numbers(x: float):
    """x as every kind of real number a caller may hold."""
    from fractions import Fraction

    return [x, Fraction(x).limit_denominator(), Decimal(str(x)), np.float32(x), np.float64(x)]


@pytest.mark.parametrize("kind", range(5))
def test_any_real_number_is_a_temperature_and_a_top_p(model, kind):
    """Fraction, Decimal and NumPy scalars sample exactly as the float they equal."""
    ids = model.tokenizer.encode("The cat sat")
    want = model.generate(ids, max_tokens=4, temperature=0.5, top_p=0.75, seed=3, eos_id=None)
    got = model.generate(ids, max_tokens=4, temperature=real_numbers(0.5)[kind],
                         top_p=real_numbers(0.75)[kind], seed=3, eos_id=None)
    assert got == want


@pytest.mark.parametrize("option, value, words", [
    ("temperature", lambda: 10**400, ["temperature", "a number >= 0"]),        # no float holds it
    ("temperature", lambda: "0.5", ["temperature"]),
    ("temperature", lambda: 1j, ["temperature"]),
    ("temperature", lambda: Decimal("sNaN"), ["temperature"]),
    ("top_p", lambda: Decimal("NaN"), ["top_p"]),
    ("seed", lambda: -10**5000, ["seed", "5,001 digits"]),
    ("max_tokens", lambda: -10**5000, ["max_tokens"]),
    ("eos_id", lambda: [10**5000], ["eos_id"]),
], ids=["temperature 10**400", "temperature str", "temperature complex", "temperature sNaN", "top_p NaN",
        "seed -10**5000", "max_tokens -10**5000", "eos_id [10**5000]"])
def test_numbers_that_are_not_options_are_refused_by_name(model, option, value, words):
    options = {"max_tokens": 2, option: value()}
    refused(lambda: model.generate([1, 415], **options), *words)


def test_model_args_take_any_number_and_keep_one_type_per_field():
    """ModelArgs(dim=np.int64(32)) reached json.dumps as int64 (the checkpoint writer failed);
    a Fraction eps was refused although it is a number."""
    from fractions import Fraction

    from minimistral.checkpoints.export import hf_config
    from minimistral.config import ModelArgs

    a = ModelArgs(dim=np.int64(4096), norm_eps=Fraction(1, 10**5), rope_theta=Decimal("1e4"))
    assert a == ModelArgs() and type(a.dim) is int and type(a.norm_eps) is float
    json.dumps(hf_config(a, "BF16"))
    refused(lambda: ModelArgs(dim=-10**5000), "dim", "5,001 digits")


@pytest.mark.parametrize("progress", [5, "bar", object()])
def test_a_progress_that_is_not_a_function(progress):
    import minimistral

    refused(lambda: minimistral.load_default(progress=progress), "progress must be a function")


def test_ids_of_thousands_of_digits(model):
    refused(lambda: model.generate([10**5000]), "tokens")
    refused(lambda: model.tokenizer.decode([10**5000]), "outside")


# ---- the attention-map APIs and the helpers a notebook calls ---------------------------------------

def test_attention_maps_check_their_cache(model):
    refused(lambda: model.attention_maps([1, 415], cache="x"), "RollingBufferCache")


@pytest.mark.parametrize("prompt, max_tokens, words", [
    ([1.5, 2.7], 2, ["integer ids"]),                 # was cut to [1, 2] silently
    ("abc", 2, ["integer ids"]),
    ([1, 415], -1, ["max_tokens"]),                   # was one extra pass, no error
    ([1, 415], "3", ["max_tokens"]),
    ([1, 415], 10**6, ["attention maps", "GiB"]),     # the [L, H, T, T] maps cannot be meant
])
def test_traced_generate_checks_its_arguments(model, prompt, max_tokens, words):
    from minimistral.attention_maps import traced_generate

    refused(lambda: traced_generate(model, prompt, max_tokens), *words)


def test_figure_helpers_refuse_layers_the_model_lacks(model):
    from minimistral.figures.attention import fig_bos_leaves_window, fig_gqa_sharing

    ids = model.tokenizer.encode("Tom saw a dog and Tom ran home to Mia")
    for layer in (4, -1, 1.5):                        # -1 drew layer 3 titled "Layer -1"
        refused(lambda: fig_gqa_sharing(model, ids, layer=layer), "layer", "4 layers")
        refused(lambda: fig_bos_leaves_window(model, ids, max_tokens=2, layer=layer), "layer")
    refused(lambda: fig_gqa_sharing(model, ids, show=0), "show")
    refused(lambda: fig_gqa_sharing(model, [1]), "at least 2 tokens")


def test_head_roles_refuse_a_subject_that_cannot_be_found(model):
    from minimistral.analysis.heads import head_scores, subject_keys
    from minimistral.figures.attention import fig_head_roles
    from minimistral.training.init import tiny_model

    ids = model.tokenizer.encode("Tom saw a dog and Tom ran home")
    assert subject_keys(model.tokenizer, ids, "Tom")[0].sum() == 2
    assert not subject_keys(model.tokenizer, ids, "Zebra").any()        # absent: no key, no error
    for subject in ("", " ", 5):                                          # "" matched nothing silently
        refused(lambda: fig_head_roles(model, ids, subject=subject), "word")
    refused(lambda: fig_head_roles(model, ids, subject="Zebra"), "does not occur")
    refused(lambda: fig_head_roles(tiny_model(seed=0, tokenizer=False), ids, subject="Tom"), "tokenizer")
    refused(lambda: head_scores(np.zeros((2, 3, 3)), 4), "[L, H, T, T]")
    refused(lambda: head_scores(np.ones((1, 1, 1, 1)), 4), "at least 2 tokens")


def test_group_similarity_checks_the_kv_heads(model):
    from minimistral.analysis.heads import group_similarity

    maps = model.attention_maps(model.tokenizer.encode("Tom saw a dog"))      # H = 4
    for k in (3, 8, 0):
        refused(lambda: group_similarity(maps, k, 16), "n_kv_heads")
