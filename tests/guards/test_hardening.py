"""Issue 14: every bad input, pipe and limit gets a clean answer; no silent wrong output.

One section per group of the issue. CLI promises are checked through a real subprocess where
the process boundary matters (pipes, closed descriptors, bytes in argv and stdin, FIFOs), else
through cli.main in-process as tests/test_errors.py does; API promises are checked directly.
"""

import json
import os
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, TESTS
from tiny_checkpoint import TINY_ARGS, write_tiny_hf, write_tiny_native

import minimistral
from minimistral import MinimistralError, cli
from minimistral.checkpoints.pth import read_pth
from minimistral.checkpoints.safetensors import read_safetensors, write_safetensors
from minimistral.fast import attention as fast_attention
from minimistral.guards import limits
from minimistral.model import Mistral
from minimistral.training.init import tiny_model

GOLDEN = TESTS / "fixtures" / "tiny_hf_bf16"


def cli_run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code, err, *words):
    """Exit 2 and exactly one line on stderr, the error, holding every word (case-insensitive)."""
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("minimistral: error:"), (code, err)
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])
    return lines[0]


def not_loading(err) -> str:
    """stderr without the load progress bar's line."""
    err = err.decode() if isinstance(err, bytes) else err
    return "\n".join(ln for ln in err.splitlines() if not ln.startswith("loading "))


def proc(*argv, **kw):
    """minimistral in a fresh process (argv items may be bytes: a shell passes bytes)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 120)
    return subprocess.run([sys.executable, "-m", "minimistral", *argv], env=env, **kw)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_native(tmp_path_factory.mktemp("tiny") / "m")


@pytest.fixture
def hf(tmp_path):
    d = tmp_path / "hf"
    shutil.copytree(GOLDEN / "model", d)
    return d


def edit_json(path, **changes):
    cfg = json.loads(path.read_text())
    cfg.update(changes)
    path.write_text(json.dumps(cfg))


# ---- 1. sizes believed before they are checked ---------------------------------------------------

@pytest.mark.parametrize("changes, words", [
    ({"num_hidden_layers": 10**8}, ["lack", "num_hidden_layers=100000000"]),
    ({"hidden_size": 10**9, "head_dim": 16}, ["shape"]),
    ({"head_dim": 10**9}, ["shape"]),
    ({"sliding_window": 10**10}, ["sliding_window", "at most"]),
    ({"vocab_size": 2**40}, ["vocab_size", "at most"]),
])
def test_huge_config_sizes_are_refused_before_allocating(capsys, hf, changes, words):
    edit_json(hf / "config.json", **changes)
    tracemalloc.start()
    try:
        code, out, err = cli_run(capsys, "info", "--model", hf)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_error(code, err, "config", *words)
    assert peak < 50 * 2**20, peak                   # nothing sized by the claim was allocated


def test_a_window_the_machine_cannot_hold_is_refused_before_allocating(monkeypatch):
    args = TINY_ARGS.replace(sliding_window=10**9)
    model = tiny_model(args, tokenizer=False)
    with pytest.raises(MinimistralError, match=r"KV cache for a window of 1,000,000,000 positions.*RAM"):
        model.new_cache()
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**10)     # a 1 KiB machine
    with pytest.raises(MinimistralError, match="KV cache"):
        Mistral(TINY_ARGS, model.weights).new_cache()


def test_pth_entry_is_capped_before_it_inflates(tmp_path):
    path = tmp_path / "x.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/byteorder", b"\0" * (48 * 2**20), compress_type=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20                 # 48 MiB of zeros deflate to ~50 KiB
    tracemalloc.start()
    try:
        with pytest.raises(MinimistralError, match="byteorder would inflate"):
            read_pth(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak


def test_json_files_are_capped_by_size(capsys, hf):
    with open(hf / "config.json", "r+b") as f:
        f.truncate(100 * 2**20)                        # sparse: 100 MB of nothing, instantly
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "config.json", "bytes", "right file")


# ---- 2. unbounded work from a valid model --------------------------------------------------------

def test_bounded_attention_and_chunks_keep_the_golden_logits(monkeypatch):
    """Scores in blocks of 2 queries and pre-fill chunks of 3 tokens: transformers' logits still."""
    tokens, expected = np.load(GOLDEN / "tokens.npy"), np.load(GOLDEN / "logits.npy")
    model = minimistral.load(GOLDEN / "model")
    a = model.args
    monkeypatch.setattr(fast_attention, "SCORE_BYTES", 4 * a.n_heads * len(tokens) * 2)
    monkeypatch.setattr(limits, "PREFILL_BYTES", 3 * limits.bytes_per_token(a))
    assert model.chunk_tokens(10**6, len(tokens)) == 3          # a user's huge chunk is capped
    logits = model.prefill(tokens, chunk_size=10**6, all_logits=True)
    assert np.abs(logits - expected).max() / np.abs(expected).max() < 1e-5
    assert np.abs(model.forward(tokens) - expected).max() / np.abs(expected).max() < 1e-5


