"""What train() and `minimistral train` promise when things go wrong, and where they say they wrote.

A run shows progress (a line on a terminal's stderr, or a callback), says where it wrote (an
absolute path), refuses an output it cannot use in one sentence, and whatever stops it (Ctrl-C,
a full disk, a read-only directory) leaves every checkpoint on disk whole and names the last one.
"""

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
from conftest import ROOT

import minimistral
from minimistral import MinimistralError
from minimistral.checkpoints import export
from minimistral.training.train import TrainConfig, TrainingInterrupted, read_log, train

TINY = TrainConfig(dim=16, n_layers=1, n_heads=2, n_kv_heads=1, head_dim=8, hidden_dim=32, sliding_window=4,
                   batch=2, seq_len=24, steps=6, warmup=1, eval_every=3, eval_windows=1, checkpoint_every=2,
                   dtype="F32")
CLI_TINY = ["--steps", "6", "--batch", "2", "--seq-len", "24", "--dim", "16", "--n-layers", "1", "--n-heads", "2",
            "--n-kv-heads", "1", "--head-dim", "8", "--hidden-dim", "32", "--window", "4", "--eval-windows", "1",
            "--eval-every", "3", "--f32"]


def files_under(directory):
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


def cli(*args, cwd, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "minimistral", "train", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300, **kw)


class Terminal(io.StringIO):
    def isatty(self):
        return True


# ---- progress, and where it wrote ------------------------------------------------------------------

def test_from_python_on_a_terminal_it_draws_the_bar_and_says_where_it_wrote(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stderr", Terminal())
    result = train(TINY, "runs/mine")                          # relative: resolved against the cwd
    err = sys.stderr.getvalue()
    assert "\rtraining  [" in err and "6/6 steps" in err
    assert err.splitlines()[-1].startswith(f"wrote {tmp_path / 'runs' / 'mine'} (")
    assert result.out_dir == tmp_path / "runs" / "mine" and result.out_dir.is_absolute()
    assert str(result.out_dir) in repr(result) and "final loss" in repr(result)


def test_off_a_terminal_it_is_silent_unless_asked(tmp_path, capsys):
    train(TINY, tmp_path / "quiet")
    assert capsys.readouterr().err == ""                       # a pipe, a log, a test: nothing
    train(TINY, tmp_path / "asked", progress=True)             # a notebook: a line per evaluation
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split("]")[1].split()[0] for ln in lines[:-1]] == ["1/6", "3/6", "6/6"]
    assert lines[-1].startswith(f"wrote {tmp_path / 'asked'}")
    rows = []
    train(TINY, tmp_path / "callback", progress=rows.append)
    assert [r["step"] for r in rows] == list(range(1, 7)) and capsys.readouterr().err == ""


@pytest.mark.parametrize("progress", [5, "bar"])
def test_a_progress_that_is_not_a_function(tmp_path, progress):
    with pytest.raises(MinimistralError, match="progress must be"):
        train(TINY, tmp_path / "x", progress=progress)
    assert not (tmp_path / "x").exists()                       # refused before anything was made


def test_any_numbers_train_and_are_written_as_plain_json(tmp_path):
    config = TrainConfig(**{**TINY.__dict__, "steps": np.int64(2), "lr": Fraction(1, 100), "clip": np.float32(1)})
    result = train(config, tmp_path / "np")                    # json.dumps(np.int64) used to fail
    saved = json.loads((tmp_path / "np" / "train_config.json").read_text())
    assert saved["steps"] == 2 and saved["lr"] == 0.01 and len(result.log) == 2
    with pytest.raises(MinimistralError, match="config must be a TrainConfig"):
        train({"steps": 2}, tmp_path / "d")


# ---- outputs it cannot use -------------------------------------------------------------------------

@pytest.mark.parametrize("make, out, words", [
    (lambda d: (d / "f").write_text("x"), "f", "is a file, not a directory"),
    (lambda d: (d / "f").write_text("x"), "f/sub", "cannot create"),
    (lambda d: None, "", "is empty"),
    (lambda d: None, "a\0b", "NUL byte"),
])
def test_an_output_directory_it_cannot_use(tmp_path, monkeypatch, make, out, words):
    monkeypatch.chdir(tmp_path)
    make(tmp_path)
    with pytest.raises(MinimistralError, match=words):
        train(TINY, out)
    assert not (tmp_path / "train_config.json").exists()       # "" used to mean the cwd


