"""Property tests: a mutated GGUF file loads exactly what llama.cpp's own reader sees, or raises our error.

The base is a complete tiny model (one layer, Q8_0 matrices, a 262-token vocabulary) written by
gguf-py's GGUFWriter. Mutations: header bytes overwritten, inserted or deleted, 4- and 8-byte
fields set to extreme counts, the file truncated or extended (700 examples); and every metadata
value replaced by a value of any type, sign and size (500 examples). For each file, opening the
weights, building the tokenizer and a forward pass must either
  * raise MinimistralError (one sentence for the user), or
  * succeed, and then gguf-py's GGUFReader (the outside reference) reads the same file to the same
    tensors (names, types, shapes, the very bytes) and the same hyper-parameters;
nothing else is ever raised.
"""

import struct

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
gguf = pytest.importorskip("gguf")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from reference.gguf_layout import byte_vocab, gguf_bytes  # noqa: E402

from minimistral import MinimistralError, Mistral  # noqa: E402
from minimistral.checkpoints.gguf import open_gguf  # noqa: E402
from minimistral.checkpoints.gguf_vocab import gguf_tokenizer  # noqa: E402

EXTREMES = [0, 1, 2, 3, 8, 31, 32, 33, 255, 256, 2**16, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**63, 2**64 - 1]
SHAPES = {"token_embd.weight": (262, 32), "output_norm.weight": (32,), "output.weight": (262, 32),
          "blk.0.attn_norm.weight": (32,), "blk.0.ffn_norm.weight": (32,), "blk.0.attn_q.weight": (32, 32),
          "blk.0.attn_k.weight": (16, 32), "blk.0.attn_v.weight": (16, 32), "blk.0.attn_output.weight": (32, 32),
          "blk.0.ffn_gate.weight": (64, 32), "blk.0.ffn_up.weight": (64, 32), "blk.0.ffn_down.weight": (32, 64)}