def test_prefill_memory_is_bounded_without_a_window(monkeypatch):
    """No window and a user chunk of 10^6: the old pre-fill built [K, G, T, T] scores (144 MB here)."""
    model = tiny_model(TINY_ARGS.replace(sliding_window=None), tokenizer=False)
    monkeypatch.setattr(limits, "PREFILL_BYTES", 8 * 2**20)
    monkeypatch.setattr(fast_attention, "SCORE_BYTES", 2**20)
    ids = np.random.default_rng(0).integers(3, 32000, 2000)   # one pass: 64 MB of scores alone
    tracemalloc.start()
    try:
        logits = model.prefill(ids, chunk_size=10**6)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert logits.shape == (1, 32000) and peak < 24 * 2**20, peak


def test_a_prompt_past_what_the_cache_can_hold_is_a_clear_error(monkeypatch):
    model = tiny_model(TINY_ARGS.replace(sliding_window=None), tokenizer=False)
    cache = model.new_cache()
    model.prefill([1, 2, 3], cache)
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**20)
    with pytest.raises(MinimistralError, match="KV cache for .* positions.*shorter text"):
        model.prefill(np.arange(3, 4000), cache)
    assert cache.length == 3                          # rolled back: still usable
    monkeypatch.undo()
    assert model.decode(5, cache).shape == (32000,)


def test_all_logits_that_cannot_fit_are_refused(monkeypatch):
    model = tiny_model(TINY_ARGS, tokenizer=False)
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**20)
    with pytest.raises(MinimistralError, match="logits of all 100 positions"):
        model.prefill(np.arange(1, 101), all_logits=True)


# ---- 3. silent wrong results ---------------------------------------------------------------------

@pytest.mark.parametrize("name, value, where", [
    ("norm.weight", np.nan, "final norm"),
    ("norm.weight", 3e38, "final norm"),
    ("output.weight", np.inf, "output layer"),
    ("tok_embeddings.weight", np.nan, "token embeddings"),
])
def test_non_finite_final_layers_are_named(tmp_path, name, value, where):
    def poison(arrays):
        arrays[name] = arrays[name].copy()
        arrays[name][...] = value
    d = write_tiny_native(tmp_path / "m", edit=poison, dtype="F32")
    r = proc("generate", "--model", str(d), "--prompt", "hi", "--max-tokens", "2")
    one_error(r.returncode, not_loading(r.stderr), where, "inf or NaN")     # no NumPy warning lines
    assert r.stdout == b""


def test_two_shards_with_one_tensor_are_refused(capsys, hf):
    tensors = {n: t.float32() for n, t in read_safetensors(hf / "model.safetensors").items()}
    (hf / "model.safetensors").unlink()
    write_safetensors(hf / "model-00001-of-00002.safetensors", tensors)
    write_safetensors(hf / "model-00002-of-00002.safetensors", {"model.norm.weight": tensors["model.norm.weight"] * 0})
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "model.norm.weight", "both", "00001", "00002")


def test_an_index_that_disagrees_with_the_shards_is_refused(capsys, hf):
    """Same kind as two shards holding one name (beyond the issue): the index says where each is."""
    tensors = {n: t.float32() for n, t in read_safetensors(hf / "model.safetensors").items()}
    (hf / "model.safetensors").unlink()
    head = {"lm_head.weight": tensors.pop("lm_head.weight")}
    write_safetensors(hf / "model-00001-of-00002.safetensors", tensors)
    write_safetensors(hf / "model-00002-of-00002.safetensors", head)
    weight_map = {n: "model-00001-of-00002.safetensors" for n in [*tensors, "lm_head.weight"]}
    weight_map["model.norm.weight"] = "model-00002-of-00002.safetensors"     # wrong
    (hf / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "model.norm.weight", "index")


