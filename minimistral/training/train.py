"""Training a small Mistral in NumPy: AdamW, warm-up + cosine decay, clipping, HF checkpoints.

    params  = init_params(args, seed)                        # normal(0, 0.02), norm gains 1
    for step in 1..steps:
        tokens = batches[step]                               # [B, T], T > W: the window matters
        weights = corpus.name_weights(tokens, 10.0)          # names said again count 10 times
        loss, grads = loss_and_grads(model, tokens, loss_mask=weights)   # backward.py, the model mirrored
        clip_global_norm(grads, 1.0)                         # all gradients scaled together
        adamw.update(params, grads, lr_at(step))             # decoupled weight decay, no decay on gains
    write_hf_checkpoint(out, args, params)                       # config.json + model.safetensors (HF names)

``train(TrainConfig(...), out_dir)`` runs it and writes, in out_dir:

    config.json, model.safetensors, tokenizer.model    the model (HF layout; minimistral.load and
                                                       transformers' MistralForCausalLM both read it)
    train_log.jsonl                                    one JSON line per step: step, lr, loss (the
                                                       batch's mean, weighted by name_weight), held-out
                                                       loss (the plain mean, every eval_every), tokens/s,
                                                       elapsed
    train_config.json                                  the TrainConfig used
    checkpoints/step-000500/ ...                       intermediate checkpoints, if checkpoint_every

The data are the project's own stories (corpus.py). Same seed on the same machine gives the
same weights bit for bit: the initialisation and the batches are seeded, and nothing else is random.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checkpoints.export import write_hf_checkpoint
from ..checkpoints.weights import Weights
from ..config import ModelArgs
from ..errors import MinimistralError
from ..guards.files import output_dir, read_small
from ..guards.jsontext import parse_json
from ..guards.textio import show
from ..guards.values import describe, real_number, shown, whole_number
from ..model import Mistral
from . import corpus
from .backward import loss_and_grads
from .evaluate import heldout_loss
from .init import init_params
from .optim import AdamW, checked_hyper_parameters, clip_global_norm, lr_at
from .progress import TrainingProgress
from .vocab import CompactVocab


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. The defaults are the shipped model's recipe."""

    # the model: 6 layers, D = 128, 8 query heads on 2 kv heads (GQA), window W = 32:
    # a reach of 6 x 31 = 186 tokens, about half a story (the corpus plans names around it)
    dim: int = 128                  # D
    n_layers: int = 6
    n_heads: int = 8                # H
    n_kv_heads: int = 2             # K
    head_dim: int = 16              # Hd
    hidden_dim: int = 384           # F
    sliding_window: int = 32        # W
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    # the data: B windows of T tokens of the corpus per step, T > W (a story is 150-400 tokens)
    batch: int = 8                  # B
    seq_len: int = 512              # T
    corpus_seed: int = 0
    # the optimiser
    steps: int = 6000
    lr: float = 3e-3                # peak learning rate
    min_lr_ratio: float = 0.1       # the cosine ends at lr * min_lr_ratio
    warmup: int = 100               # steps of linear warm-up from 0
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    clip: float = 1.0               # global gradient norm
    init_std: float = 0.02
    seed: int = 0
    # a name said again weighs this many ordinary tokens in the loss (1: the plain mean): the
    # rare predictions (2.3 % of the tokens) that need a name carried from earlier in the story
    # (corpus.name_weights). With 1 the model copied names only inside its window; with 10 it
    # learned to carry them past it (data/story-mistral/TRAINING.md)
    name_weight: float = 10.0
    # evaluation and output
    eval_every: int = 250           # held-out loss every this many steps (and at the end)
    eval_windows: int = 16          # held-out windows of T tokens
    checkpoint_every: int = 1000    # intermediate checkpoints in checkpoints/ (0: only the final one)
    dtype: str = "BF16"             # storage of the written weights: "BF16" or "F32"
    compact_vocab: bool = True      # train S + 1 output rows, exactly (vocab.py), not all 32000

    def lr_at(self, step: int) -> float:
        """This recipe's learning rate at step (1-based): optim.lr_at with its warm-up and cosine."""
        return lr_at(step, self.lr, self.warmup, self.steps, self.min_lr_ratio)

    def adamw(self, params: dict[str, np.ndarray]) -> AdamW:
        """An AdamW over params with this recipe's betas, eps and weight decay."""
        return AdamW(params, self.beta1, self.beta2, self.adam_eps, self.weight_decay)

    def model_args(self) -> ModelArgs:
        """The ModelArgs of the trained model (vocabulary: the real tokenizer's 32000)."""
        return ModelArgs(dim=self.dim, n_layers=self.n_layers, head_dim=self.head_dim,
                         hidden_dim=self.hidden_dim, n_heads=self.n_heads, n_kv_heads=self.n_kv_heads,
                         sliding_window=self.sliding_window, context_len=8192, vocab_size=32000,
                         norm_eps=self.norm_eps, rope_theta=self.rope_theta)


