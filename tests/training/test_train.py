"""The trainer: loss falls, checkpoints reload (in minimistral and in transformers), runs repeat exactly."""

import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import minimistral
from minimistral.checkpoints.export import hf_permute
from minimistral.checkpoints.names import hf_rope_perm
from minimistral.training import corpus
from minimistral.training.backward import loss_and_grads
from minimistral.training.evaluate import heldout_loss
from minimistral.training.init import init_params
from minimistral.training.optim import clip_global_norm
from minimistral.training.train import TrainConfig, model_of, read_log, train

# A tiny model over the real 32000-token vocabulary; GQA (4 query heads on 2 kv heads), W = 8 < T = 32.
TINY = TrainConfig(dim=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8, hidden_dim=64, sliding_window=8,
                   batch=4, seq_len=32, steps=12, lr=1e-2, warmup=2, eval_every=6, eval_windows=2,
                   dtype="F32")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train(TINY, out)


def test_loss_falls(run):
    losses = [r["loss"] for r in run.log]
    assert losses[0] > 0.95 * math.log(32000)                      # starts near uniform: ln 32000
    assert np.mean(losses[-3:]) < losses[0] - 1.3                  # ... and falls fast (measured: 1.7)
    held = [r["heldout_loss"] for r in run.log if r["heldout_loss"] is not None]
    assert held[-1] < held[0] - 1.0                                # measured: 1.5


def test_log_file_has_a_row_per_step(run):
    rows = read_log(run.out_dir / "train_log.jsonl")
    assert [r["step"] for r in rows] == list(range(1, TINY.steps + 1))
    assert {"step", "lr", "loss", "heldout_loss", "tokens_per_s", "elapsed_s"} <= set(rows[0])
    assert rows[-1]["heldout_loss"] is not None and rows[-1]["tokens_per_s"] > 0
    assert json.loads((run.out_dir / "train_config.json").read_text())["seed"] == TINY.seed


def test_checkpoint_reloads_with_identical_logits(run):
    loaded = minimistral.load(run.out_dir)
    assert loaded.args == TINY.model_args()
    assert loaded.tokenizer is not None and loaded.tokenizer.vocab_size == 32000
    ids = corpus.heldout_windows(1, 40)[0]                          # 40 tokens > W = 8
    assert np.array_equal(loaded.forward(ids), run.model.forward(ids))


def test_bf16_checkpoint_is_the_rounded_model(tmp_path):
    from minimistral.checkpoints.export import write_hf_checkpoint
    from minimistral.fast.linear import bf16_to_float32, float32_to_bf16

    args = TINY.model_args()
    params = init_params(args, 3)
    write_hf_checkpoint(tmp_path, args, params, "BF16")
    loaded = minimistral.load(tmp_path)
    rounded = model_of(args, {n: bf16_to_float32(float32_to_bf16(p)) for n, p in params.items()})
    ids = np.arange(1, 30)
    np.testing.assert_allclose(loaded.forward(ids), rounded.forward(ids), rtol=1e-5, atol=1e-5)


def test_transformers_reads_the_checkpoint_with_the_same_logits(run):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    model = transformers.MistralForCausalLM.from_pretrained(run.out_dir, dtype=torch.float32,
                                                            attn_implementation="eager").eval()
    ids = corpus.heldout_windows(1, 40)[0]                          # past the window: W = 8
    with torch.no_grad():
        theirs = model(torch.tensor(ids[None], dtype=torch.long)).logits[0].numpy()
    ours = run.model.forward(ids)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_hf_permute_is_the_inverse_of_the_loaders_perm():
    # checkpoint.hf_rope_perm says which HF row holds each native row; writing then reading is identity.
    w = np.arange(2 * 8 * 3, dtype=np.float32).reshape(16, 3)       # 2 heads, Hd = 8, D = 3
    hf = hf_permute(w, 2)
    assert np.array_equal(hf[hf_rope_perm(2, 8)], w)
    # Hd = 4: native rows [a0 a1 b0 b1] -> HF [a0 b0 a1 b1]
    assert hf_permute(np.arange(4.0, dtype=np.float32)[:, None], 1)[:, 0].tolist() == [0, 2, 1, 3]