def test_duplicate_keys_in_a_safetensors_header_are_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    write_safetensors(path, {"a": np.ones(2, np.float32), "b": np.zeros(2, np.float32)})
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    head = data[8:8 + n].replace(b'"b"', b'"a"')       # the same name twice: json keeps the last
    path.write_bytes(data[:8] + head + data[8 + n:])
    with pytest.raises(MinimistralError, match="'a'.* twice"):
        read_safetensors(path)


def test_duplicate_keys_in_config_json_are_refused(capsys, hf):
    text = (hf / "config.json").read_text().rstrip().rstrip("}") + ', "hidden_size": 128}'
    (hf / "config.json").write_text(text)
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "hidden_size", "twice")


def _torch_pth(tmp_path):
    torch = pytest.importorskip("torch")
    tensors = {"a": torch.arange(12, dtype=torch.float32).view(3, 4), "b": torch.arange(5.0) + 100}
    path = tmp_path / "x.pth"
    torch.save(tensors, path)
    return path, {k: v.numpy() for k, v in tensors.items()}


def _local_headers(data: bytes):
    """{entry name: offset of its local header}, from the central directory (zipfile)."""
    import io
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: i.header_offset for i in z.infolist()}


@pytest.mark.parametrize("delta", [-4, -1, 1, 4, 8])
def test_pth_local_extra_length_that_moves_the_data_is_refused(tmp_path, delta):
    path, _ = _torch_pth(tmp_path)
    data = bytearray(path.read_bytes())
    off = next(o for n, o in _local_headers(bytes(data)).items() if n.endswith("data/0"))
    extra = int.from_bytes(data[off + 28:off + 30], "little")
    data[off + 28:off + 30] = (extra + delta).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(MinimistralError, match="zip entry"):
        read_pth(path)


def test_pth_central_extra_length_differing_from_local_is_read_correctly(tmp_path):
    """torch pads the local extra field only: local and central lengths differ in every real file."""
    path, want = _torch_pth(tmp_path)
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.endswith("data/0"))
        assert len(info.extra) == 0
    got = read_pth(path)
    assert all(np.array_equal(got[k].float32(), v) for k, v in want.items())


def test_pth_central_offset_pointing_at_another_entry_is_refused(tmp_path):
    path, _ = _torch_pth(tmp_path)
    data = bytearray(path.read_bytes())
    heads = _local_headers(bytes(data))
    name0 = next(n for n in heads if n.endswith("data/0")).encode()
    off1 = next(o for n, o in heads.items() if n.endswith("data/1"))
    i = data.index(b"PK\x01\x02")                      # walk the central directory to storage 0
    while data[i + 46:i + 46 + len(name0)] != name0:
        i = data.index(b"PK\x01\x02", i + 4)
    data[i + 42:i + 46] = off1.to_bytes(4, "little")   # storage 0's entry now points at storage 1
    path.write_bytes(bytes(data))
    with pytest.raises(MinimistralError, match="disagrees|runs into|descriptor"):
        read_pth(path)


def test_a_cache_from_another_model_is_refused():
    a = tiny_model(TINY_ARGS, tokenizer=False)
    cache = a.new_cache()
    a.prefill([1, 2, 3], cache)
    for other in (TINY_ARGS.replace(sliding_window=4), TINY_ARGS.replace(n_kv_heads=4),
                  TINY_ARGS.replace(n_layers=3), TINY_ARGS.replace(rope_theta=1e6)):
        b = tiny_model(other, tokenizer=False)
        with pytest.raises(MinimistralError, match="another model|rope_theta"):
            b.decode(4, cache)
        with pytest.raises(MinimistralError, match="another model|rope_theta"):
            b.session(cache)
    assert cache.length == 3


