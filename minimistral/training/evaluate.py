"""How well a model predicts text: cross-entropy on held-out windows, beside the unigram and
uniform baselines that say what "good" means for this corpus and vocabulary."""

from __future__ import annotations

import math

import numpy as np

from ..model import Mistral
from . import corpus


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
