"""Training a small Mistral in NumPy: AdamW, warm-up + cosine decay, clipping, HF checkpoints.

    params  = init_params(args, seed)                        # normal(0, 0.02), norm gains 1
    for step in 1..steps:
        tokens = batches[step]                               # [B, T], T > W: the window matters
        loss, grads = loss_and_grads(model, tokens)          # backward.py, the paper's model mirrored
        clip_global_norm(grads, 1.0)                         # all gradients scaled together
        adamw.update(params, grads, lr_at(step))             # decoupled weight decay, no decay on gains
    write_hf_checkpoint(out, args, params)                       # config.json + model.safetensors (HF names)

``train(TrainConfig(...), out_dir)`` runs it and writes, in out_dir:

    config.json, model.safetensors, tokenizer.model    the model (HF layout; minimistral.load and
                                                       transformers' MistralForCausalLM both read it)
    train_log.jsonl                                    one JSON line per step: step, lr, loss,
                                                       held-out loss (every eval_every), tokens/s, elapsed
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checkpoints.export import write_hf_checkpoint
from ..checkpoints.weights import Weights
from ..config import ModelArgs
from ..errors import MinimistralError
from ..guards.values import whole_number
from ..model import Mistral
from . import corpus
from .backward import loss_and_grads
from .evaluate import heldout_loss
from .init import init_params
from .optim import AdamW, clip_global_norm, lr_at
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
    steps: int = 5000
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


def check_config(c: TrainConfig) -> None:
    """Raise MinimistralError, one sentence naming the option, for a config that cannot train."""
    positive = {"steps": c.steps, "batch": c.batch, "dim": c.dim, "n_layers": c.n_layers,
                "n_heads": c.n_heads, "n_kv_heads": c.n_kv_heads, "head_dim": c.head_dim,
                "hidden_dim": c.hidden_dim, "sliding_window": c.sliding_window,
                "eval_every": c.eval_every, "eval_windows": c.eval_windows}
    for name, value in positive.items():
        whole_number(value, name, 1)
    whole_number(c.seq_len, "seq_len", 2, hint=" (a token and its successor)")
    for name in ("warmup", "checkpoint_every", "seed", "corpus_seed"):
        whole_number(getattr(c, name), name)
    for name in ("lr", "init_std", "clip", "rope_theta", "norm_eps", "adam_eps"):
        value = getattr(c, name)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise MinimistralError(f"{name} must be a number > 0, got {value!r}.")
    for name in ("weight_decay", "min_lr_ratio", "beta1", "beta2"):
        value = getattr(c, name)
        if not (isinstance(value, (int, float)) and 0 <= value < (1.0 if name.startswith("beta") else math.inf)):
            raise MinimistralError(f"{name} must be a number >= 0{' and < 1' if name.startswith('beta') else ''}, "
                                   f"got {value!r}.")
    if c.dtype not in ("BF16", "F32"):
        raise MinimistralError(f"dtype must be 'BF16' or 'F32', got {c.dtype!r}.")
    if c.head_dim % 2:
        raise MinimistralError(f"head_dim must be even (RoPE rotates pairs of features), got {c.head_dim}.")
    if c.n_heads % c.n_kv_heads:
        raise MinimistralError(f"n_heads ({c.n_heads}) must be a multiple of n_kv_heads ({c.n_kv_heads}).")


# ---- the pieces -----------------------------------------------------------------------------

def model_of(args: ModelArgs, params: dict[str, np.ndarray], tokenizer=None) -> Mistral:
    """A Mistral reading the float32 params in place (no copy), for loss_and_grads and evaluation."""
    return Mistral(args, Weights.from_arrays(params), tokenizer=tokenizer)


# ---- the loop ---------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What train() returns: the final float32 params, the model over them, the log rows."""

    params: dict
    model: Mistral
    log: list
    out_dir: Path


# At every held-out evaluation the log also keeps the greedy continuation of the paper's sentence,
# so the model's progress can be read as text (notebook 07) without keeping the checkpoints.
SAMPLE_PROMPT = "The cat sat on the mat and saw the dog go to"


def sample_text(model: Mistral, prompt: str = SAMPLE_PROMPT, max_tokens: int = 24) -> str:
    """The greedy continuation of prompt (the prompt included), as text."""
    ids = model.tokenizer.encode(prompt)
    return model.tokenizer.decode(ids + model.generate(ids, max_tokens=max_tokens, temperature=0.0))


def train(config: TrainConfig, out_dir, progress=None) -> TrainResult:
    """Train from scratch on the corpus, writing the checkpoint and the log into out_dir.

    ``progress(row)``, if given, is called after every step with the log row (a dict: step,
    steps, lr, loss, heldout_loss or None, tokens_per_s, elapsed_s, grad_norm).
    """
    check_config(config)
    c, args = config, config.model_args()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinimistralError(f"cannot create the output directory {out}: {e.strerror}.") from None
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
    log_file = open(out / "train_log.jsonl", "w")
    try:
        for step in range(1, c.steps + 1):
            t0 = time.perf_counter()
            tokens = batches[step - 1]                                                # [B, T]
            if vocab is not None:
                tokens = vocab.index[tokens]                                          # full -> compact ids
            loss, grads = loss_and_grads(model, tokens, bias)
            if not math.isfinite(loss):
                raise MinimistralError(f"the loss became {loss} at step {step}; lower --lr.")
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
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            if c.checkpoint_every and step % c.checkpoint_every == 0 and step != c.steps:
                write_hf_checkpoint(out / "checkpoints" / f"step-{step:06d}", args, full_params(), c.dtype)
            if progress is not None:
                progress(row)
    finally:
        log_file.close()
    final = full_params()
    write_hf_checkpoint(out, args, final, c.dtype)
    return TrainResult(final, model_of(args, final, tok), log, out)


def read_log(path) -> list[dict]:
    """The rows of a train_log.jsonl."""
    try:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        raise MinimistralError(f"cannot read the training log {path}: {e}.") from None