def test_same_seed_same_weights_other_seed_other_weights(tmp_path, run):
    config = TrainConfig(**{**TINY.__dict__, "steps": 4, "eval_every": 4})
    a = train(config, tmp_path / "a").params
    b = train(config, tmp_path / "b").params
    c = train(TrainConfig(**{**config.__dict__, "seed": 1}), tmp_path / "c").params
    assert all(np.array_equal(a[n], b[n]) for n in a)
    assert not np.array_equal(a["output.weight"], c["output.weight"])
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_init_like_hf():
    params = init_params(TINY.model_args(), 0)
    assert all(p.dtype == np.float32 for p in params.values())
    assert all((p == 1).all() for n, p in params.items() if n.endswith("norm.weight"))
    w = params["output.weight"]
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001


def test_learning_rate_schedule():
    c = TrainConfig(steps=1000, lr=1e-3, warmup=100, min_lr_ratio=0.1)
    assert math.isclose(c.lr_at(50), 5e-4) and math.isclose(c.lr_at(100), 1e-3)
    assert math.isclose(c.lr_at(550), 1e-3 * (0.1 + 0.9 * 0.5))   # half-way down the cosine
    assert math.isclose(c.lr_at(1000), 1e-4)
    lrs = [c.lr_at(s) for s in range(100, 1001)]
    assert all(x >= y for x, y in zip(lrs, lrs[1:]))


def test_clip_global_norm():
    grads = {"a": np.array([3.0, 0.0], dtype=np.float32), "b": np.array([[4.0]], dtype=np.float32)}
    assert math.isclose(clip_global_norm(grads, 1.0), 5.0)
    assert np.allclose(grads["a"], [0.6, 0.0], atol=1e-6) and np.allclose(grads["b"], [[0.8]], atol=1e-6)
    assert math.isclose(clip_global_norm(grads, 10.0), 1.0, rel_tol=1e-5)  # below the limit: untouched
    assert np.allclose(grads["b"], [[0.8]], atol=1e-6)


def test_adamw_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    c = TrainConfig(lr=1e-2, weight_decay=0.1, beta1=0.9, beta2=0.95, adam_eps=1e-8)
    params = {"w": rng.standard_normal((3, 4)).astype(np.float32), "norm.weight": np.ones(4, np.float32)}
    tp = {n: torch.tensor(p.copy(), requires_grad=True) for n, p in params.items()}
    opt = torch.optim.AdamW([{"params": [tp["w"]], "weight_decay": 0.1},
                             {"params": [tp["norm.weight"]], "weight_decay": 0.0}],
                            lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
    ours = c.adamw(params)
    for step in range(5):
        grads = {n: rng.standard_normal(p.shape).astype(np.float32) for n, p in params.items()}
        lr = 1e-2 * (step + 1) / 5
        for group in opt.param_groups:
            group["lr"] = lr
        for n, p in tp.items():
            p.grad = torch.tensor(grads[n])
        opt.step()
        ours.update(params, grads, lr)
    for n in params:
        np.testing.assert_allclose(params[n], tp[n].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_heldout_loss_agrees_with_the_training_loss():
    args = TINY.model_args()
    model = model_of(args, init_params(args, 0))
    windows = corpus.heldout_windows(2, 32)
    loss, _ = loss_and_grads(model, windows)
    assert math.isclose(heldout_loss(model, windows), loss, rel_tol=1e-5)


def test_name_weight_weighs_names_said_again_in_the_first_steps_loss(tmp_path):
    """The logged loss of step 1 is the weighted mean of the initial model's per-token
    cross-entropy, names said again (found here by their pieces) counting name_weight times."""
    from minimistral.training.evaluate import cross_entropy

    config = TrainConfig(**{**TINY.__dict__, "steps": 1, "seq_len": 128, "name_weight": 3.0, "compact_vocab": False})
    args = config.model_args()
    model = model_of(args, init_params(args, config.seed, config.init_std))
    tok = corpus.tokenizer()
    batch = corpus.Batches(config.batch, config.seq_len, config.steps, config.corpus_seed, tok)[0]   # [B, T]
    total = weight = again = plain = count = 0.0
    for row in batch:
        ce = cross_entropy(model.forward(row)[:-1], row[1:])                     # [T - 1]
        w = np.ones(len(row))
        text, owner, seen = "", [], set()                # the row as text; the token of each character
        for t, i in enumerate(row):
            if int(i) == tok.bos_id:
                text, owner = text + "|", owner + [t]    # a story starts: nothing said yet
            elif not tok.sp.is_control(int(i)):
                piece = tok.piece(int(i)).replace("\u2581", " ")
                text, owner = text + piece, owner + [t] * len(piece)
        for word in re.finditer(r"[A-Za-z]+|[|]", text):
            if word.group() == "|":
                seen = set()
            elif word.group() in corpus.NAMES:
                if word.group() in seen:
                    w[owner[word.start()]], again = 3.0, again + 1
                seen.add(word.group())
        total += float((w[1:] * ce).sum())
        weight += float(w[1:].sum())
        plain, count = plain + float(ce.sum()), count + len(ce)
    assert again > 0                                         # the batch has names said again
    log = train(config, tmp_path).log
    assert math.isclose(log[0]["loss"], total / weight, rel_tol=1e-6)     # at the start every token
    assert not math.isclose(log[0]["loss"], plain / count, rel_tol=1e-6)  # costs about ln V: close


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "minimistral", *args], capture_output=True, text=True,
                          env=env, cwd=cwd)


