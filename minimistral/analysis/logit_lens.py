"""The logit lens: what each layer would predict if the model stopped there.

nostalgebraist 2020, "interpreting GPT: the logit lens" (LessWrong): the residual stream after
any layer has the shape of the last one, so the model's own final RMSNorm and output layer can
read it. Belrose et al. 2023, the tuned lens (arXiv 2303.08112), train a small map per layer
instead; this module is the plain lens, nothing trained.

    h_0     = embed(tokens)                    stage 0, "embedding"          [T, D]
    h_{i+1} = block_i(h_i)                     stage i + 1, "after layer i"  [T, D]
    lens_s  = output(rms_norm(h_s, norm))      [T, V], stage s = 0 .. L

The last stage is the model's output: lens_L = model.forward(tokens). (transformers'
``output_hidden_states`` gives h_0 .. h_{L-1} un-normed and, last, rms_norm(h_L) already normed,
so its last entry must not be normed again; tests/analysis/test_logit_lens.py compares both.)

    reading = logit_lens(model, ids, k=5, target=ids_next)
    reading.top_ids[s, t]       the k most likely tokens at stage s, position t
    reading.target_ranks[s, t]  rank of the target there (1 = the top token)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import MinimistralError
from ..guards.limits import check_fits, max_chunk_tokens
from ..guards.values import check_tokens, whole_number
from ..model import finite, rms_norm


def stage_names(n_layers: int) -> list[str]:
    """["embedding", "after layer 0", ..., "after layer L-1"]: the L + 1 points the lens reads."""
    return ["embedding"] + [f"after layer {i}" for i in range(n_layers)]


def residual_stream(model, tokens) -> np.ndarray:
    """float32 [L + 1, T, D]: the residual stream after the embedding and after each layer, un-normed.

    Tokens at positions 0..T-1 in one pass, no cache (as model.hidden_states, whose first L
    entries are these; its last is the normed output, this one's is h_L before the final norm).
    """
    ids = check_tokens(tokens, model.args.vocab_size)
    a = model.args
    if len(ids) > max_chunk_tokens(a):
        raise MinimistralError(f"the logit lens runs its {len(ids):,} tokens in one pass; at most "
                               f"{max_chunk_tokens(a):,} fit the pre-fill memory budget: pass a shorter text.")
    check_fits(4 * (a.n_layers + 1) * len(ids) * a.dim, f"the residual stream of {len(ids):,} tokens")
    positions = np.arange(len(ids))
    out = np.zeros((a.n_layers + 1, len(ids), a.dim), dtype=np.float32)          # [L + 1, T, D]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):           # finite() names it
        h = finite(model.weights.embed("tok_embeddings.weight", ids), "the token embeddings")
        out[0] = h
        for i in range(a.n_layers):
            h = finite(model.block(i, h, positions), f"layer {i}")                   # [T, D]
            out[i + 1] = h
    return out


def lens_logits(model, residual: np.ndarray) -> np.ndarray:
    """The final RMSNorm and output layer applied to residuals [..., T, D] -> logits float32 [..., T, V]."""
    residual = np.asarray(residual, dtype=np.float32)
    if residual.ndim < 2 or residual.shape[-1] != model.args.dim:
        raise MinimistralError(f"residuals must be [..., T, {model.args.dim}], got shape {list(residual.shape)}.")
    check_fits(4 * residual[..., 0].size * model.args.vocab_size, "the lens logits",
               "pass fewer tokens or fewer stages")
    normed = rms_norm(residual, model.weights.vector("norm.weight"), model.args.norm_eps)  # [..., T, D]
    flat = normed.reshape(-1, model.args.dim)                                           # [N, D]
    return model.weights.linear("output.weight", flat).reshape(residual.shape[:-1] + (-1,))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log of the softmax over the last axis, float32, the row's largest logit taken out first."""
    z = np.asarray(logits, dtype=np.float32)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True, dtype=np.float32))


class LensReading(NamedTuple):
    """What the lens reads at every stage s (embedding, after each layer) and position t."""
    stages: list            # [S] names, S = L + 1
    tokens: np.ndarray      # int64 [T] the input
    top_ids: np.ndarray     # int64 [S, T, k] the k most likely tokens, most likely first
    top_probs: np.ndarray   # float32 [S, T, k] their probabilities
    targets: np.ndarray | None       # int64 [T] the token asked about at each position
    target_probs: np.ndarray | None  # float32 [S, T] its probability
    target_ranks: np.ndarray | None  # int64 [S, T] its rank: 1 + how many tokens score higher


def checked_targets(target, n_tokens: int, vocab_size: int) -> np.ndarray | None:
    """None, one token id for every position, or one id per position -> int64 [T] (or None)."""
    if target is None:
        return None
    if np.ndim(target) == 0:
        tid = whole_number(target, "target", 0, maximum=vocab_size - 1, hint=" (a token id)")
        return np.full(n_tokens, tid, dtype=np.int64)
    ids = check_tokens(target, vocab_size)
    if len(ids) != n_tokens:
        raise MinimistralError(f"target holds {len(ids)} ids for {n_tokens} positions; give one id, or one per "
                               f"position (e.g. the lens of ids[:-1] with target ids[1:]).")
    return ids


def logit_lens(model, tokens, k: int = 5, target=None) -> LensReading:
    """Read every stage of the residual stream through the final norm and output layer.

    target: None, a token id (asked about at every position), or T ids (one per position; for
    "the token that comes next", pass tokens[:-1] and target tokens[1:]).
    """
    a = model.args
    k = whole_number(k, "k", 1, maximum=a.vocab_size, hint=" (tokens to keep per cell)")
    ids = check_tokens(tokens, a.vocab_size)
    targets = checked_targets(target, len(ids), a.vocab_size)
    residual = residual_stream(model, ids)                                      # [S, T, D]
    logp = log_softmax(lens_logits(model, residual))                            # [S, T, V]
    top = np.argsort(-logp, axis=-1, kind="stable")[..., :k]                    # [S, T, k]
    top_probs = np.exp(np.take_along_axis(logp, top, axis=-1)).astype(np.float32)
    probs = ranks = None
    if targets is not None:
        at = np.broadcast_to(targets[None, :, None], logp.shape[:2] + (1,))
        target_logp = np.take_along_axis(logp, at, axis=-1)                     # [S, T, 1]
        probs = np.exp(target_logp[..., 0]).astype(np.float32)                 # [S, T]
        ranks = 1 + (logp > target_logp).sum(-1).astype(np.int64)               # [S, T]
    return LensReading(stage_names(a.n_layers), ids, top.astype(np.int64), top_probs, targets, probs, ranks)
