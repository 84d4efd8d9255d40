"""The commands a user runs on a checkpoint: info, generate, chat (through the real CLI)."""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from terminal import chat_in_a_terminal
from tiny_checkpoint import TINY_ARGS, write_tiny_hf, write_tiny_native

import minimistral
import minimistral.training.init
from minimistral.cli import main
from minimistral.tokenizer import GUARDRAIL_PROMPT

GREEDY = ["--temperature", "0"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny random model with the real 32000-piece tokenizer, native layout."""
    return write_tiny_native(tmp_path_factory.mktemp("tiny") / "native")


def continuation(model, prompt_ids, new_ids):
    tok = model.tokenizer
    return tok.decode(list(prompt_ids) + list(new_ids))[len(tok.decode(prompt_ids)):]


def run_cli(*args, stdin=None):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "minimistral", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=300)


def test_info_describes_each_layout(tiny, tmp_path, capsys):
    assert main(["info", "--model", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "Mistral native (params.json + consolidated.safetensors)" in out
    assert f"parameters : {TINY_ARGS.n_params():,}" in out
    assert "window     : 8 (sliding window attention)" in out
    assert "tokenizer  : tokenizer.model (32000 pieces)" in out
    assert "BF16" in out and "memory-mapped" in out

    hf = write_tiny_hf(tmp_path / "hf", TINY_ARGS.replace(sliding_window=None, rope_theta=1e6))
    (hf / "tokenizer.model").unlink()
    assert main(["info", "--model", str(hf)]) == 0
    out = capsys.readouterr().out
    assert "HF transformers" in out and "none (full causal attention)" in out
    assert "rope_theta=1e+06" in out and "not found" in out


def test_generate_streams_the_greedy_continuation(tiny, capsys):
    model = minimistral.load(tiny)
    prompt = "The cat sat on the mat and saw the dog go to"
    prompt_ids = model.tokenizer.encode(prompt)
    expected = continuation(model, prompt_ids, model.generate(prompt_ids, max_tokens=12, temperature=0.0))
    assert main(["generate", "--model", str(tiny), "--prompt", prompt, "--max-tokens", "12", *GREEDY]) == 0
    out, err = capsys.readouterr()
    assert out == expected + "\n"
    assert re.search(r"prompt 13 tokens, pre-fill [\d.]+ tok/s; generated 12 tokens, decode [\d.]+ tok/s; "
                     r"peak RSS [\d.]+ GiB", err)
    assert "loading" in err and "2/2 layers" in err


def test_generate_chunked_prefill_and_sampling_options(tiny, capsys):
    model = minimistral.load(tiny)
    prompt = "One two three four five six seven eight nine ten"
    ids = model.tokenizer.encode(prompt)
    new = model.generate(ids, max_tokens=6, temperature=0.8, top_p=0.9, seed=5, chunk_size=3)
    args = ["generate", "--model", str(tiny), "--prompt", prompt, "--max-tokens", "6",
            "--temperature", "0.8", "--top-p", "0.9", "--seed", "5", "--chunk-size", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert first == continuation(model, ids, new) + "\n"
    assert main(args[:-6] + ["--seed", "6", "--temperature", "0.8", "--top-p", "0.9"]) == 0
    assert capsys.readouterr().out != first        # another seed, another sample


def test_generate_from_an_empty_prompt_starts_at_bos(tiny, capsys):
    model = minimistral.load(tiny)
    expected = continuation(model, [1], model.generate([1], max_tokens=5, temperature=0.0))
    assert main(["generate", "--model", str(tiny), "--prompt", "", "--max-tokens", "5", *GREEDY]) == 0
    out, err = capsys.readouterr()
    assert out == expected + "\n" and "prompt 1 tokens" in err


def test_generate_without_model_runs_the_shipped_model_and_says_so(capsys):
    model = minimistral.load_default()
    ids = model.tokenizer.encode("The cat sat on the mat and")
    expected = continuation(model, ids, model.generate(ids, max_tokens=20, temperature=0.0))
    assert main(["generate", "--prompt", "The cat sat on the mat and", "--max-tokens", "20", *GREEDY]) == 0
    out, err = capsys.readouterr()
    assert out == expected + "\n"
    assert "no --model given" in err and "story model" in err


def test_demo_walks_the_sentence_through_the_trained_model(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    model = minimistral.load_default()
    ids = model.tokenizer.encode("The cat sat on the mat and saw the dog go to")
    probs = np.exp(model.forward(np.array(ids))[-1].astype(np.float64))
    probs /= probs.sum()
    best = int(probs.argmax())
    assert "random" not in out and "trained" in out
    # the top-5 block lists the model's real most likely next piece with its probability
    top_block = out.split("top 5 after")[1]
    assert repr(model.tokenizer.piece(best).replace("\u2581", " ")) in top_block.splitlines()[1]
    assert f"{probs[best]:.4f}" in top_block.splitlines()[1]


@pytest.mark.parametrize("argv, word", [
    (["chat", "--model", ""], "--model"),
    (["generate", "--model", "{tiny}", "--prompt", "x", "--temperature", "-1"], "temperature"),
    (["generate", "--model", "{tiny}", "--prompt", "x", "--top-p", "0"], "top_p"),
    (["generate", "--model", "{tiny}", "--prompt", "x", "--chunk-size", "0"], "chunk_size"),
    (["chat", "--model", "{tiny}", "--system", "a", "--guardrail"], "not allowed with"),
])
def test_bad_options_are_one_line_and_exit_2(tiny, capsys, argv, word):
    argv = [a.replace("{tiny}", str(tiny)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert word in err[-1] and not any("Traceback" in line for line in err)


def test_generate_without_a_tokenizer_says_what_to_copy(tiny, tmp_path, capsys):
    bare = shutil.copytree(tiny, tmp_path / "bare")
    (bare / "tokenizer.model").unlink()
    assert main(["generate", "--model", str(bare), "--prompt", "hi"]) == 2
    assert "no tokenizer.model" in capsys.readouterr().err


def test_python_dash_m_and_the_console_script(tiny):
    r = run_cli("generate", "--model", str(tiny), "--prompt", "Hello", "--max-tokens", "3", *GREEDY)
    assert r.returncode == 0 and "prompt 2 tokens" in r.stderr
    script = shutil.which("minimistral")
    if script is None:
        pytest.skip("the console script is not on PATH (pip install -e . puts it there)")
    r2 = subprocess.run([script, "generate", "--model", str(tiny), "--prompt", "Hello", "--max-tokens", "3",
                         *GREEDY], capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0 and r2.stdout == r.stdout


def test_chat_keeps_the_cache_across_turns(tiny):
    """Two turns through stdin: the second pre-fills only its own tokens and answers exactly as a
    from-scratch greedy run over the whole conversation would."""
    r = run_cli("chat", "--model", str(tiny), "--guardrail", "--max-tokens", "6", *GREEDY,
                stdin="Bonjour, ça va ?\nTell me more 🙂\n")
    assert r.returncode == 0, r.stderr
    answers = r.stdout.split("\n")[:2]
    turns = re.findall(r"\[turn: (\d+) new tokens pre-filled .*? after (\d+) cached; (\d+) generated", r.stderr)
    assert len(turns) == 2

    model = minimistral.load(tiny)
    tok = model.tokenizer
    first = tok.encode_chat([{"role": "system", "content": GUARDRAIL_PROMPT},
                             {"role": "user", "content": "Bonjour, ça va ?"}])
    a1 = model.generate(first, max_tokens=6, temperature=0.0)
    assert answers[0] == tok.decode(a1)          # the answer alone: no leading space, no </s>
    closing = [] if a1[-1] == tok.eos_id else [tok.eos_id]
    second = closing + tok.encode_user_turn("Tell me more 🙂")
    # turn 1 pre-filled the whole prompt; turn 2 only its own tokens plus the pending last answer token
    assert turns[0] == (str(len(first)), "0", str(len(a1)))
    assert turns[1][:2] == (str(1 + len(second)), str(len(first) + len(a1) - 1))
    whole = first + a1 + second
    a2 = model.generate(whole, max_tokens=6, temperature=0.0)          # no cache: recomputed
    assert answers[1] == tok.decode(a2)


def test_chat_with_a_system_prompt_uses_the_template(tiny, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Hi\n"))
    assert main(["chat", "--model", str(tiny), "--system", "Be brief.", "--max-tokens", "4", *GREEDY]) == 0
    model = minimistral.load(tiny)
    ids = model.tokenizer.encode_chat([{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "Hi"}])
    out, err = capsys.readouterr()
    assert f"[turn: {len(ids)} new tokens pre-filled" in err
    assert out.split("\n")[0] == model.tokenizer.decode(model.generate(ids, max_tokens=4, temperature=0.0))


def test_chat_through_a_pseudo_terminal(tiny):
    """What a user at a terminal sees: a prompt, the answer, the turn summary."""
    code, seen = chat_in_a_terminal(["--model", str(tiny), "--max-tokens", "3", *GREEDY], b"Hello")
    assert code == 0
    assert b"loading" in seen and b"tokens in the conversation" in seen
    assert b"1/2 layers" in seen and b"2/2 layers" in seen       # the bar redraws per layer on a tty


def test_hostile_pth_is_refused_by_the_cli(tmp_path, capsys):
    import json
    import pickle
    import zipfile

    class RunsACommand:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    d = tmp_path / "ckpt"
    d.mkdir()
    (d / "params.json").write_text(json.dumps({"dim": 8, "n_layers": 1, "hidden_dim": 16, "n_heads": 2,
                                               "n_kv_heads": 1, "vocab_size": 16}))
    with zipfile.ZipFile(d / "consolidated.00.pth", "w") as z:
        z.writestr("consolidated/data.pkl", pickle.dumps({"w": RunsACommand()}, protocol=2))
    shutil.copy(minimistral.tokenizer.SHIPPED_TOKENIZER, d / "tokenizer.model")      # a complete download
    for command in (["info", "--model", str(d)], ["generate", "--model", str(d), "--prompt", "x"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "refusing to load" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pwned").exists()


def test_page_in_reports_every_layer(tiny):
    seen = []
    minimistral.load(tiny, progress=lambda *a: seen.append(a))
    assert [s[0] for s in seen] == [0, 1, 2, 2]
    assert seen[-1][2] == seen[-1][3] == minimistral.load(tiny).weights.nbytes()
    assert all(np.diff([s[2] for s in seen]) > 0)


def test_generate_warns_past_the_trained_context_without_a_window(tmp_path, capsys):
    d = write_tiny_hf(tmp_path / "short", TINY_ARGS.replace(sliding_window=None, context_len=16))
    assert main(["generate", "--model", str(d), "--prompt", "Hello", "--max-tokens", "20", *GREEDY]) == 0
    assert "exceed the 16 positions this model was trained on" in capsys.readouterr().err
    assert main(["generate", "--model", str(d), "--prompt", "Hello", "--max-tokens", "5", *GREEDY]) == 0
    assert "exceed" not in capsys.readouterr().err


def test_bad_options_are_reported_before_loading(tiny, capsys, monkeypatch):
    import minimistral.checkpoints.layout as checkpoint

    monkeypatch.setattr(checkpoint, "page_in", lambda *a: pytest.fail("loaded before checking options"))
    assert main(["generate", "--model", str(tiny), "--prompt", "x", "--top-p", "1.5"]) == 2
    assert "top_p" in capsys.readouterr().err


def test_ctrl_c_stops_an_answer_not_the_chat(tiny, capsys, monkeypatch):
    """Interrupt the first answer half-way: the chat goes on, the cache stays consistent."""
    import io

    from minimistral.generation import Session

    feed, calls = Session._feed, [0]

    def interrupted_once(self, chunk_size):
        calls[0] += 1
        if calls[0] == 3:                       # turn 1: pre-fill, one decode step, then Ctrl-C
            raise KeyboardInterrupt
        return feed(self, chunk_size)

    monkeypatch.setattr(Session, "_feed", interrupted_once)
    monkeypatch.setattr(sys, "stdin", io.StringIO("Hi\nStill there?\n"))
    assert main(["chat", "--model", str(tiny), "--max-tokens", "5", *GREEDY]) == 0
    out, err = capsys.readouterr()
    assert "[answer interrupted" in err
    model = minimistral.load(tiny)
    tok = model.tokenizer
    first = tok.encode_chat([{"role": "user", "content": "Hi"}])
    a1 = model.generate(first, max_tokens=2, temperature=0.0)          # what was chosen before Ctrl-C
    second = [tok.eos_id] + tok.encode_user_turn("Still there?")
    m = re.search(r"\[turn: (\d+) new tokens pre-filled .*? after (\d+) cached; (\d+) generated", err)
    assert m.groups() == (str(1 + len(second)), str(len(first) + 1), "5")
    a2 = model.generate(first + a1 + second, max_tokens=5, temperature=0.0)
    assert out.endswith(tok.decode(a2) + "\n")