def test_two_live_streams_of_one_session_are_refused():
    model = tiny_model(seed=0)
    chat = model.session()
    first = chat.stream([1, 415], max_tokens=5, eos_id=None)
    next(first)
    with pytest.raises(MinimistralError, match="stream under way"):
        chat.stream([1, 5255], max_tokens=5)
    assert chat.pending[:1] != [5255] and 5255 not in chat.pending
    rest = list(first)                                 # the first goes on undisturbed
    assert len(rest) == 4
    assert len(chat.generate([], max_tokens=2, eos_id=None)) == 2      # finished: a new one is fine
    second = chat.stream([], max_tokens=3, eos_id=None)
    second.close()                                     # closed: also fine
    chat.generate([], max_tokens=1, eos_id=None)


# ---- 4. text and bytes ---------------------------------------------------------------------------

@pytest.mark.parametrize("option, raw", [("--prompt", b"caf\xe9"), ("--prompt", b"\xff"),
                                         ("--system", b"\xc3\x28")])
def test_invalid_utf8_in_argv_is_a_clear_error(tiny, option, raw):
    argv = ["chat" if option == "--system" else "generate", "--model", str(tiny), option, raw]
    if option == "--system":
        r = proc(*argv, input=b"hi\n")
    else:
        r = proc(*argv, "--max-tokens", "1")
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1, err
    assert option in err and "not valid UTF-8" in err and "0x" in err


@pytest.mark.parametrize("line, words", [(b"caf\xe9 au lait\n", ["chat line 1", "0xe9"]),
                                         ("hello\n".encode("utf-16"), ["chat line 1", "UTF-16"])])
def test_invalid_utf8_on_chat_stdin_is_a_clear_error(tiny, line, words):
    r = proc("chat", "--model", str(tiny), "--max-tokens", "1", input=line)
    err = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and err[-1].startswith("minimistral: error:"), err
    assert all(w in err[-1] for w in words) and "Traceback" not in r.stderr.decode()


def test_a_checkpoint_directory_whose_name_is_not_utf8(tiny, tmp_path):
    d = os.fsencode(tmp_path) + b"/ckpt\xff\x1b[2J"
    shutil.copytree(tiny, os.fsdecode(d))
    r = proc("info", "--model", d)
    assert r.returncode == 0, r.stderr
    assert b"ckpt\\xff\\x1b[2J" in r.stdout and b"\x1b" not in r.stdout
    r = proc("generate", "--model", d, "--prompt", "Hi", "--max-tokens", "2")
    assert r.returncode == 0, r.stderr


def test_the_api_applies_the_same_text_policy():
    tok = tiny_model(seed=0).tokenizer
    assert tok.encode(b"caf\xc3\xa9") == tok.encode("café")
    for bad in ("caf\udce9", b"caf\xe9", 5, None):
        with pytest.raises(MinimistralError, match="not valid UTF-8|must be text"):
            tok.encode(bad)
    with pytest.raises(MinimistralError, match="not valid UTF-8"):
        tok.encode_chat([{"role": "user", "content": "\udcff"}])
    with pytest.raises(MinimistralError, match="user message must be text"):
        tok.encode_user_turn(None)                    # was "[INST] None [/INST]"


def test_generated_control_characters_reach_a_terminal_escaped(model):
    """Beyond the issue: a checkpoint's tokens can spell ESC sequences; a terminal gets them escaped,
    a pipe gets the text exactly."""
    import io
    from types import SimpleNamespace

    tok = model.tokenizer
    esc = [tok.sp.piece_to_id("<0x1B>"), *tok.encode("[31mred", bos=False)]

    class Scripted:                                   # a session that "generates" esc
        def stream(self, prompt, **kw):
            yield from esc

    class Tty(io.StringIO):
        def isatty(self):
            return True
    opts = SimpleNamespace(max_tokens=9, temperature=0, top_p=1, seed=0, chunk_size=None, lookahead=0)
    raw = tok.decode(esc)
    assert "\x1b[31mred" in raw.replace(" ", "")
    for out, want in ((Tty(), raw.replace("\x1b", "\\x1b")), (io.StringIO(), raw)):
        cli.text.stream_text(Scripted(), tok, [1], opts, context=(), out=out)
        assert out.getvalue() == want, out.getvalue()


# ---- 5. the world outside ------------------------------------------------------------------------

def closed_pipe():
    r, w = os.pipe()
    os.close(r)                                       # the reader is gone before anything is written
    return w


