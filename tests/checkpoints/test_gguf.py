"""GGUF files (llama.cpp's format) against outside references.

- logits equal transformers' (its own GGUF reader: its config mapping, gguf-py's dequantization,
  its undoing of llama.cpp's q/k permutation) for every supported type and a Q4_K_M-like mix,
  on GQA and MQA models, with and without a sliding window; files written by
  tests/reference/gguf_layout.py as llama.cpp's converter writes them (not by minimistral);
- the tokenizer built from a file's vocabulary gives mistral-common's ids (v1 and v3);
- `minimistral quantize` writes files transformers reads back to our logits;
- hostile headers end in one MinimistralError sentence; the fuzz tests are in test_gguf_fuzz.py.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import requires_transformers
from reference.gguf_layout import gguf_bytes, text, u32  # noqa: E402  (tests/ is on sys.path)

import minimistral
from minimistral import MinimistralError
from minimistral.checkpoints.gguf import open_gguf
from minimistral.checkpoints.gguf_vocab import gguf_tokenizer
from minimistral.checkpoints.layout import detect_layout

pytest.importorskip("gguf")

TOKENS = np.random.default_rng(3).integers(3, 300, 13)       # longer than the windows below
CONFIGS = {   # rows of 256 (or 512) weights: whole Q8_0/Q4_0 blocks and whole K-quant super-blocks
    "gqa": dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=300),
    "mqa": dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=8,
                num_key_value_heads=1, vocab_size=300, rope_theta=1e6),
    "head_dim": dict(hidden_size=256, intermediate_size=256, num_hidden_layers=1, num_attention_heads=8,
                     num_key_value_heads=2, head_dim=64, vocab_size=300),          # H * Hd = 512 != D
}
MIX = {"attn_v": "Q6_K", "ffn_down": "Q6_K", "output.weight": "Q6_K"}       # like llama.cpp's Q4_K_M
CASES = [(t, "gqa", 5) for t in ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K", "Q4_K_M")] + \
        [("Q8_0", "mqa", None), ("Q4_K_M", "mqa", 3), ("Q4_0", "head_dim", None), ("Q6_K", "head_dim", 4)]


def rel_err(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(scope="module")
def hf(tmp_path_factory):
    """{config name: (transformers model, directory)}."""
    from reference import hf_models

    root = tmp_path_factory.mktemp("gguf")
    return {name: (hf_models.make_hf_model({**cfg, "sliding_window": None}, seed=i, scale=1.0), root)
            for i, (name, cfg) in enumerate(CONFIGS.items())}


def write(hf, qtype, config, **kw):
    from reference import gguf_layout

    model, root = hf[config]
    base = "Q4_K" if qtype == "Q4_K_M" else qtype
    path = root / f"{config}-{qtype}-{kw.get('permute_qk', True)}.gguf"
    if not path.exists():
        gguf_layout.write_gguf(model, path, base, types=MIX if qtype == "Q4_K_M" else None, **kw)
    return path


@requires_transformers
@pytest.mark.parametrize("qtype, config, window", CASES)
def test_logits_equal_transformers_gguf_reader(hf, qtype, config, window):
    from reference import gguf_layout

    path = write(hf, qtype, config)
    ours = minimistral.load(path, sliding_window=window).forward(TOKENS)
    ref = gguf_layout.logits(gguf_layout.transformers_from_gguf(path, sliding_window=window), TOKENS)
    assert rel_err(ours, ref) <= 1e-5
    assert (ours.argmax(-1) == ref.argmax(-1)).all()
    if window is not None:      # the window matters on these tokens: without it, other logits
        assert rel_err(minimistral.load(path).forward(TOKENS), ref) > 1e-3


@requires_transformers
def test_q_and_k_rows_are_llama_cpps_order(hf):
    """An F32 file written as llama.cpp's converter writes it runs the original HF model; the same
    file without llama.cpp's q/k permutation does not (so the row order is really exercised)."""
    from reference import gguf_layout

    model, _ = hf["gqa"]
    original = gguf_layout.logits(model, TOKENS)
    assert rel_err(minimistral.load(write(hf, "F32", "gqa")).forward(TOKENS), original) <= 1e-5
    assert rel_err(minimistral.load(write(hf, "F32", "gqa", permute_qk=False)).forward(TOKENS), original) > 1e-2


def mapped(a) -> bool:
    import mmap

    while isinstance(a, np.ndarray):
        a = a.base
    return isinstance(a.obj if isinstance(a, memoryview) else a, mmap.mmap)


