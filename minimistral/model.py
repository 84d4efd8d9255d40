"""The Mistral transformer: RMSNorm, RoPE, sliding-window GQA attention, SwiGLU, pre-norm blocks.

    h = embed(tokens)                                   # [T] -> [T, D]
    for each of the 32 blocks:
        h = h + attention(rms_norm(h))                  # window W, GQA, RoPE
        h = h + feed_forward(rms_norm(h))               # SwiGLU
    logits = output(rms_norm(h))                        # [T, D] -> [T, V]

With a RollingBufferCache (rolling_buffer.py) the same blocks do inference as in the paper's
section 2: ``prefill`` feeds a prompt in chunks (Fig. 3), ``decode`` one token (Fig. 2), and
``generate`` / ``stream`` / ``session`` sample new tokens (generation.py, sampling.py).

Parameters are reached only through ``Weights`` (linear / embed / vector by native tensor name),
so how they are stored (bf16, memory-mapped, HF or native layout) never shows up here.
"""

from __future__ import annotations

import numpy as np

from .config import ModelArgs
from .errors import MinimistralError
from .generation import Session, check_chunk_size
from .gqa import grouped_attention
from .masks import sliding_window_mask
from .rolling_buffer import RollingBufferCache
from .rope import apply_rope, rope_angles
from .weights import Weights


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


class Mistral:
    """Mistral 7B (or any ModelArgs) over a Weights store. See the module docstring."""

    def __init__(self, args: ModelArgs, weights: Weights, tokenizer=None):
        self.args = args
        self.weights = weights
        self.tokenizer = tokenizer

    # ---- the pieces of one block -------------------------------------------------------------

    def attention(self, i: int, x: np.ndarray, positions: np.ndarray,
                  cache: RollingBufferCache | None) -> np.ndarray:
        """Sliding-window grouped-query self-attention of layer i: [T, D] -> [T, D]."""
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
        out = grouped_attention(q, keys, values, allowed)                       # [T, H, Hd]
        if cache is not None:
            cache.write(i, k, v, positions)   # only after the chunk attended (Fig. 3)
        return w.linear(p + "wo.weight", out.reshape(T, a.n_heads * a.head_dim))  # [T, D]

    def feed_forward(self, i: int, x: np.ndarray) -> np.ndarray:
        """SwiGLU: w2(silu(w1 x) * w3 x): [T, D] -> [T, F] -> [T, D]."""
        w, p = self.weights, f"layers.{i}.feed_forward."
        gate = silu(w.linear(p + "w1.weight", x))                                # [T, F]
        return w.linear(p + "w2.weight", gate * w.linear(p + "w3.weight", x))   # [T, D]

    def block(self, i: int, h: np.ndarray, positions: np.ndarray, cache=None) -> np.ndarray:
        """Pre-norm transformer block i: [T, D] -> [T, D]."""
        w, eps = self.weights, self.args.norm_eps
        h = h + self.attention(i, rms_norm(h, w.vector(f"layers.{i}.attention_norm.weight"), eps),
                               positions, cache)
        return h + self.feed_forward(i, rms_norm(h, w.vector(f"layers.{i}.ffn_norm.weight"), eps))

    # ---- whole passes ---------------------------------------------------------------------------

    def _tokens(self, tokens) -> np.ndarray:
        ids = np.asarray(tokens)
        if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
            raise MinimistralError("tokens must be a non-empty 1-D sequence of integer ids.")
        if ids.min() < 0 or ids.max() >= self.args.vocab_size:
            raise MinimistralError(f"token ids must lie in [0, {self.args.vocab_size}); "
                                   f"got {int(ids.min())}..{int(ids.max())}.")
        return ids.astype(np.int64)

    def run(self, tokens, positions: np.ndarray, cache: RollingBufferCache | None = None,
            last_only: bool = False, hidden: list | None = None) -> np.ndarray:
        """Tokens at the given positions through all blocks -> logits float32 [T, V] (or [1, V]).

        With a cache, the positions must continue at cache.length; the tokens attend to what it
        holds and are then written into it. If the pass fails (an error, Ctrl-C) the cache is
        rolled back to how it was.
        ``hidden``, if a list, receives the residual stream before each block and the final
        normed output (the same points as transformers' output_hidden_states).
        """
        ids = self._tokens(tokens)
        w = self.weights
        if cache is not None:
            cache.begin(positions)           # positions must continue at cache.length
        h = w.embed("tok_embeddings.weight", ids)                               # [T, D]
        try:
            for i in range(self.args.n_layers):
                if hidden is not None:
                    hidden.append(h)
                h = self.block(i, h, positions, cache)
                if not np.isfinite(h).all():
                    raise NonFiniteError(f"the forward pass produced inf or NaN in layer {i}; "
                                         f"the weights may be corrupt.")
        except BaseException:                # an error or Ctrl-C half-way: undo the writes
            if cache is not None:
                cache.rollback()
            raise
        if cache is not None:
            cache.advance(positions)
        if last_only:
            h = h[-1:]
        h = rms_norm(h, w.vector("norm.weight"), self.args.norm_eps)
        if hidden is not None:
            hidden.append(h)
        return w.linear("output.weight", h)                                     # [T, V]

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
        self.run(ids, np.arange(len(ids)), hidden=hidden)
        return hidden

    # ---- inference with the rolling buffer (paper section 2, Figs. 2 and 3) ---------------------

    def new_cache(self, capacity: int | None = None) -> RollingBufferCache:
        """An empty rolling buffer: W slots per layer, or a growing cache when there is no window."""
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
        cache = self.new_cache() if cache is None else cache
        size = check_chunk_size(chunk_size) or self.args.sliding_window or len(ids)
        out = []
        for start in range(0, len(ids), size):
            chunk = ids[start:start + size]                                       # [T <= size]
            positions = cache.length + np.arange(len(chunk))
            is_last = start + size >= len(ids)
            logits = self.run(chunk, positions, cache, last_only=not all_logits)
            if all_logits or is_last:
                out.append(logits)
        return np.concatenate(out)                                                # [1 or T, V]

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
        return Session(self, cache)