@pytest.mark.parametrize("argv", [["demo"], ["info", "--model", "TINY"],
                                  ["generate", "--model", "TINY", "--prompt", "Hi", "--max-tokens", "3"]])
def test_a_closed_stdout_pipe_ends_quietly(tiny, argv):
    w = closed_pipe()
    try:
        r = proc(*[str(tiny) if a == "TINY" else a for a in argv], stdout=w, stderr=subprocess.PIPE,
                 capture_output=False)
    finally:
        os.close(w)
    assert r.returncode == 141 and not_loading(r.stderr) == "", r.stderr


@pytest.mark.parametrize("argv", [["info", "--model", "TINY"], ["demo"],
                                  ["generate", "--model", "TINY", "--prompt", "Hi", "--max-tokens", "3"]])
def test_a_full_disk_is_one_sentence(tiny, argv):
    with open("/dev/full", "w") as full:
        r = proc(*[str(tiny) if a == "TINY" else a for a in argv], stdout=full, stderr=subprocess.PIPE,
                 capture_output=False)
    err = not_loading(r.stderr)
    assert r.returncode == 2 and len(err.splitlines()) == 1 and "No space left on device" in err, err


def test_chat_with_stdin_closed(tiny):
    r = proc("chat", "--model", str(tiny), stdin=None, preexec_fn=lambda: os.close(0))
    assert r.returncode == 2 and b"standard input is closed" in r.stderr, r.stderr
    assert r.stderr.count(b"\n") == 1


def test_closed_stdout_and_stderr(tiny):
    r = proc("info", "--model", str(tiny), preexec_fn=lambda: os.close(1))
    assert r.returncode == 2 and b"standard output is closed" in r.stderr
    r = proc("info", "--model", str(tiny / "nope"), preexec_fn=lambda: os.close(2))
    assert r.returncode == 2 and r.stdout == b""      # the error had nowhere to go, not to stdout


@pytest.mark.parametrize("name", ["config.json", "model.safetensors", "tokenizer.model"])
def test_a_fifo_where_a_file_should_be_does_not_hang(tmp_path, name):
    d = write_tiny_hf(tmp_path / "m")
    (d / name).unlink()
    os.mkfifo(d / name)
    r = proc("info", "--model", str(d), timeout=60)
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1 and "is not a regular file (a FIFO?)" in err, err


