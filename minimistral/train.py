"""Training a small Mistral in NumPy: AdamW, warm-up + cosine decay, clipping, HF checkpoints.

    params  = init_params(args, seed)                        # normal(0, 0.02), norm gains 1
    for step in 1..steps:
        tokens = batches[step]                               # [B, T], T > W: the window matters
        loss, grads = loss_and_grads(model, tokens)          # backward.py, the paper's model mirrored
        clip_global_norm(grads, 1.0)                         # all gradients scaled together
        adamw.update(params, grads, lr_at(step))             # decoupled weight decay, no decay on gains
    save_checkpoint(out, args, params)                       # config.json + model.safetensors (HF names)

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
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import corpus
from .backward import loss_and_grads
from .checkpoint import expected_shapes, hf_config, to_hf
from .config import ModelArgs
from .errors import MinimistralError
from .model import Mistral
from .weights import Weights, write_safetensors


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. The defaults are the shipped model's recipe."""

    # the model: 4 layers, D = 128, 8 query heads on 2 kv heads (GQA), window W = 16
    dim: int = 128                  # D
    n_layers: int = 4
    n_heads: int = 8                # H
    n_kv_heads: int = 2             # K
    head_dim: int = 16              # Hd
    hidden_dim: int = 384           # F
    sliding_window: int = 16        # W
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    # the data: B windows of T tokens of the corpus per step, T > W
    batch: int = 4                  # B
    seq_len: int = 128              # T
    corpus_seed: int = 0
    # the optimiser
    steps: int = 1200
    lr: float = 3e-3                # peak learning rate
    min_lr_ratio: float = 0.1       # the cosine ends at lr * min_lr_ratio
    warmup: int = 30                # steps of linear warm-up from 0
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    adam_eps: float = 1e-8
    clip: float = 1.0               # global gradient norm
    init_std: float = 0.02
    seed: int = 0
    # evaluation and output
    eval_every: int = 50            # held-out loss every this many steps (and at the end)
    eval_windows: int = 32          # held-out windows of T tokens
    checkpoint_every: int = 200     # intermediate checkpoints in checkpoints/ (0: only the final one)
    dtype: str = "BF16"             # storage of the written weights: "BF16" or "F32"

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
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise MinimistralError(f"{name} must be a whole number >= 1, got {value!r}.")
    if isinstance(c.seq_len, bool) or not isinstance(c.seq_len, int) or c.seq_len < 2:
        raise MinimistralError(f"seq_len must be a whole number >= 2 (a token and its successor), got {c.seq_len!r}.")
    for name in ("warmup", "checkpoint_every", "seed", "corpus_seed"):
        value = getattr(c, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise MinimistralError(f"{name} must be a whole number >= 0, got {value!r}.")
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

def init_params(args: ModelArgs, seed: int, std: float = 0.02) -> dict[str, np.ndarray]:
    """Every tensor the config implies, as Mistral's HF port initialises: normal(0, std), gains 1.

    (transformers' MistralPreTrainedModel._init_weights: Linear and Embedding weights
    ~ N(0, initializer_range = 0.02), RMSNorm weights = 1.) Drawn in the order of expected_shapes.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in expected_shapes(args).items():
        if name.endswith("norm.weight"):
            params[name] = np.ones(shape, dtype=np.float32)                         # [D]
        else:
            params[name] = rng.normal(0.0, std, size=shape).astype(np.float32)     # [out, in]
    return params


def decays(name: str) -> bool:
    """Weight decay applies to the matrices, not to the RMSNorm gains (they should stay near 1)."""
    return not name.endswith("norm.weight")


def lr_at(step: int, c: TrainConfig) -> float:
    """Learning rate of step (1-based): linear warm-up to c.lr, then cosine down to c.lr * min_lr_ratio.

        warmup 30, steps 1200, lr 3e-3:  step 15 -> 1.5e-3,  step 30 -> 3e-3,  step 1200 -> 3e-4
    """
    if step <= c.warmup:
        return c.lr * step / c.warmup
    progress = (step - c.warmup) / max(1, c.steps - c.warmup)                     # 0 .. 1
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))                  # 1 .. 0
    return c.lr * (c.min_lr_ratio + (1.0 - c.min_lr_ratio) * cosine)


def clip_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients by one factor so that their joint L2 norm is <= max_norm; returns the norm before."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if norm > max_norm:
        scale = np.float32(max_norm / (norm + 1e-6))
        for g in grads.values():
            g *= scale
    return norm


class AdamW:
    """Adam with decoupled weight decay (Loshchilov & Hutter, arXiv 1711.05101), as torch.optim.AdamW:

        p <- p * (1 - lr * wd)                          (decay, only where decays(name))
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)

    The moments m, v are float32 arrays shaped like the parameters; updates are in place.
    """

    def __init__(self, params: dict[str, np.ndarray], c: TrainConfig):
        self.c = c
        self.t = 0
        self.m = {n: np.zeros_like(p) for n, p in params.items()}
        self.v = {n: np.zeros_like(p) for n, p in params.items()}

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
        c = self.c
        self.t += 1
        b1, b2 = np.float32(c.beta1), np.float32(c.beta2)
        step_size = np.float32(lr / (1.0 - c.beta1 ** self.t))
        root_bias2 = np.float32(math.sqrt(1.0 - c.beta2 ** self.t))
        for name, p in params.items():
            g, m, v = grads[name], self.m[name], self.v[name]
            if c.weight_decay and decays(name):
                p *= np.float32(1.0 - lr * c.weight_decay)
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * np.square(g)
            denom = np.sqrt(v) / root_bias2 + np.float32(c.adam_eps)
            p -= step_size * m / denom


def model_of(args: ModelArgs, params: dict[str, np.ndarray], tokenizer=None) -> Mistral:
    """A Mistral reading the float32 params in place (no copy), for loss_and_grads and evaluation."""
    return Mistral(args, Weights.from_arrays(params), tokenizer=tokenizer)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """float64 [T]: -log softmax(logits)[target] per row, logits [T, V] float32."""
    z = logits - logits.max(axis=-1, keepdims=True)                                 # [T, V]
    log_z = np.log(np.sum(np.exp(z), axis=-1, dtype=np.float64))                    # [T]
    return log_z - z[np.arange(len(targets)), targets]                              # [T]


def heldout_loss(model: Mistral, windows: np.ndarray) -> float:
    """Mean next-token cross-entropy (nats) over held-out windows [N, T], by the forward pass alone."""
    total, count = 0.0, 0
    for row in windows:                                                             # [T]
        logits = model.forward(row)                                                 # [T, V]
        total += float(cross_entropy(logits[:-1], row[1:]).sum())
        count += len(row) - 1
    return total / count


def evaluate(model: Mistral, n_windows: int = 256, seq_len: int = 128, train_tokens: int = 2_000_000,
             corpus_seed: int = 0) -> dict:
    """Held-out cross-entropy (nats/token) and perplexity of a model, beside two baselines.

    The same predictions are scored for all three: positions 1..T-1 of n_windows held-out windows.
      uniform  every one of the V = 32000 tokens equally likely: ln 32000 = 10.37 nats
      unigram  p(token) counted on the first train_tokens of the training split, add-one smoothed
               (corpus.unigram_log_probs): what a model knows without looking at the context
    """
    windows = corpus.heldout_windows(n_windows, seq_len, corpus_seed, model.tokenizer)      # [N, T]
    unigram = corpus.unigram_log_probs(corpus.token_stream("train", train_tokens, corpus_seed, model.tokenizer),
                                       model.args.vocab_size)                               # [V]
    ce = heldout_loss(model, windows)
    ce_unigram = float(-unigram[windows[:, 1:]].mean())
    ce_uniform = math.log(model.args.vocab_size)
    return {"heldout_tokens_scored": int(windows[:, 1:].size), "model_ce": ce, "model_ppl": math.exp(ce),
            "unigram_ce": ce_unigram, "unigram_ppl": math.exp(ce_unigram),
            "uniform_ce": ce_uniform, "uniform_ppl": math.exp(ce_uniform)}


# ---- checkpoints: the HF layout that minimistral.load and transformers read --------------------

def save_checkpoint(directory, args: ModelArgs, params: dict[str, np.ndarray], dtype: str = "BF16") -> Path:
    """Write config.json + model.safetensors (HF names, HF q/k row order) + tokenizer.model."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_safetensors(directory / "model.safetensors", to_hf(args, params), dtype=dtype,
                      metadata={"format": "pt"})          # checkpoint.py: the layout, both ways
    (directory / "config.json").write_text(json.dumps(hf_config(args, dtype), indent=2) + "\n")
    shutil.copy(corpus.TOKENIZER_PATH, directory / "tokenizer.model")
    return directory


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
    params = init_params(args, c.seed, c.init_std)
    model = model_of(args, params, tok)
    adamw = AdamW(params, c)

    log, start = [], time.perf_counter()
    log_file = open(out / "train_log.jsonl", "w")
    try:
        for step in range(1, c.steps + 1):
            t0 = time.perf_counter()
            tokens = batches[step - 1]                                                # [B, T]
            loss, grads = loss_and_grads(model, tokens)
            if not math.isfinite(loss):
                raise MinimistralError(f"the loss became {loss} at step {step}; lower --lr.")
            grad_norm = clip_global_norm(grads, c.clip)
            lr = lr_at(step, c)
            adamw.update(params, grads, lr)
            model = model_of(args, params, tok)    # fresh Weights: no cached copy of the old gains
            tokens_per_s = tokens.size / (time.perf_counter() - t0)
            held = sample = None
            if step % c.eval_every == 0 or step == c.steps or step == 1:
                held = heldout_loss(model, heldout)
                sample = sample_text(model)
            row = {"step": step, "steps": c.steps, "lr": lr, "loss": float(loss), "heldout_loss": held,
                   "grad_norm": grad_norm, "tokens_per_s": tokens_per_s,
                   "elapsed_s": time.perf_counter() - start, "sample": sample}
            log.append(row)
            log_file.write(json.dumps(row) + "\n")
            log_file.flush()
            if c.checkpoint_every and step % c.checkpoint_every == 0 and step != c.steps:
                save_checkpoint(out / "checkpoints" / f"step-{step:06d}", args, params, c.dtype)
            if progress is not None:
                progress(row)
    finally:
        log_file.close()
    save_checkpoint(out, args, params, c.dtype)
    return TrainResult(params, model, log, out)