def check_config(c: TrainConfig) -> TrainConfig:
    """c with every number a plain int or float (an np.int64 or a Fraction would reach json.dumps
    and NumPy otherwise), or MinimistralError, one sentence naming the option, if it cannot train."""
    if not isinstance(c, TrainConfig):
        raise MinimistralError(f"config must be a TrainConfig, got {describe(c)}.")
    fixed = {name: whole_number(getattr(c, name), name, 1) for name in (
        "steps", "batch", "dim", "n_layers", "n_heads", "n_kv_heads", "head_dim", "hidden_dim",
        "sliding_window", "eval_every", "eval_windows")}
    fixed["seq_len"] = whole_number(c.seq_len, "seq_len", 2, hint=" (a token and its successor)")
    for name in ("warmup", "checkpoint_every", "seed", "corpus_seed"):
        fixed[name] = whole_number(getattr(c, name), name)
    for name in ("init_std", "rope_theta", "norm_eps"):
        fixed[name] = real_number(getattr(c, name), name, "a number > 0", lambda x: x > 0)
    fixed["name_weight"] = real_number(c.name_weight, "name_weight", "a number >= 1", lambda x: x >= 1)
    fixed.update(checked_hyper_parameters(c))
    if c.dtype not in ("BF16", "F32"):
        raise MinimistralError(f"dtype must be 'BF16' or 'F32', got {shown(c.dtype)}.")
    c = dataclasses.replace(c, **fixed)
    if c.head_dim % 2:
        raise MinimistralError(f"head_dim must be even (RoPE rotates pairs of features), got {c.head_dim}.")
    if c.n_heads % c.n_kv_heads:
        raise MinimistralError(f"n_heads ({c.n_heads}) must be a multiple of n_kv_heads ({c.n_kv_heads}).")
    return c


# ---- the pieces -----------------------------------------------------------------------------

def model_of(args: ModelArgs, params: dict[str, np.ndarray], tokenizer=None) -> Mistral:
    """A Mistral reading the float32 params in place (no copy), for loss_and_grads and evaluation."""
    return Mistral(args, Weights.from_arrays(params), tokenizer=tokenizer)


# ---- the loop ---------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What train() returns: the final float32 params, the model over them, the log rows, and
    where it wrote them (an absolute path)."""

    params: dict
    model: Mistral
    log: list
    out_dir: Path

    def summary(self) -> str:
        """One line: where the checkpoint is and how the run ended."""
        last = self.log[-1]
        held = f", held-out {last['heldout_loss']:.3f}" if last["heldout_loss"] is not None else ""
        return (f"wrote {show(self.out_dir)} (config.json, model.safetensors, tokenizer.model, "
                f"train_log.jsonl); final loss {last['loss']:.3f}{held} nats/token, "
                f"{last['elapsed_s'] / 60:.1f} min")

    def __repr__(self):                  # a notebook shows this, not 10^7 parameters
        return f"TrainResult({self.summary()})"


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during train(): the message says after which step and which checkpoint survives."""


# At every held-out evaluation the log also keeps the greedy continuation of the paper's sentence,
# so the model's progress can be read as text (notebook 07) without keeping the checkpoints.
SAMPLE_PROMPT = "The cat sat on the mat and saw the dog go to"


def sample_text(model: Mistral, prompt: str = SAMPLE_PROMPT, max_tokens: int = 24) -> str:
    """The greedy continuation of prompt (the prompt included), as text."""
    ids = model.tokenizer.encode(prompt)
    return model.tokenizer.decode(ids + model.generate(ids, max_tokens=max_tokens, temperature=0.0))


def train(config: TrainConfig, out_dir, progress=None) -> TrainResult:
    """Train from scratch on the corpus, writing the checkpoint and the log into out_dir.

    ``progress``: None draws the training line on stderr when stderr is a terminal and ends
    with one line saying where the checkpoint is (cli/ prints everything else; a run of minutes
    in silence is worse); True draws it wherever stderr goes (a notebook: a line per
    evaluation); False draws nothing; a function is called after every step with the log row
    (a dict: step, steps, lr, loss, heldout_loss or None, tokens_per_s, elapsed_s, grad_norm).

    What survives a failure: checkpoints are written whole or not at all (export.py); Ctrl-C
    raises TrainingInterrupted and a write that fails (a full disk) MinimistralError, both
    naming the last complete checkpoint. The returned out_dir is absolute.
    """
    c = check_config(config)
    args = c.model_args()
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise MinimistralError(f"progress must be None, True, False or a function called as progress(row); "
                               f"got {describe(progress)}.")
    if progress is None or progress is True:
        bar = TrainingProgress()
        progress = bar if (progress or bar.bar.live) else None
    elif progress is False:
        progress = None
    run = _Run(output_dir(out_dir), c)
    try:
        result = _train(c, args, run, progress)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"training stopped after step {run.done} of {c.steps}; "
                                  f"{run.survivors()}") from None
    finally:
        if isinstance(progress, TrainingProgress):
            progress.finish()
    if isinstance(progress, TrainingProgress):
        print(result.summary(), file=progress.bar.stream)
    return result