def base_file(path):
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_embedding_length(32)
    w.add_feed_forward_length(64)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_context_length(64)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    tokens, scores, types = byte_vocab(262)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    for name, shape in SHAPES.items():
        x = rng.standard_normal(shape).astype(np.float32) * 0.2
        if len(shape) == 1:
            w.add_tensor(name, 1.0 + x)
        else:
            w.add_tensor(name, gguf.quants.quantize(x, gguf.GGMLQuantizationType.Q8_0),
                         raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    data = path.read_bytes()
    header = gguf.GGUFReader(str(path)).data_offset
    return data, header


class Base:
    """The valid file's bytes and the length of its header (repr kept short for failure reports)."""

    def __init__(self, root):
        self.root = root
        self.data, self.header = base_file(root / "base.gguf")
        self.fields = metadata_of(self.data)

    def __repr__(self):
        return f"Base({len(self.data)} bytes, header {self.header})"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return Base(tmp_path_factory.mktemp("gguf_fuzz"))


def same_as_gguf_reader(path, args, weights):
    """What we loaded is what llama.cpp's gguf-py reads from the same bytes."""
    reader = gguf.GGUFReader(str(path))
    theirs = {t.name: t for t in reader.tensors}
    ours = {t.name: t for t in weights.tensors.values()}
    assert set(theirs) == set(ours)
    for name, t in ours.items():
        r = theirs[name]
        assert r.tensor_type.name == t.dtype
        assert tuple(reversed([int(d) for d in r.shape])) == tuple(t.shape)
        assert np.array_equal(np.ascontiguousarray(r.data).view(np.uint8).ravel(),
                              np.ascontiguousarray(t.raw).view(np.uint8).ravel())
    f = reader.fields
    value = lambda key, default=None: f[key].contents() if key in f else default  # noqa: E731
    assert (args.n_layers, args.dim, args.hidden_dim, args.n_heads) == (
        value("llama.block_count"), value("llama.embedding_length"), value("llama.feed_forward_length"),
        value("llama.attention.head_count"))
    assert args.n_kv_heads == value("llama.attention.head_count_kv", args.n_heads)
    assert np.float32(args.rope_theta) == np.float32(value("llama.rope.freq_base", 10000.0))


def check(path):
    """Open the weights, the tokenizer and run two tokens: our error or a load gguf-py agrees with."""
    try:
        args, weights = open_gguf(path)
    except MinimistralError as e:
        assert str(e) and "\n" not in str(e)
    else:
        same_as_gguf_reader(path, args, weights)
        try:
            logits = Mistral(args, weights).forward(np.array([0, 1]))
            assert logits.shape == (2, args.vocab_size)
        except MinimistralError:
            pass                                    # inf/NaN named where it appears
    try:
        tok = gguf_tokenizer(path)
        ids = tok.encode("hi there")
        assert all(0 <= i < tok.vocab_size for i in ids) and isinstance(tok.decode(ids), str)
    except MinimistralError as e:
        assert str(e) and "\n" not in str(e)


@st.composite
def mutated(draw, data, header):
    b = bytearray(data)
    kind = draw(st.sampled_from(["flip", "field", "insert", "delete", "truncate", "extend", "none"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 3))):
            b[draw(st.integers(0, header - 1))] = draw(st.integers(0, 255))
    elif kind == "field":
        width = draw(st.sampled_from([4, 8]))
        at = draw(st.integers(4, header - width))
        b[at:at + width] = (draw(st.sampled_from(EXTREMES)) % 2 ** (8 * width)).to_bytes(width, "little")
    elif kind == "insert":
        at = draw(st.integers(0, header))
        b[at:at] = draw(st.binary(min_size=1, max_size=8))
    elif kind == "delete":
        at = draw(st.integers(0, header - 1))
        del b[at:at + draw(st.integers(1, 8))]
    elif kind == "truncate":
        del b[draw(st.integers(0, len(b) - 1)):]
    elif kind == "extend":
        b += draw(st.binary(min_size=1, max_size=64))
    return bytes(b)


@settings(max_examples=700, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_files_load_exactly_or_fail_in_one_sentence(base, data):
    path = base.root / "mutated.gguf"
    path.write_bytes(data.draw(mutated(base.data, base.header)))
    check(path)


# ---- every metadata value replaced: the file rebuilt around it ----------------------------------

def metadata_of(data):
    """[(key, value type, packed value)] and the tensor infos of the base file, via GGUFReader."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "b.gguf").write_bytes(data)
        r = gguf.GGUFReader(str(Path(d) / "b.gguf"))
        kv = []
        for key, field in r.fields.items():
            if key.startswith("GGUF."):
                continue
            raw = b"".join(np.asarray(p).tobytes() for p in field.parts[3:])      # after key and type
            kv.append((key, int(field.types[0]), raw))
        tensors = [(t.name, [int(x) for x in t.shape], int(t.tensor_type), t.data_offset - r.data_offset)
                   for t in r.tensors]
        return kv, tensors, data[r.data_offset:]


def packed_values():
    number = st.sampled_from(EXTREMES) | st.integers(-(2**63), 2**64 - 1)
    scalars = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 10: "<Q", 11: "<q"}

    def pack(vtype, x):
        fmt = scalars[vtype]
        bits = struct.calcsize(fmt) * 8
        x = x % 2**bits
        if fmt.islower() and x >= 2 ** (bits - 1):
            x -= 2**bits
        return struct.pack(fmt, x)

    ints = st.tuples(st.sampled_from(list(scalars)), number).map(lambda t: (t[0], pack(*t)))
    floats = st.tuples(st.sampled_from([6, 12]), st.floats(allow_nan=True, allow_infinity=True, width=32)).map(
        lambda t: (t[0], struct.pack("<f" if t[0] == 6 else "<d", t[1])))
    strings = st.text(max_size=12).map(lambda s: (8, struct.pack("<Q", len(s.encode())) + s.encode()))
    bools = st.integers(0, 255).map(lambda x: (7, bytes([x])))
    arrays = st.lists(st.integers(0, 2**31 - 1), max_size=5).map(
        lambda xs: (9, struct.pack("<IQ", 5, len(xs)) + b"".join(struct.pack("<i", x) for x in xs)))
    return ints | floats | strings | bools | arrays


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_metadata_value_loads_exactly_or_fails_in_one_sentence(base, data):
    kv, tensors, tensor_data = base.fields
    kv = list(kv)
    i = data.draw(st.integers(0, len(kv) - 1))
    vtype, value = data.draw(packed_values())
    kv[i] = (kv[i][0], vtype, value)
    path = base.root / "values.gguf"
    path.write_bytes(gguf_bytes(kv, tensors, data=tensor_data))
    check(path)