def read_log(path) -> list[dict]:
    """The rows of a train_log.jsonl."""
    try:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        raise MinimistralError(f"cannot read the training log {path}: {e}.") from None


def plot_loss(log_path, png_path, title: str | None = None) -> Path:
    """figures/training_loss.png: training loss (per step, and smoothed) and held-out loss vs step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_log(log_path)
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    held = [(r["step"], r["heldout_loss"]) for r in rows if r["heldout_loss"] is not None]
    k = max(1, len(rows) // 40)
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")                       # moving average
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for ax, zoom in zip(axes, (False, True)):
        ax.plot(steps, loss, color="tab:blue", alpha=0.25, lw=0.8, label="training loss (each step)")
        ax.plot(steps[k - 1:], smooth, color="tab:blue", lw=1.8, label=f"training loss ({k}-step mean)")
        ax.plot(*zip(*held), "o-", color="tab:orange", lw=1.5, ms=3.5, label="held-out loss")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if zoom:                            # the second half, where the curve flattens
            half = steps[-1] // 2
            tail = [v for s, v in held if s >= half] + list(loss[steps >= half])
            ax.set_xlim(half, steps[-1])
            ax.set_ylim(min(tail) * 0.95, max(tail) * 1.05)
            ax.set_title("second half, zoomed", fontsize=10)
        else:
            ax.axhline(math.log(32000), color="grey", ls=":", lw=1)
            ax.text(steps[-1], math.log(32000), "uniform: ln 32000 = 10.37", ha="right", va="bottom",
                    fontsize=8, color="grey")
            ax.set_ylim(0, 11)
            ax.set_ylabel("cross-entropy (nats / token)")
            ax.set_title("all steps", fontsize=10)
            ax.legend(fontsize=8)
    fig.suptitle(title or "Training a tiny Mistral in NumPy")
    fig.tight_layout()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path)
    plt.close(fig)
    return png_path
