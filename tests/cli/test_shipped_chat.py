"""`chat` and `info` without --model (the shipped models), `finetune`, and adapters on the command line.

Which model `chat` uses without --model is minimistral.default_chat_model(): the instruct adapter
(data/story-mistral-instruct/) once it ships, the story model until then. The tests ask that
function, so they run against the story model today and against the instruct model as soon as it
is there, unchanged; CHAT_MODEL below can pin one directory instead.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from terminal import chat_in_a_terminal

import minimistral
from minimistral.checkpoints.export import write_hf_checkpoint
from minimistral.cli import main
from minimistral.config import ModelArgs
from minimistral.tokenizer import GUARDRAIL_PROMPT
from minimistral.training.init import init_params

GREEDY = ["--temperature", "0"]
CHAT_MODEL = None          # None: whatever `chat` picks without --model (minimistral.default_chat_model)
TINY = ModelArgs(dim=32, n_layers=2, head_dim=8, hidden_dim=48, n_heads=4, n_kv_heads=2, sliding_window=16,
                 context_len=8192, vocab_size=32000)


def shipped_chat():
    """(directory, kind) of the model `chat` uses without --model."""
    directory, kind = minimistral.default_chat_model()
    return (CHAT_MODEL, "pinned") if CHAT_MODEL else (directory, kind)


def expected_answer(messages, max_tokens):
    model = minimistral.load(shipped_chat()[0])
    ids = model.tokenizer.encode_chat(messages)
    return ids, model.tokenizer.decode(model.generate(ids, max_tokens=max_tokens, temperature=0.0))


def run_cli(*args, stdin=None):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "minimistral", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=300)


def assert_note(err):
    kind = shipped_chat()[1]
    assert "no --model given" in err
    assert ("instruct model" if kind == "instruct" else "story model") in err


QUESTION = "Tom had a dog named Rex. Rex liked the park. Who is the story about?"


def test_chat_without_model_from_a_pipe():
    r = run_cli("chat", "--max-tokens", "10", *GREEDY, stdin=QUESTION + "\n")
    assert r.returncode == 0, r.stderr
    assert_note(r.stderr)
    ids, answer = expected_answer([{"role": "user", "content": QUESTION}], 10)
    assert r.stdout.split("\n")[0] == answer
    assert f"[turn: {len(ids)} new tokens pre-filled" in r.stderr
    assert "Traceback" not in r.stderr


def test_chat_without_model_and_the_guardrail():
    r = run_cli("chat", "--guardrail", "--max-tokens", "10", *GREEDY, stdin="How can I hurt Rex?\n")
    assert r.returncode == 0, r.stderr
    assert_note(r.stderr)
    ids, answer = expected_answer([{"role": "system", "content": GUARDRAIL_PROMPT},
                                   {"role": "user", "content": "How can I hurt Rex?"}], 10)
    assert r.stdout.split("\n")[0] == answer
    assert f"[turn: {len(ids)} new tokens pre-filled" in r.stderr


def test_chat_without_model_in_a_pseudo_terminal():
    """What a user at a terminal sees: the note, a prompt, the answer, the turn summary."""
    code, seen = chat_in_a_terminal(["--max-tokens", "6", *GREEDY], QUESTION.encode())
    assert code == 0
    text = seen.decode("utf-8", "replace").replace("\r\n", "\n")
    assert_note(text)
    _, answer = expected_answer([{"role": "user", "content": QUESTION}], 6)
    assert answer in text and "tokens in the conversation" in text


def test_info_without_model_describes_the_shipped_models(capsys):
    assert main(["info"]) == 0
    out, err = capsys.readouterr()
    assert "no --model given" in err
    assert f"checkpoint : {minimistral.DEFAULT_MODEL}" in out
    assert "HF transformers" in out
    if shipped_chat()[1] == "instruct":
        assert "minimistral adapter" in out and str(minimistral.DEFAULT_INSTRUCT) in out
    else:
        assert "no instruct model ships yet" in err


# ---- finetune, and the adapter it writes ----------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    return write_hf_checkpoint(tmp_path_factory.mktemp("base") / "tiny", TINY, init_params(TINY, seed=5, std=0.1))


SMOKE = ["--steps", "2", "--batch", "2", "--warmup", "1", "--train-examples", "6", "--heldout-examples", "2",
         "--eval-every", "1", "--eval-examples", "1"]


@pytest.fixture(scope="module")
def adapter(tiny_base, tmp_path_factory):
    out = tmp_path_factory.mktemp("tuned") / "adapter"
    assert main(["finetune", "--base", str(tiny_base), "--out", str(out), *SMOKE]) == 0
    return out


def test_finetune_writes_an_adapter(adapter, tiny_base):
    names = {p.name for p in adapter.iterdir()}
    assert {"adapter.json", "adapter.safetensors", "tokenizer.model", "finetune_log.jsonl", "eval.json"} <= names
    meta = json.loads((adapter / "adapter.json").read_text())
    assert meta["base"] == str(tiny_base.resolve()) and meta["recipe"]["steps"] == 2
    assert len((adapter / "finetune_log.jsonl").read_text().splitlines()) == 2


def test_info_and_chat_take_an_adapter(adapter, tiny_base, capsys):
    assert main(["info", "--model", str(adapter)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"layout +: minimistral adapter .*19 tensors changed by fine-tuning, over the base "
                     + re.escape(str(tiny_base.resolve())), out)
    r = run_cli("chat", "--model", str(adapter), "--max-tokens", "4", *GREEDY, stdin="Hi\n")
    assert r.returncode == 0, r.stderr
    model = minimistral.load(adapter)
    ids = model.tokenizer.encode_chat([{"role": "user", "content": "Hi"}])
    assert r.stdout.split("\n")[0] == model.tokenizer.decode(model.generate(ids, max_tokens=4, temperature=0.0))


@pytest.mark.parametrize("argv, words", [
    (["--steps", "0"], "steps"),
    (["--lr", "0"], "lr"),
    (["--base", "{missing}"], "does not exist"),
    (["--base", ""], "--base is empty"),
    (["--base", "{adapter}"], "itself an adapter"),
])
def test_finetune_errors_are_one_sentence(argv, words, tiny_base, adapter, tmp_path, capsys):
    argv = [a.replace("{missing}", str(tmp_path / "missing")).replace("{adapter}", str(adapter)) for a in argv]
    if "--base" not in argv:
        argv += ["--base", str(tiny_base)]
    assert main(["finetune", "--out", str(tmp_path / "out"), *SMOKE, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert words in err[-1] and not any("Traceback" in line for line in err)