@requires_transformers
def test_weights_stay_quantized_in_the_mapped_file(hf):
    path = write(hf, "Q4_K_M", "gqa")
    args, weights = open_gguf(path)
    wq, wv = weights.tensors["layers.0.attention.wq.weight"], weights.tensors["layers.0.attention.wv.weight"]
    assert (wq.dtype, wq.shape, wq.raw.dtype, wq.raw.shape) == ("Q4_K", (256, 256), np.uint8, (256, 144))
    assert (wv.dtype, wv.shape, wv.raw.shape) == ("Q6_K", (128, 256), (128, 210))
    assert all(mapped(t.raw) for t in weights.tensors.values())              # views of the mapped file
    assert weights.tensors["norm.weight"].dtype == "F32"
    assert (args.n_layers, args.dim, args.n_heads, args.n_kv_heads, args.sliding_window) == (2, 256, 4, 2, None)


# ---- the tokenizer inside a file, against mistral-common ------------------------------------------

def vocabulary_file(path: Path, model_file: Path) -> Path:
    """A GGUF holding only a tokenizer, read from a sentencepiece model the way llama.cpp does."""
    import gguf
    import sentencepiece
    from reference import gguf_layout

    tokens, scores, types = gguf_layout.vocab_of(sentencepiece.SentencePieceProcessor(model_file=str(model_file)))
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


TEXTS = ["Hello world", " leading space", "two  spaces and trailing ", "a\n\nb\ttab", "héllo wörld, 日本語 🙂",
         "", "<s>not a control</s> [INST]", "x\x00y", "ẞtraße — “quotes” …", "1234567.89", "    indented code:\n\tx = 1"]


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_tokenizer_from_the_file_equals_mistral_common(tmp_path, version):
    mistral_common = pytest.importorskip("mistral_common")
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
    from test_tokenizer import CONVERSATIONS, reference_chat_ids

    data = Path(mistral_common.__file__).parent / "data"
    model_file = data / ("tokenizer.model.v1" if version == "v1" else "mistral_instruct_tokenizer_240323.model.v3")
    tok = gguf_tokenizer(vocabulary_file(tmp_path / "vocab.gguf", model_file))
    reference = getattr(MistralTokenizer, version)().instruct_tokenizer.tokenizer
    assert tok.vocab_size == reference.n_words == (32000 if version == "v1" else 32768)
    assert (tok.inst_ids is not None) == (version == "v3")
    for sample in TEXTS:
        assert tok.encode(sample) == reference.encode(sample, bos=True, eos=False), sample
        assert tok.decode(tok.encode(sample)) == sample
    for name in ("single", "multi_system", "non_ascii", "spaces_kept"):
        assert tok.encode_chat(CONVERSATIONS[name]) == reference_chat_ids(CONVERSATIONS[name], version), name


# ---- quantize: files llama.cpp's readers read, and our logits ------------------------------------

@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    from minimistral.checkpoints.quantize import quantize

    root = tmp_path_factory.mktemp("quantized")
    calls = []
    out = {q: quantize(minimistral.DEFAULT_MODEL, root / f"story.{q}.gguf", q, progress=lambda *a: calls.append(a))
           for q in ("q8_0", "q4_0")}
    return out, calls


def test_quantize_reads_back_as_the_source(quantized):
    out, calls = quantized
    source = minimistral.load_default()
    ids = source.tokenizer.encode("The cat sat on the mat and saw the dog go to the")
    for q, bound in (("q8_0", 0.02), ("q4_0", 0.25)):
        summary = out[q]
        L = source.args.n_layers                  # 7 matrices a layer + embedding + output; 2 norms a layer + final
        assert summary["types"] == {q.upper(): 7 * L + 2, "F32": 2 * L + 1}
        model = minimistral.load(summary["path"])
        assert model.args.replace(norm_eps=1e-5) == source.args and model.args.sliding_window == 32
        assert model.tokenizer.encode("Où est le café ? 🙂") == source.tokenizer.encode("Où est le café ? 🙂")
        assert rel_err(model.forward(np.array(ids)), source.forward(np.array(ids))) < bound
    L = source.args.n_layers
    assert calls[-1][:2] == (L, L) and calls[-1][2] == calls[-1][3]          # progress reached the end


@requires_transformers
def test_transformers_reads_what_quantize_writes(quantized):
    """transformers' GGUF reader sees our file as llama.cpp would: same logits (the shipped model's
    window set on both sides, since llama.cpp's architecture has no window key it reads)."""
    from reference import gguf_layout

    out, _ = quantized
    ids = minimistral.load_default().tokenizer.encode("One day, a girl named Ella woke up early. She")
    path = out["q4_0"]["path"]                    # (q8_0 takes the same path; transformers reads 32000
    W = minimistral.load_default().args.sliding_window
    ref = gguf_layout.logits(gguf_layout.transformers_from_gguf(path, sliding_window=W), ids)  # pieces slowly)
    assert rel_err(minimistral.load(path).forward(np.array(ids)), ref) <= 1e-5


