"""Does a trained SWA stack use its reach? Train tiny models on a copy task and measure.

receptive_field.py proves what *can* flow: after k layers of window W, the output at position t
may depend on the input at t - delta only when delta <= k (W - 1). Whether training finds a way to
carry a token that far is another question, asked here with the NumPy backward pass.

The task: copy at a fixed distance. Each sequence starts with p = delta + 1 random tokens and then
repeats them (period p), so from position p on every next token is the one p positions back:

    delta = 2 (period 3):   7 1 4 | 7 1 4 | 7 1 4 ...
    query at position t predicts token t + 1 = token t + 1 - p = token t - delta

The query has to read the token delta positions back from itself. Nothing closer helps: inside
one period the tokens are independent and uniform, so a model that cannot reach delta back is
at chance (1/V). Accuracy is the greedy next-token accuracy on those positions, on fresh sequences.

Training: ``loss_and_grads`` (the whole next-token loss; the random first period only teaches
the uniform prior) and a small AdamW with warm-up and cosine decay, written out below so the
experiment does not depend on the trainer's settings for the 32000-token stories.

    acc = run_one(window=4, n_layers=2, delta=5, steps=300)   # 2 x 3 = 6 >= 5: learnable
"""

from __future__ import annotations

import functools

import numpy as np

from ..config import ModelArgs
from ..model import Mistral
from ..receptive_field import theory_reach
from .init import random_weights
from .optim import AdamW, clip_global_norm, lr_at

VOCAB = 16          # V: tiny, so chance is 1/16 and a token fits easily in the residual stream


def tiny_args(window: int | None, n_layers: int, vocab: int = VOCAB, dim: int = 64) -> ModelArgs:
    """A small Mistral for the copy task: D = 64, 4 query heads on 2 kv heads (GQA), Hd = 16."""
    return ModelArgs(dim=dim, n_layers=n_layers, head_dim=16, hidden_dim=2 * dim, n_heads=4,
                     n_kv_heads=2, sliding_window=window, context_len=1024, vocab_size=vocab)


def copy_sequences(rng: np.random.Generator, n: int, T: int, delta: int, vocab: int = VOCAB) -> np.ndarray:
    """int64 [n, T]: delta + 1 random tokens, repeated (period delta + 1) to length T.

    copy_sequences(rng, 1, 8, 2) -> e.g. [[7 1 4 7 1 4 7 1]]
    """
    period = delta + 1
    first = rng.integers(0, vocab, size=(n, period))                          # [n, p]
    return np.tile(first, (1, -(-T // period)))[:, :T].astype(np.int64)       # [n, T]


def copy_accuracy(model: Mistral, delta: int, n: int = 64, T: int = 64, seed: int = 12345) -> float:
    """Greedy next-token accuracy on the predictable positions (targets from delta + 1 on)."""
    seqs = copy_sequences(np.random.default_rng(seed), n, T, delta, model.args.vocab_size)
    hits, total = 0, 0
    for s in seqs:
        pred = model.forward(s).argmax(-1)                                     # [T] next-token guesses
        hits += int((pred[delta:-1] == s[delta + 1:]).sum())                   # query t -> token t + 1
        total += T - 1 - delta
    return hits / total


def train_copy(args: ModelArgs, delta: int, steps: int, batch: int = 16, T: int = 64, lr: float = 3e-3,
               warmup: int = 30, weight_decay: float = 0.01, clip: float = 1.0, seed: int = 0):
    """Train a fresh model on the copy task: returns (model, losses [steps]).

    optim.py's AdamW (beta 0.9 / 0.98), lr warm-up then cosine decay to lr / 10, global-norm
    clipping; decay on the matrices, not on the norm gains.
    """
    from .backward import loss_and_grads

    model = Mistral(args, random_weights(args, seed=seed, std=0.08))
    params = {name: t.raw for name, t in model.weights.tensors.items()}        # updated in place
    opt = AdamW(params, beta1=0.9, beta2=0.98, eps=1e-8, weight_decay=weight_decay)
    rng = np.random.default_rng(seed + 1)
    losses = []
    for step in range(1, steps + 1):
        tokens = copy_sequences(rng, batch, T, delta, args.vocab_size)        # [B, T]
        loss, grads = loss_and_grads(model, tokens)
        losses.append(loss)
        clip_global_norm(grads, clip)
        opt.update(params, grads, lr_at(step, lr, warmup, steps, min_lr_ratio=0.1))
    return model, losses


def run_one(window: int | None, n_layers: int, delta: int, steps: int, seed: int = 0, **train) -> dict:
    """Train one (W, k, delta) model and measure it: a result row for reach.json."""
    args = tiny_args(window, n_layers)
    model, losses = train_copy(args, delta, steps, seed=seed, **train)
    return {"window": window, "n_layers": n_layers, "delta": delta, "steps": steps, "seed": seed,
            "accuracy": copy_accuracy(model, delta, T=train.get("T", 64)),
            "final_loss": float(np.mean(losses[-10:])),
            "theory_reach": None if window is None else theory_reach(window, n_layers)}


@functools.cache
def relay_example(steps: int = 300, seed: int = 0):
    """A model that carries a token past its window, and one retrieval to watch: the copy task
    with W = 4, k = 2, delta = 5 (5 > W - 1 = 3, within k (W - 1) = 6), trained here in a few
    seconds on 2 cores. Returns (model, ids [24], source, query, target): the query at position 13
    must predict the token said at position 8, 5 back, which no single window reaches. Trained
    once per process and arguments (cached): later calls return the same model, so use it, do not
    train it further.

        model, ids, source, query, target = relay_example()
        cut_experiment(model, ids, source, query, target)      # analysis/trace.py
    """
    delta = 5
    model, _ = train_copy(tiny_args(4, 2), delta, steps, seed=seed)
    ids = copy_sequences(np.random.default_rng(7), 1, 24, delta, model.args.vocab_size)[0]
    query = 13
    return model, ids, query - delta, query, int(ids[query + 1])