def test_a_fifo_or_file_given_as_the_model_directory(capsys, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    one_error(*cli_run(capsys, "info", "--model", tmp_path / "fifo")[::2], "not a directory (a fifo)")


def test_figures_where_it_cannot_write(capsys, tmp_path):
    (tmp_path / "fig1_masks.png").mkdir()             # the path to write is a directory
    one_error(*cli_run(capsys, "figures", "--out", tmp_path)[::2], "cannot write", "fig1_masks.png", "--out")


def test_unreadable_file_is_a_clear_error(monkeypatch, tmp_path):
    """As root nothing is unreadable, so the OS refusal is simulated at the one place files open."""
    import minimistral.guards.files as files
    d = write_tiny_hf(tmp_path / "m")
    real = os.open

    def deny(path, *a, **k):
        if str(path).endswith("model.safetensors"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **k)
    monkeypatch.setattr(files.os, "open", deny)
    with pytest.raises(MinimistralError, match="cannot read .*model.safetensors: Permission denied"):
        minimistral.load(d)


def test_unlistable_directory_is_a_clear_error(monkeypatch, tmp_path):
    d = write_tiny_hf(tmp_path / "m")

    def deny(self):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(Path, "iterdir", deny)
    with pytest.raises(MinimistralError, match="cannot list the model directory .*: Permission denied"):
        minimistral.load(d)


# ---- 6. options and API arguments ----------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=0)


@pytest.mark.parametrize("call, words", [
    (lambda m: m.generate(None), "non-empty 1-D sequence"),
    (lambda m: m.generate(5), "non-empty 1-D sequence"),
    (lambda m: m.generate("hello"), "non-empty 1-D sequence"),
    (lambda m: m.generate([[1, 2], [3]]), "non-empty 1-D sequence"),
    (lambda m: m.generate([1.5]), "integer ids"),
    (lambda m: m.generate([1, 2], seed=-1), "seed"),
    (lambda m: m.prefill([1, 2], "x"), "RollingBufferCache"),
    (lambda m: m.decode(5, {}), "RollingBufferCache"),
    (lambda m: m.session("x"), "RollingBufferCache"),
    (lambda m: m.new_cache(capacity="a"), "capacity"),
    (lambda m: m.new_cache(capacity=0), "capacity"),
    (lambda m: m.tokenizer.decode([99999]), "99999 is outside"),
    (lambda m: m.tokenizer.decode([-1]), "outside"),
    (lambda m: m.tokenizer.decode("ab"), "sequence of integers"),
    (lambda m: m.tokenizer.decode([1.0]), "integers"),
    (lambda m: m.tokenizer.piece(32000), "outside"),
    (lambda m: minimistral.load(None), "checkpoint directory"),
    (lambda m: minimistral.Tokenizer(None), "file name"),
])
def test_bad_api_arguments_get_the_projects_error(model, call, words):
    with pytest.raises(MinimistralError, match=words):
        call(model)


def test_a_denormal_temperature_is_greedy_not_nan(model):
    ids = model.tokenizer.encode("The cat sat")
    assert model.generate(ids, max_tokens=4, temperature=1e-310, seed=0, eos_id=None) == \
        model.generate(ids, max_tokens=4, temperature=0, eos_id=None)


@pytest.mark.parametrize("option, value, code", [("--seed", "-1", 2), ("--temperature", "1e-310", 0),
                                                 ("--temperature", "nan", 2), ("--top-p", "inf", 2)])
def test_cli_numeric_edges(capsys, tiny, option, value, code):
    got, out, err = cli_run(capsys, "generate", "--model", tiny, "--prompt", "Hi", "--max-tokens", "2",
                            option, value)
    assert got == code and "internal error" not in err, err
    if code == 2:
        one_error(got, err, option.lstrip("-").split("-")[0])


# ---- 7. checkpoints that are not what they claim -------------------------------------------------

@pytest.mark.parametrize("changes, words", [
    ({"model_type": "qwen2"}, ["model_type", "qwen2", "Mistral"]),
    ({"hidden_act": "gelu"}, ["hidden_act", "gelu", "silu"]),
    ({"rope_scaling": {"type": "linear", "factor": 2.0}}, ["rope_scaling", "not implement"]),
    ({"rope_parameters": {"rope_type": "yarn", "rope_theta": 1e6}}, ["yarn"]),
    ({"rope_theta": float("inf")}, ["rope_theta", "finite"]),
    ({"rope_theta": float("nan")}, ["rope_theta", "finite"]),
    ({"rope_theta": 0.5}, ["rope_theta", "greater than 1"]),
    ({"rms_norm_eps": 1e300}, ["rms_norm_eps", "between 0 and 1"]),
    ({"rms_norm_eps": 1e-60}, ["rms_norm_eps"]),
    ({"quantization_config": {"quant_method": "gptq"}}, ["quantized"]),
    ({"attention_bias": True}, ["attention_bias", "biases"]),          # beyond the list
])
def test_configs_minimistral_does_not_implement_are_refused(capsys, hf, changes, words):
    cfg = json.loads((hf / "config.json").read_text())
    cfg.update(changes)
    (hf / "config.json").write_text(json.dumps(cfg))          # json writes Infinity / NaN literally
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "config.json", *words)


def test_params_json_mixture_of_experts_is_refused(capsys, tmp_path):
    d = write_tiny_native(tmp_path / "m")
    edit_json(d / "params.json", moe={"num_experts": 8, "num_experts_per_tok": 2})
    one_error(*cli_run(capsys, "info", "--model", d)[::2], "params.json", "mixture of experts")


def test_missing_lm_head_is_not_silently_tied(capsys, hf):
    tensors = {n: t.float32() for n, t in read_safetensors(hf / "model.safetensors").items()}
    del tensors["lm_head.weight"]
    write_safetensors(hf / "model.safetensors", tensors)
    one_error(*cli_run(capsys, "info", "--model", hf)[::2], "lm_head.weight", "lack")
    edit_json(hf / "config.json", tie_word_embeddings=True)   # declared tied: fine
    assert cli_run(capsys, "info", "--model", hf)[0] == 0