def test_quantize_command(tmp_path, capsys):
    from minimistral.cli import main

    out = tmp_path / "s.gguf"
    assert main(["quantize", "--type", "q4_0", str(minimistral.DEFAULT_MODEL), str(out)]) == 0
    captured = capsys.readouterr()
    L = minimistral.load_default().args.n_layers
    assert "wrote" in captured.out and f"Q4_0 ({7 * L + 2} tensors)" in captured.out and "quantizing" in captured.err
    assert main(["quantize", "--type", "q4_0", str(minimistral.DEFAULT_MODEL), str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert not (tmp_path / "s.gguf.partial").exists()
    assert main(["info", "--model", str(out)]) == 0
    info = capsys.readouterr().out
    assert "GGUF (llama.cpp)" in info and f"attn_q       Q4_0 x {L}" in info and "32 (sliding window" in info


# ---- finding the file, the window, the CLI ------------------------------------------------------

@requires_transformers
def test_a_directory_with_one_file_and_an_ollama_blob(hf, tmp_path):
    import shutil

    path = write(hf, "Q8_0", "gqa")
    (tmp_path / "one").mkdir()
    shutil.copy(path, tmp_path / "one" / "model.gguf")
    blob = tmp_path / "sha256-0123abcd"                       # Ollama: no suffix, GGUF magic
    shutil.copy(path, blob)
    assert detect_layout(tmp_path / "one") == detect_layout(blob) == detect_layout(path) == "gguf"
    expected = minimistral.load(path).forward(TOKENS)
    assert np.array_equal(minimistral.load(tmp_path / "one").forward(TOKENS), expected)
    assert np.array_equal(minimistral.load(blob).forward(TOKENS), expected)
    shutil.copy(path, tmp_path / "one" / "other.gguf")
    with pytest.raises(MinimistralError, match="holds 2 GGUF files"):
        minimistral.load(tmp_path / "one")
    with pytest.raises(MinimistralError, match="sliding_window must be a whole number"):
        minimistral.load(path, sliding_window=0)


@requires_transformers
def test_cli_says_the_window_is_assumed(hf, capsys):
    from minimistral.cli import main

    path = str(write(hf, "Q8_0", "gqa"))
    assert main(["info", "--model", path]) == 0
    out = capsys.readouterr().out
    assert "full causal attention assumed" in out and "ffn_down     Q8_0 x 2" in out
    assert main(["info", "--model", path, "--window", "5"]) == 0
    assert "5 (sliding window attention, from --window)" in capsys.readouterr().out
    args = ["generate", "--model", path, "--prompt", "", "--max-tokens", "2", "--temperature", "0"]
    assert main(args) == 0
    assert "holds no sliding window: full causal attention assumed" in capsys.readouterr().err
    assert main(args + ["--window", "4096"]) == 0
    assert "sliding window" not in capsys.readouterr().err
    assert main(args + ["--window", "-1"]) == 2


# ---- hostile and unsupported headers: one sentence each -------------------------------------------

BASE = [("general.architecture", *text("llama")), ("llama.block_count", *u32(1)),
        ("llama.embedding_length", *u32(32)), ("llama.feed_forward_length", *u32(32)),
        ("llama.attention.head_count", *u32(2))]


def tiny_tensors(dim=32, vocab=4, ffn=32, type_id=0):
    """A complete 1-layer model of F32 tensors (shapes fastest first, as GGUF lists them)."""
    shapes = [("token_embd.weight", [dim, vocab]), ("output_norm.weight", [dim]), ("output.weight", [dim, vocab])]
    shapes += [(f"blk.0.{n}.weight", s) for n, s in (
        ("attn_norm", [dim]), ("ffn_norm", [dim]), ("attn_q", [dim, dim]), ("attn_k", [dim, dim]),
        ("attn_v", [dim, dim]), ("attn_output", [dim, dim]), ("ffn_gate", [dim, ffn]), ("ffn_up", [dim, ffn]),
        ("ffn_down", [ffn, dim]))]
    tensors, offset = [], 0
    for name, dims in shapes:
        tensors.append((name, dims, type_id, offset))
        offset += -(-int(np.prod(dims)) * 4 // 32) * 32
    return tensors, bytes(offset)


def test_a_handmade_file_loads(tmp_path):
    tensors, data = tiny_tensors()
    (tmp_path / "m.gguf").write_bytes(gguf_bytes(BASE, tensors, data=data))
    args, weights = open_gguf(tmp_path / "m.gguf")
    assert (args.dim, args.n_layers, args.n_heads, args.n_kv_heads, args.head_dim, args.vocab_size) == (32, 1, 2, 2, 16, 4)
    assert (args.sliding_window, args.rope_theta, args.context_len) == (None, 10000.0, 32768)
    assert weights.tensors["layers.0.feed_forward.w2.weight"].shape == (32, 32)


def hostile():
    tensors, data = tiny_tensors()
    big = 2**62
    q5k = [(n, d, 13 if "attn_q" in n else t, o) for n, d, t, o in tensors]
    return {
        "not GGUF": (b"PK\x03\x04" + bytes(60), "does not start with 'GGUF'"),
        "too short": (b"GGUF\x03\0\0\0", "too short"),
        "version 1": (gguf_bytes(BASE, version=1), "version 1"),
        "big-endian": (b"GGUF" + struct.pack(">I", 3) + bytes(40), "big-endian"),
        "version 9": (gguf_bytes(BASE, version=9), "does not know"),
        "tensor count": (b"GGUF" + struct.pack("<IQQ", 3, big, 0), "far more"),
        "key count": (b"GGUF" + struct.pack("<IQQ", 3, 0, big) + bytes(16), "far more"),
        "key length": (gguf_bytes([("k" * 8, *u32(1))]).replace(struct.pack("<Q", 8), struct.pack("<Q", big), 1),
                       "claims"),
        "string length": (gguf_bytes([("x", 8, struct.pack("<Q", big))]), "claims"),
        "array length": (gguf_bytes([("x", 9, struct.pack("<IQ", 0, big))]), "more than"),
        "array cut": (gguf_bytes([("x", 9, struct.pack("<IQ", 0, 1000) + bytes(10))]), "ends early"),
        "array of strings": (gguf_bytes([("x", 9, struct.pack("<IQ", 8, 2**21))]), "more than"),
        "value type": (gguf_bytes([("x", 13, b"")]), "unknown value type 13"),
        "array type": (gguf_bytes([("x", 9, struct.pack("<IQ", 77, 1))]), "unknown type 77"),
        "key twice": (gguf_bytes([("x", *u32(1)), ("x", *u32(2))]), "twice"),
        "key not UTF-8": (gguf_bytes([(b"\xff\xfe", *u32(1))]), "not UTF-8"),
        "alignment": (gguf_bytes([("general.alignment", *u32(48))]), "power of two"),
        "alignment type": (gguf_bytes([("general.alignment", 10, struct.pack("<Q", 32))]), "power of two"),
        "dims": (gguf_bytes(BASE, [("t", [1] * 5, 0, 0)]), "5 dimensions"),
        "empty dim": (gguf_bytes(BASE, [("t", [0], 0, 0)]), "shape"),
        "Q5_K": (gguf_bytes(BASE, q5k, data=data), "stored as Q5_K"),
        "type 99": (gguf_bytes(BASE, [("t", [32], 99, 0)], data=bytes(128)), "GGML type 99"),
        "ragged row": (gguf_bytes(BASE, [("t", [33], 8, 0)], data=bytes(64)), "not a multiple"),
        "misaligned": (gguf_bytes(BASE, [("t", [8], 0, 4)], data=bytes(64)), "alignment"),
        "truncated": (gguf_bytes(BASE, tensors, data=data[:-1]), "truncated"),
        "overlap": (gguf_bytes(BASE, [("a", [16], 0, 0), ("b", [16], 0, 32)], data=bytes(128)), "overlap"),
        "tensor twice": (gguf_bytes(BASE, [("a", [8], 0, 0), ("a", [8], 0, 32)], data=bytes(64)), "twice"),
        "architecture": (gguf_bytes([("general.architecture", *text("qwen2"))] + BASE[1:], tensors, data=data),
                         "architecture 'qwen2'"),
        "Mixtral": (gguf_bytes(BASE + [("llama.expert_count", *u32(8))], tensors, data=data), "Mixtral"),
        "split": (gguf_bytes(BASE + [("split.count", 2, struct.pack("<H", 3))], tensors, data=data), "split GGUF"),
        "rope scaling": (gguf_bytes(BASE + [("llama.rope.scaling.type", *text("yarn"))], tensors, data=data),
                         "RoPE scaling"),
        "no block count": (gguf_bytes([kv for kv in BASE if kv[0] != "llama.block_count"], tensors, data=data),
                           "no 'llama.block_count'"),
        "wrong type": (gguf_bytes([kv if kv[0] != "llama.block_count" else ("llama.block_count", *text("1"))
                                   for kv in BASE], tensors, data=data), "wrong type"),
        "too many layers": (gguf_bytes([kv if kv[0] != "llama.block_count" else ("llama.block_count", *u32(10**8))
                                        for kv in BASE], tensors, data=data), "lack 'blk.1.attn_norm.weight'"),
        "width": (gguf_bytes([kv if kv[0] != "llama.embedding_length" else ("llama.embedding_length", *u32(64))
                              for kv in BASE], tensors, data=data), "config implies"),
        "unknown tensor": (gguf_bytes(BASE, tensors + [("rope_freqs.weight", [8], 0, len(data))],
                                      data=data + bytes(32)), "'rope_freqs.weight'"),
    }


@pytest.mark.parametrize("name", list(hostile()))
def test_hostile_headers_are_one_sentence(tmp_path, name):
    content, words = hostile()[name]
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(MinimistralError, match=words.replace("(", r"\(").replace(")", r"\)")) as e:
        open_gguf(path)
    assert "\n" not in str(e.value) and str(e.value).endswith((".", ")", "?"))


def vocab_kv(tokens=("<unk>", "<s>", "</s>"), types=(2, 3, 3), model="llama", bos=1):
    arr = struct.pack("<IQ", 8, len(tokens)) + b"".join(struct.pack("<Q", len(t.encode())) + t.encode() for t in tokens)
    kv = [("tokenizer.ggml.model", *text(model)), ("tokenizer.ggml.tokens", 9, arr),
          ("tokenizer.ggml.token_type", 9, struct.pack("<IQ", 5, len(types)) + struct.pack(f"<{len(types)}i", *types)),
          ("tokenizer.ggml.bos_token_id", *u32(bos))]
    return kv


@pytest.mark.parametrize("kv, words", [
    (vocab_kv(model="gpt2"), "'gpt2' tokenizer"),
    (vocab_kv(types=(2, 3)), "differ in length"),
    (vocab_kv(types=(2, 3, 9)), "outside 1..6"),
    (vocab_kv(bos=7), "not all among"),
    (vocab_kv(tokens=("<unk>", "<s>", "<s>")), "sentencepiece does not accept"),
    (vocab_kv()[:1], "no 'tokenizer.ggml.tokens'"),
])
def test_bad_vocabularies_are_one_sentence(tmp_path, kv, words):
    path = tmp_path / "vocab.gguf"
    path.write_bytes(gguf_bytes(kv))
    with pytest.raises(MinimistralError, match=words):
        gguf_tokenizer(path)


def test_the_header_is_not_read_past_a_truncation_anywhere(tmp_path):
    """Every prefix of a real file's header: an error naming the truncation, never another exception."""
    tensors, data = tiny_tensors()
    full = gguf_bytes(BASE + vocab_kv(), tensors, data=data)
    header = len(full) - len(data)
    for cut in range(0, header + 1, 3):
        (tmp_path / "cut.gguf").write_bytes(full[:cut])
        with pytest.raises(MinimistralError):
            open_gguf(tmp_path / "cut.gguf")


def test_the_vocabulary_quantize_writes_keeps_every_piece_type():
    """v3's tokenizer has 20 user-defined pieces, which sentencepiece's API does not report: the
    types come from its model file (a hand-written protobuf reader), and the vocabulary written
    into a GGUF file tokenizes as the original (sentencepiece itself, the reference here)."""
    mistral_common = pytest.importorskip("mistral_common")
    import sentencepiece

    from minimistral.checkpoints.gguf_vocab import sentencepiece_proto, vocabulary

    path = Path(mistral_common.__file__).parent / "data" / "mistral_instruct_tokenizer_240323.model.v3"
    sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
    tokens, scores, types = vocabulary(sp)
    assert {k: types.count(k) for k in set(types)} == {1: 31741, 2: 1, 3: 750, 4: 20, 6: 256}
    assert [tokens[i] for i in range(len(types)) if types[i] == 4][:2] == ["[REFERENCE_DOC_19]", "[REFERENCE_DOC_18]"]
    rebuilt = sentencepiece.SentencePieceProcessor(
        model_proto=sentencepiece_proto(tokens, scores, types, sp.unk_id(), sp.bos_id(), sp.eos_id()))
    for sample in TEXTS + ["x [REFERENCE_DOC_3] y", "[IMG] [TOOL_CALLS]"]:
        assert rebuilt.encode(sample) == sp.encode(sample), sample
    assert sp.encode("x [REFERENCE_DOC_3] y")[2] == 767                  # the user-defined piece, whole