class _Run:
    """Where a run writes, and what of it is complete: for the messages of a run that fails."""

    def __init__(self, out: Path, c: TrainConfig):
        self.out, self.c, self.done, self.checkpoint = out, c, 0, None

    def survivors(self) -> str:
        """'the last complete checkpoint is ...' or why there is none; and what the log holds."""
        if self.checkpoint is not None:
            kept = f"the last complete checkpoint is {show(self.checkpoint)}"
        elif self.c.checkpoint_every and self.c.checkpoint_every < self.c.steps:
            kept = f"no checkpoint was complete yet (the first comes at step {self.c.checkpoint_every})"
        else:
            kept = "no checkpoint was written (only the final one was planned)"
        steps = "step 1" if self.done == 1 else f"steps 1-{self.done}"
        return kept + (f"; {show(self.out / 'train_log.jsonl')} holds {steps}" if self.done else "")

    @contextmanager
    def writing(self, path: Path):
        """An OSError while writing path (a full disk, a read-only directory) becomes one sentence."""
        try:
            yield
        except OSError as e:
            raise MinimistralError(f"cannot write {show(path)}: {e.strerror or e}; {self.survivors()}.") from None


def _train(c: TrainConfig, args: ModelArgs, run: _Run, progress) -> TrainResult:
    """train() once its arguments are checked: the loop, every file written through run.writing."""
    out = run.out
    with run.writing(out / "train_config.json"):
        (out / "train_config.json").write_text(json.dumps(dataclasses.asdict(c), indent=2) + "\n")
    tok = corpus.tokenizer()
    batches = corpus.Batches(c.batch, c.seq_len, c.steps, c.corpus_seed, tok)        # [steps][B, T]
    heldout = corpus.heldout_windows(c.eval_windows, c.seq_len, c.corpus_seed, tok)  # [N, T]
    vocab = CompactVocab.of(batches.rows, args.vocab_size) if c.compact_vocab else None
    params = init_params(args, c.seed, c.init_std)
    if vocab is not None:              # train the corpus's S pieces and one shared rest row
        params = vocab.compact(params)
        model = model_of(args.replace(vocab_size=vocab.size), params)
        bias = vocab.output_bias()                                                    # [S + 1]
    else:
        model, bias = model_of(args, params, tok), None
    adamw = c.adamw(params)

    def full_params():
        return params if vocab is None else vocab.expand(params)                      # [V, D] tables

    log, start = [], time.perf_counter()
    with run.writing(out / "train_log.jsonl"):
        log_file = open(out / "train_log.jsonl", "w")
    with log_file:
        for step in range(1, c.steps + 1):
            t0 = time.perf_counter()
            tokens = batches[step - 1]                                                # [B, T]
            weights = None if c.name_weight == 1 else corpus.name_weights(tokens, c.name_weight, tok)
            if vocab is not None:
                tokens = vocab.index[tokens]                                          # full -> compact ids
            loss, grads = loss_and_grads(model, tokens, bias, loss_mask=weights)
            if not math.isfinite(loss):
                raise MinimistralError(f"the loss became {loss} at step {step}; lower --lr "
                                       f"({run.survivors()}).")
            grad_norm = clip_global_norm(grads, c.clip)
            lr = c.lr_at(step)
            adamw.update(params, grads, lr)
            tokens_per_s = tokens.size / (time.perf_counter() - t0)
            held = sample = None
            if step % c.eval_every == 0 or step == c.steps or step == 1:
                full = model_of(args, full_params(), tok)          # the model the checkpoint holds
                held = heldout_loss(full, heldout)
                sample = sample_text(full)
            row = {"step": step, "steps": c.steps, "lr": lr, "loss": float(loss), "heldout_loss": held,
                   "grad_norm": grad_norm, "tokens_per_s": tokens_per_s,
                   "elapsed_s": time.perf_counter() - start, "sample": sample}
            log.append(row)
            with run.writing(out / "train_log.jsonl"):
                log_file.write(json.dumps(row) + "\n")
                log_file.flush()
            run.done = step
            if c.checkpoint_every and step % c.checkpoint_every == 0 and step != c.steps:
                path = out / "checkpoints" / f"step-{step:06d}"
                with run.writing(path):
                    write_hf_checkpoint(path, args, full_params(), c.dtype)
                run.checkpoint = path
            if progress is not None:
                progress(row)
    final = full_params()
    with run.writing(out):
        write_hf_checkpoint(out, args, final, c.dtype)
    return TrainResult(final, model_of(args, final, tok), log, out)


def read_log(path) -> list[dict]:
    """The rows of a train_log.jsonl (each line a JSON object, read as guards/jsontext.py reads JSON)."""
    try:
        lines = read_small(path, what="the training log").decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise MinimistralError(f"the training log {show(path)} is not UTF-8 text; is it the right file?") from None
    rows = [parse_json(line, f"{path} line {i}") for i, line in enumerate(lines, 1) if line.strip()]
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise MinimistralError(f"the training log {show(path)} has a row that is not a JSON object "
                                   f"(row {i}); is it a train_log.jsonl?")
    return rows
