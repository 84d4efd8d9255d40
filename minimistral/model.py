"""The Mistral transformer: RMSNorm, RoPE, sliding-window GQA attention, SwiGLU, pre-norm blocks.

    h = embed(tokens)                                   # [T] -> [T, D]
    for each of the 32 blocks:
        h = h + attention(rms_norm(h))                  # window W, GQA, RoPE
        h = h + feed_forward(rms_norm(h))               # SwiGLU
    logits = output(rms_norm(h))                        # [T, D] -> [T, V]

With a RollingBufferCache (rolling_buffer.py) the same blocks do inference as in the paper's
section 2: ``prefill`` feeds a prompt in chunks (Fig. 3), ``decode`` one token (Fig. 2), and
``generate`` / ``stream`` / ``session`` sample new tokens. Those three, and ``attention_maps``,
are doors to the modules beside the model (generation.py, attention_maps.py), imported
when they are called: the network itself depends only on the mechanisms below it.

Parameters are reached only through ``Weights`` (linear / embed / vector by native tensor name),
so how they are stored (bf16, memory-mapped, HF or native layout) never shows up here.

One idea, longer than the others: the network and its passes (forward, pre-fill, decode).
"""

from __future__ import annotations

import numpy as np

from .checkpoints.weights import Weights
from .config import ModelArgs
from .errors import MinimistralError
from .gqa import grouped_attention
from .guards.limits import check_fits, max_chunk_tokens
from .guards.values import check_chunk_size, check_tokens, describe
from .masks import sliding_window_mask
from .rolling_buffer import RollingBufferCache
from .rope import apply_rope, rope_angles


def rms_norm(x: np.ndarray, gain: np.ndarray, eps: float) -> np.ndarray:
    """x / sqrt(mean(x^2) + eps) * gain, over the last axis: [T, D] -> [T, D]."""
    ms = np.mean(np.square(x), axis=-1, keepdims=True, dtype=np.float32)   # [T, 1]
    return (x / np.sqrt(ms + np.float32(eps))) * gain


def silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x), the "Swish" gate of SwiGLU."""
    with np.errstate(over="ignore"):      # exp(-x) overflows to inf for x < -88: silu -> -0
        return x / (np.float32(1.0) + np.exp(-x))


# forward() runs longer inputs through chunked pre-fill: scores [K, G, 512, <= W + 512], not [T, T].
FORWARD_CHUNK = 512


class NonFiniteError(MinimistralError):
    """The forward pass produced inf or NaN (which layer is in the message)."""


def finite(x: np.ndarray, where: str) -> np.ndarray:
    """x, or NonFiniteError naming where inf or NaN appeared (embeddings, a layer, the final norm,
    the output layer): a corrupt weight never turns into silent garbage text."""
    if not np.isfinite(x).all():
        raise NonFiniteError(f"the forward pass produced inf or NaN in {where}; the weights may be corrupt.")
    return x


class Mistral:
    """Mistral 7B (or any ModelArgs) over a Weights store. See the module docstring."""

    def __init__(self, args: ModelArgs, weights: Weights, tokenizer=None):
        self.args = args
        self.weights = weights
        self.tokenizer = tokenizer

    # ---- the pieces of one block -------------------------------------------------------------

    def attention(self, i: int, x: np.ndarray, positions: np.ndarray,
                  cache: RollingBufferCache | None, trace=None) -> np.ndarray:
        """Sliding-window grouped-query self-attention of layer i: [T, D] -> [T, D].

        A ``trace`` (attention_maps.py's AttentionTrace, or anything with its
        ``recorder(layer, query_pos, key_pos)``) receives the probabilities [H, T, S].
        """
        a, w, p = self.args, self.weights, f"layers.{i}.attention."
        T = x.shape[0]
        q = w.linear(p + "wq.weight", x).reshape(T, a.n_heads, a.head_dim)      # [T, H, Hd]
        k = w.linear(p + "wk.weight", x).reshape(T, a.n_kv_heads, a.head_dim)   # [T, K, Hd]
        v = w.linear(p + "wv.weight", x).reshape(T, a.n_kv_heads, a.head_dim)   # [T, K, Hd]
        cos, sin = rope_angles(positions, a.head_dim, a.rope_theta)             # [T, Hd/2]
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)

        if cache is None:
            keys, values, key_pos = k, v, positions                             # [S=T, K, Hd]
        else:
            keys, values, key_pos = cache.view(i, k, v, positions)              # [S, K, Hd]
        allowed = sliding_window_mask(positions, key_pos, a.sliding_window)     # [T, S]
        if trace is not None and hasattr(trace, "cut"):      # an experiment removes keys (analysis/trace.py)
            allowed = trace.cut(i, positions, key_pos, allowed)
        record = None if trace is None else trace.recorder(i, positions, key_pos)
        out = grouped_attention(q, keys, values, allowed, record)               # [T, H, Hd]
        if cache is not None:
            cache.write(i, k, v, positions)   # only after the chunk attended (Fig. 3)
        return w.linear(p + "wo.weight", out.reshape(T, a.n_heads * a.head_dim))  # [T, D]

    def feed_forward(self, i: int, x: np.ndarray) -> np.ndarray:
        """SwiGLU: w2(silu(w1 x) * w3 x): [T, D] -> [T, F] -> [T, D]."""
        w, p = self.weights, f"layers.{i}.feed_forward."
        gate = silu(w.linear(p + "w1.weight", x))                                # [T, F]
        return w.linear(p + "w2.weight", gate * w.linear(p + "w3.weight", x))   # [T, D]

    def block(self, i: int, h: np.ndarray, positions: np.ndarray, cache=None, trace=None) -> np.ndarray:
        """Pre-norm transformer block i: [T, D] -> [T, D]."""
        w, eps = self.weights, self.args.norm_eps
        h = h + self.attention(i, rms_norm(h, w.vector(f"layers.{i}.attention_norm.weight"), eps),
                               positions, cache, trace)
        return h + self.feed_forward(i, rms_norm(h, w.vector(f"layers.{i}.ffn_norm.weight"), eps))

    # ---- whole passes ---------------------------------------------------------------------------

    def _tokens(self, tokens, allow_empty: bool = False) -> np.ndarray:
        """Token ids from a caller, checked against this model's vocabulary (check_tokens)."""
        return check_tokens(tokens, self.args.vocab_size, allow_empty)

    def _cache(self, cache) -> RollingBufferCache:
        """A caller's cache, checked: a RollingBufferCache made for a model of this shape."""
        if not isinstance(cache, RollingBufferCache):
            raise MinimistralError(f"cache must be a RollingBufferCache (model.new_cache()) or None, "
                                   f"got {describe(cache)}.")
        cache.check_model(self.args)
        return cache

    def run(self, tokens, positions: np.ndarray, cache: RollingBufferCache | None = None,
            last_only: bool = False, hidden: list | None = None, trace=None) -> np.ndarray:
        """Tokens at the given positions through all blocks -> logits float32 [T, V] (or [1, V]).

        With a cache, the positions must continue at cache.length; the tokens attend to what it
        holds and are then written into it. If the pass fails (an error, Ctrl-C) the cache is
        rolled back to how it was.
        ``hidden``, if a list, receives the residual stream before each block and the final
        normed output (the same points as transformers' output_hidden_states).
        ``trace``, if an AttentionTrace (attention_maps.py), records every layer's
        attention probabilities.
        """
        ids = self._tokens(tokens)
        if cache is not None:
            self._cache(cache).begin(positions)   # positions must continue at cache.length
        # inf/NaN are caught below and named (finite()); NumPy's own warnings about them would
        # only be noise printed ahead of that error.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._run(ids, positions, cache, last_only, hidden, trace)

    def _run(self, ids, positions, cache, last_only, hidden, trace=None) -> np.ndarray:
        """run() once its arguments are checked: the blocks, each output checked for inf/NaN."""
        w = self.weights
        try:
            h = finite(w.embed("tok_embeddings.weight", ids), "the token embeddings (tok_embeddings.weight)")
            for i in range(self.args.n_layers):
                if hidden is not None:
                    hidden.append(h)
                h = finite(self.block(i, h, positions, cache, trace), f"layer {i}")     # [T, D]
            if last_only:
                h = h[-1:]
            h = finite(rms_norm(h, w.vector("norm.weight"), self.args.norm_eps),
                       "the final norm (norm.weight)")
            if hidden is not None:
                hidden.append(h)
            logits = finite(w.linear("output.weight", h), "the output layer (output.weight)")  # [T, V]
        except BaseException:                # an error or Ctrl-C half-way: undo the writes
            if cache is not None:
                cache.rollback()
            raise
        if cache is not None:
            cache.advance(positions)
        return logits

    def forward(self, tokens) -> np.ndarray:
        """Logits float32 [T, V] for tokens at positions 0..T-1 (no cache kept).

        Up to FORWARD_CHUNK tokens go through in one pass; longer inputs go through chunked
        pre-fill, which gives the same logits without a [K, G, T, T] score tensor.
        """
        ids = self._tokens(tokens)
        if len(ids) <= FORWARD_CHUNK:
            return self.run(ids, np.arange(len(ids)))
        return self.prefill(ids, chunk_size=FORWARD_CHUNK, all_logits=True)

    def hidden_states(self, tokens) -> list[np.ndarray]:
        """Residual stream before each block, then the final normed output: n_layers + 1 arrays."""
        hidden: list[np.ndarray] = []
        ids = self._tokens(tokens)
        if len(ids) > max_chunk_tokens(self.args):      # one pass, no chunking: bounded here
            raise MinimistralError(f"hidden_states runs its {len(ids):,} tokens in one pass; at most "
                                   f"{max_chunk_tokens(self.args):,} fit the pre-fill memory budget "
                                   f"(limits.PREFILL_BYTES): pass a shorter text.")
        self.run(ids, np.arange(len(ids)), hidden=hidden)
        return hidden

    def attention_maps(self, tokens, cache: RollingBufferCache | None = None) -> np.ndarray:
        """Softmax probabilities of every layer and head: float32 [L, H, T, P] (query, key).

        Without a cache: a forward pass from position 0 in one piece, P = T; row t holds what
        the query at position t reads, zero outside the window (W keys, itself included).
        With a cache: the tokens continue the sequence at cache.length (and are written into
        the buffer, as in prefill); the rows are the new positions and the P = cache.length + T
        columns are absolute positions, each probability placed back from its buffer slot.
        Positions that left the buffer are 0. For the raw per-layer records (buffer order),
        pass an AttentionTrace to ``run``.

            maps = model.attention_maps(ids)                     # [L, H, T, T]
            cache = model.new_cache(); model.prefill(ids, cache)
            row = model.attention_maps([next_id], cache)          # [L, H, 1, T + 1]
        """
        from .attention_maps import attention_maps

        return attention_maps(self, tokens, cache)

    # ---- inference with the rolling buffer (paper section 2, Figs. 2 and 3) ---------------------

    def new_cache(self, capacity: int | None = None) -> RollingBufferCache:
        """An empty rolling buffer: W slots per layer, or a growing cache when there is no window.

        Refused with MinimistralError, before allocating, if it cannot fit in this machine's RAM.
        """
        return RollingBufferCache(self.args, capacity)

    def prefill(self, prompt_ids, cache: RollingBufferCache | None = None, chunk_size: int | None = None,
                all_logits: bool = False) -> np.ndarray:
        """Feed tokens through the cache in chunks (Fig. 3) -> logits float32 [1, V] (last) or [T, V].

        The tokens continue the sequence at cache.length. Each chunk attends to the cache plus
        itself, then is written into the buffer. chunk_size defaults to W (the paper's choice),
        or the whole prompt without a window. Pass your own cache to keep it for decoding.

            cache = model.new_cache()
            logits = model.prefill(prompt_ids, cache)          # [1, V]
            logits = model.decode(int(logits[-1].argmax()), cache)
        """
        ids = self._tokens(prompt_ids)
        cache = self.new_cache() if cache is None else self._cache(cache)
        size = self.chunk_tokens(chunk_size, len(ids))
        if all_logits:
            check_fits(4 * len(ids) * self.args.vocab_size, f"the logits of all {len(ids):,} positions",
                       "ask for the last position's only (all_logits=False)")
        out = []
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]                                       # [T <= size]
            positions = cache.length + np.arange(len(chunk))
            is_last = start + size >= len(ids)
            logits = self.run(chunk, positions, cache, last_only=not all_logits)
            if all_logits or is_last:
                out.append(logits)
        return np.concatenate(out)                                                # [1 or T, V]

    def chunk_tokens(self, chunk_size, n_tokens: int) -> int:
        """How many tokens one pre-fill chunk holds: chunk_size, else W, else all of them, but
        never more than limits.max_chunk_tokens (so pre-fill memory is bounded whatever the
        window or the chunk size asked for; the logits are the same, Fig. 3)."""
        size = check_chunk_size(chunk_size) or self.args.sliding_window or n_tokens
        return max(1, min(size, max_chunk_tokens(self.args)))

    def decode(self, token: int, cache: RollingBufferCache) -> np.ndarray:
        """One new token at position cache.length, through the cache -> logits float32 [V].

        With a window the work is flat once the position passes W: the query scores the W
        cached keys plus its own, and the oldest of those (position - W) is masked out.
        """
        return self.prefill([token], cache)[0]

    def generate(self, prompt_ids, max_tokens: int = 40, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None, chunk_size: int | None = None, eos_id="auto",
                 lookahead: int = 0) -> list[int]:
        """The new tokens (not the prompt) for a prompt: greedy at temperature 0, else sampled.

        Stops after max_tokens or at eos_id (included in the result); eos_id "auto" is the
        tokenizer's </s> (2 without a tokenizer), None never stops early. See generation.py.
        lookahead k > 0: speculative decoding with k draft tokens from the text (speculative.py).
        """
        return self.session().generate(prompt_ids, max_tokens, temperature, top_p, seed, chunk_size, eos_id,
                                       lookahead)

    def stream(self, prompt_ids, max_tokens: int = 40, temperature: float = 0.0, top_p: float = 1.0,
               seed: int | None = None, chunk_size: int | None = None, eos_id="auto", lookahead: int = 0):
        """Like generate, but a generator: yields each new token as soon as it is chosen."""
        return self.session().stream(prompt_ids, max_tokens, temperature, top_p, seed, chunk_size, eos_id,
                                     lookahead)

    def session(self, cache: RollingBufferCache | None = None):
        """A Session: one rolling cache kept across calls, for chat (see generation.py)."""
        from .generation import Session

        return Session(self, cache)