def test_cli_out_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    r = cli("--out", "taken", *CLI_TINY, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is a file, not a directory" in r.stderr, r.stderr


def test_a_read_only_directory(tmp_path, monkeypatch):
    """Root may write anywhere, so the refusal is simulated where the first file is written."""
    def denied(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(type(tmp_path), "write_text", denied)
    with pytest.raises(MinimistralError, match="cannot write .*train_config.json: Permission denied"):
        train(TINY, tmp_path / "ro")


# ---- what survives ---------------------------------------------------------------------------------

def interrupt_at(step):
    def progress(row):
        if row["step"] == step:
            raise KeyboardInterrupt
    return progress


def test_ctrl_c_names_the_last_complete_checkpoint_which_loads(tmp_path):
    with pytest.raises(TrainingInterrupted) as e:
        train(TINY, tmp_path / "run", progress=interrupt_at(5))
    last = tmp_path / "run" / "checkpoints" / "step-000004"
    assert str(e.value) == (f"training stopped after step 5 of 6; the last complete checkpoint is {last}; "
                            f"{tmp_path / 'run' / 'train_log.jsonl'} holds steps 1-5")
    assert isinstance(e.value, KeyboardInterrupt)
    assert minimistral.load(last).forward([1, 415]).shape == (2, 32000)
    assert len(read_log(tmp_path / "run" / "train_log.jsonl")) == 5
    with pytest.raises(TrainingInterrupted, match="after step 1 of 6; no checkpoint was complete yet"):
        train(TINY, tmp_path / "early", progress=interrupt_at(1))


@pytest.mark.parametrize("trouble", [KeyboardInterrupt, OSError(errno.ENOSPC, "No space left on device")])
def test_a_checkpoint_cut_short_leaves_no_half_of_itself(tmp_path, monkeypatch, trouble):
    """Ctrl-C or a full disk while step 4's checkpoint is written: step 2's is the last, whole,
    and nothing of step 4's is left (the final checkpoint is never begun)."""
    real = export.write_safetensors

    def cut_short(path, *a, **k):
        real(path, *a, **k)                                    # the .partial file is complete ...
        if "step-000004" in str(path):
            raise trouble                                      # ... and then the disk fills
    monkeypatch.setattr(export, "write_safetensors", cut_short)
    expected = TrainingInterrupted if trouble is KeyboardInterrupt else MinimistralError
    with pytest.raises(expected, match=r"the last complete checkpoint is .*step-000002"):
        train(TINY, tmp_path / "run")
    assert files_under(tmp_path / "run") == [
        "checkpoints", "checkpoints/step-000002", "checkpoints/step-000002/config.json",
        "checkpoints/step-000002/model.safetensors", "checkpoints/step-000002/tokenizer.model",
        "train_config.json", "train_log.jsonl"]


def test_the_final_checkpoint_replaces_an_old_one_whole(tmp_path, monkeypatch):
    """A second run into the same directory that fails while writing keeps the first run's model."""
    train(TINY, tmp_path / "run")
    before = (tmp_path / "run" / "model.safetensors").read_bytes()

    def full(path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(export, "write_safetensors", full)
    with pytest.raises(MinimistralError, match=r"cannot write .*run: No space left on device"):
        train(TrainConfig(**{**TINY.__dict__, "seed": 1, "checkpoint_every": 0}), tmp_path / "run")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before
    assert not list((tmp_path / "run").glob("*.partial"))


def test_cli_ctrl_c_mid_run(tmp_path):
    """A real SIGINT once a checkpoint exists: exit 130, one line naming a checkpoint that loads."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [a if a != "6" else "400" for a in CLI_TINY] + ["--checkpoint-every", "1"]
    p = subprocess.Popen([sys.executable, "-m", "minimistral", "train", "--out", "run", *args], cwd=tmp_path,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "run" / "checkpoints" / "step-000003").exists() and time.time() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    line = err.strip().splitlines()[-1]
    assert p.returncode == 130 and line.startswith("minimistral: interrupted: training stopped after step"), err
    last = line.split("the last complete checkpoint is ")[1].split(";")[0]
    assert minimistral.load(last).args.dim == 16
    assert not list((tmp_path / "run").rglob("*.partial"))


def test_cli_a_file_size_limit_is_one_sentence(tmp_path):
    """A real failing write: RLIMIT_FSIZE makes the checkpoint's write fail with EFBIG."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    r = cli("--out", "run", *CLI_TINY, cwd=tmp_path, preexec_fn=limit)
    err = [ln for ln in r.stderr.splitlines() if not ln.startswith("training ")]
    assert r.returncode == 2 and len(err) == 1 and "File too large" in err[0], r.stderr
    assert "no checkpoint was written" in err[0] and not list((tmp_path / "run").rglob("*.partial"))


# ---- reading a log back ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [('{"step": ' + "9" * 5000 + "}\n", "number of 5,000 characters"),
                                         ("[1, 2]\n", "not a JSON object"),
                                         ("{oops\n", "not valid JSON")], ids=["5000 digits", "a list", "not JSON"])
def test_a_damaged_log(tmp_path, text, words):
    (tmp_path / "train_log.jsonl").write_text(text)
    with pytest.raises(MinimistralError, match=words):
        read_log(tmp_path / "train_log.jsonl")