def test_cli_train_end_to_end(tmp_path):
    out = tmp_path / "model"
    r = _cli("train", "--out", str(out), "--steps", "3", "--batch", "2", "--seq-len", "24", "--dim", "16",
             "--n-layers", "1", "--n-heads", "2", "--n-kv-heads", "1", "--head-dim", "8", "--hidden-dim", "32",
             "--window", "4", "--eval-windows", "1", "--f32", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "held-out" in r.stderr and "3/3 steps" in r.stderr
    assert "wrote" in r.stdout
    assert {"config.json", "model.safetensors", "tokenizer.model", "train_log.jsonl"} <= {p.name for p in out.iterdir()}
    model = minimistral.load(out)
    assert model.args.sliding_window == 4 and model.args.dim == 16
    assert len(read_log(out / "train_log.jsonl")) == 3


@pytest.mark.parametrize("options, fragment", [
    (["--steps", "0"], "steps"),
    (["--lr", "-1"], "lr"),
    (["--n-heads", "3", "--n-kv-heads", "2"], "n_kv_heads"),
    (["--head-dim", "7"], "head_dim"),
    (["--seq-len", "1"], "seq_len"),
    (["--steps", "many"], "--steps"),
    (["--name-weight", "0.5"], "name_weight"),
])
def test_cli_train_bad_options_exit_2_with_one_line(tmp_path, options, fragment):
    r = _cli("train", "--out", str(tmp_path / "x"), *options, cwd=tmp_path)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and fragment in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_train_needs_out(tmp_path):
    r = _cli("train", cwd=tmp_path)
    assert r.returncode == 2 and "--out" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_evaluate_scores_the_same_tokens_for_model_and_baselines(run):
    from minimistral.training.evaluate import evaluate

    r = evaluate(run.model, n_windows=2, seq_len=32, train_tokens=5000)
    assert r["heldout_tokens_scored"] == 2 * 31
    assert math.isclose(r["uniform_ce"], math.log(32000)) and math.isclose(r["uniform_ppl"], 32000)
    assert math.isclose(r["model_ppl"], math.exp(r["model_ce"]))
    assert r["unigram_ce"] < r["uniform_ce"]                        # counting words already helps
    windows = corpus.heldout_windows(2, 32)
    assert math.isclose(r["model_ce"], heldout_loss(run.model, windows))