@pytest.fixture(scope="module")
def padded(tmp_path_factory):
    """A model with 32064 rows for a 32000-piece tokenizer, whose output favours the padding ids:
    their rows are the prompt's last hidden state, scaled, so their logits are 50 there."""
    from minimistral.checkpoints.weights import Weights
    from minimistral.training.init import random_weights

    args = TINY_ARGS.replace(vocab_size=32064)
    arrays = {name: t.raw.copy() for name, t in random_weights(args, 0).tensors.items()}
    ids = minimistral.Tokenizer(Path(minimistral.tokenizer.SHIPPED_TOKENIZER)).encode("Hello")
    h = Mistral(args, Weights.from_arrays(arrays)).hidden_states(ids)[-1][-1]        # [D]
    arrays["output.weight"][32000:] = 50 * h / (h @ h)

    def favour_padding(out):
        out["output.weight"] = arrays["output.weight"]
    return write_tiny_native(tmp_path_factory.mktemp("padded") / "m", args, edit=favour_padding, dtype="F32")


def test_padded_vocab_never_samples_ids_the_tokenizer_lacks(padded):
    model = minimistral.load(padded)
    ids = model.tokenizer.encode("Hello")
    assert int(model.prefill(ids)[-1].argmax()) >= 32000          # the raw model would pick padding
    for t in (0, 1.0):
        new = model.generate(ids, max_tokens=8, temperature=t, top_p=1.0, seed=1, eos_id=None)
        assert max(new) < 32000, new
    r = proc("generate", "--model", str(padded), "--prompt", "Hello", "--max-tokens", "5")
    assert r.returncode == 0, r.stderr


# ---- 8. messages that confuse --------------------------------------------------------------------

@pytest.mark.parametrize("changes, key, ours", [
    ({"intermediate_size": 0}, "intermediate_size", "hidden_dim"),
    ({"rms_norm_eps": -1}, "rms_norm_eps", "norm_eps must"),
    ({"max_position_embeddings": "long"}, "max_position_embeddings", "context_len"),
    ({"num_hidden_layers": 4}, "num_hidden_layers=4", "n_layers"),
])
def test_hf_config_errors_use_the_files_own_keys(capsys, hf, changes, key, ours):
    edit_json(hf / "config.json", **changes)
    line = one_error(*cli_run(capsys, "info", "--model", hf)[::2], key)
    assert ours not in line.replace(key, "")


def test_names_with_control_characters_print_escaped(capsys, hf):
    tensors = {n: t.float32() for n, t in read_safetensors(hf / "model.safetensors").items()}
    tensors["evil\n\x1b[2Jname"] = np.zeros(2, np.float32)
    write_safetensors(hf / "model.safetensors", tensors)
    line = one_error(*cli_run(capsys, "info", "--model", hf)[::2], "unexpected tensor")
    assert "\x1b" not in line and "evil\\n\\x1b[2Jname" in line
    code, out, err = cli_run(capsys, "info", "--model", str(hf / "no\nsuch\x1b[31m"))
    assert "no\\nsuch\\x1b[31m" in one_error(code, err, "does not exist")


def test_warnings_do_not_precede_an_error(capsys, tmp_path):
    args = TINY_ARGS.replace(sliding_window=None, context_len=16)

    def poison(arrays):
        arrays["norm.weight"] = arrays["norm.weight"] * np.float32(np.nan)
    d = write_tiny_native(tmp_path / "m", args, edit=poison, dtype="F32")
    code, out, err = cli_run(capsys, "generate", "--model", d, "--prompt", "word " * 40, "--max-tokens", "1")
    one_error(code, not_loading(err), "final norm")
    assert "warning" not in err


@pytest.mark.parametrize("make, words", [
    (lambda d: ((d / "tokenizer.model").unlink(), (d / "tokenizer.model").mkdir()), "is a directory"),
    (lambda d: ((d / "config.json").unlink(), (d / "config.json").mkdir()), "is a directory"),
])
def test_does_not_exist_only_when_it_does_not(capsys, tmp_path, make, words):
    d = write_tiny_hf(tmp_path / "m")
    make(d)
    line = one_error(*cli_run(capsys, "info", "--model", d)[::2], words)
    assert "does not exist" not in line
