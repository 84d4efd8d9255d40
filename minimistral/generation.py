"""Text generation over the rolling buffer: chunked pre-fill, then one token at a time.

    prompt  --prefill in chunks (Fig. 3)-->  logits of the last position
    loop:   token = sample(logits)  ->  yield token  ->  stop at EOS or max_tokens
            logits = decode(token)          # one position through the cache (Fig. 2)

A ``Session`` owns one cache and carries it across calls, which is what a chat needs: the
second turn attends to the first without recomputing it. The last token a call yields has not
been through the model yet (its logits were never needed); the session keeps it as
``pending`` and feeds it first on the next call, followed by the new prompt:

    chat = model.session()
    answer = chat.generate(tok.encode("[INST] Hi [/INST]"))                # ... ends with </s>
    more = chat.generate(tok.encode("[INST] And? [/INST]", bos=False))     # continues the cache

``model.generate`` and ``model.stream`` are one-call sessions.
"""

from __future__ import annotations

import weakref

import numpy as np

from .errors import MinimistralError
from .guards.values import (
    check_chunk_size,
    check_tokens,
    is_whole,
    real_number,
    shown,
    whole_number,
)
from .sampling import sample_token
from .speculative import check_lookahead, speculative_tokens

DEFAULT_EOS = 2        # </s> in Mistral's tokenizer (docs/mistral-7b.md §6)


def check_options(max_tokens, temperature, top_p, seed, chunk_size) -> tuple:
    """The options as (int, float, float, int | None, int | None), or MinimistralError for one out
    of range (one sentence, the fix). Any real number will do (Fraction, Decimal, np.float32)."""
    return (whole_number(max_tokens, "max_tokens"),
            real_number(temperature, "temperature", "a number >= 0 (0 = greedy)", lambda t: t >= 0),
            real_number(top_p, "top_p", "a number in (0, 1] (1 = no nucleus cut)", lambda p: 0 < p <= 1),
            None if seed is None else whole_number(seed, "seed", hint=" (or None for a random seed)"),
            check_chunk_size(chunk_size))


class Session:
    """One sequence being generated: the rolling cache plus the tokens not yet fed to the model.

    position = cache.length + len(pending) tokens so far. Use one Session per conversation.
    """

    def __init__(self, model, cache=None):
        self.model = model
        self.cache = model.new_cache() if cache is None else model._cache(cache)
        self.pending: list[int] = []     # chosen (prompt or sampled) but not yet through the model
        self._live = None                # weak reference to the stream() generator under way
        self.history: list[int] = []     # every token given or generated in this session (for drafts)
        self.stats = {"passes": 0, "drafted": 0, "accepted": 0}   # speculative decoding (lookahead)

    @property
    def position(self) -> int:
        """Tokens in the sequence so far, fed or pending: where the next token will go."""
        return self.cache.length + len(self.pending)

    def eos(self, eos_id) -> int | None:
        """"auto" -> the tokenizer's </s> (2 without one); None -> never stop early; else the id."""
        if eos_id == "auto":
            tokenizer = getattr(self.model, "tokenizer", None)
            return int(getattr(tokenizer, "eos_id", DEFAULT_EOS)) if tokenizer is not None else DEFAULT_EOS
        if eos_id is not None and not is_whole(eos_id):
            raise MinimistralError(f"eos_id must be a token id, None or 'auto', got {shown(eos_id)}.")
        return eos_id

    def stream(self, prompt_ids, max_tokens: int = 40, temperature: float = 0.0, top_p: float = 1.0,
               seed: int | None = None, chunk_size: int | None = None, eos_id="auto", lookahead: int = 0):
        """Append prompt_ids to the sequence and yield up to max_tokens new tokens, one at a time.

        Options are checked now, not at the first next(): a bad one raises MinimistralError here.
        prompt_ids may be empty if the session already holds tokens (continue generating).
        The prompt joins ``pending`` at once; it is fed at the first next() (with max_tokens=0,
        on the next call). The last token yielded, EOS included, stays pending.
        lookahead k > 0: speculative decoding with up to k draft tokens from the text itself
        (speculative.py): the same tokens when greedy, the same distribution when sampled.
        """
        max_tokens, temperature, top_p, seed, chunk_size = check_options(max_tokens, temperature, top_p,
                                                                         seed, chunk_size)
        lookahead = check_lookahead(lookahead)
        eos = self.eos(eos_id)
        live = self._live() if self._live is not None else None
        if live is not None and live.gi_frame is not None:
            # Both would append to one `pending` and one cache: their tokens would interleave.
            raise MinimistralError("this session already has a stream under way; finish it (or call its "
                                   ".close()) before starting another, or use a second session.")
        prompt = [int(t) for t in check_tokens(prompt_ids, self.model.args.vocab_size, allow_empty=True)]
        if not self.pending and not prompt:
            raise MinimistralError("the prompt is empty and nothing is pending: give at least one token "
                                   "id (e.g. <s> = 1).")
        self.pending += prompt
        self.history += prompt
        rng = np.random.default_rng(seed)
        if lookahead:
            gen = speculative_tokens(self, max_tokens, temperature, top_p, rng, chunk_size, eos, lookahead)
        else:
            gen = self._tokens(max_tokens, temperature, top_p, rng, chunk_size, eos)
        self._live = weakref.ref(gen)
        return gen

    def generate(self, prompt_ids, max_tokens: int = 40, temperature: float = 0.0, top_p: float = 1.0,
                 seed: int | None = None, chunk_size: int | None = None, eos_id="auto",
                 lookahead: int = 0) -> list[int]:
        """The list of new tokens: ``list(self.stream(...))``."""
        return list(self.stream(prompt_ids, max_tokens, temperature, top_p, seed, chunk_size, eos_id,
                                lookahead))

    def sampleable(self, logits: np.ndarray) -> np.ndarray:
        """logits [V] with the ids the tokenizer cannot decode masked out (-inf).

        A padded vocabulary (a model with 32064 rows, a tokenizer with 32000 pieces) would
        otherwise let sampling pick an id no tokenizer can turn into text. Without a tokenizer
        every id is a candidate.
        """
        n = getattr(getattr(self.model, "tokenizer", None), "vocab_size", None)
        if n is None or n >= len(logits):
            return logits
        masked = logits.copy()
        masked[n:] = -np.inf                                               # [V]
        return masked

    def _tokens(self, max_tokens, temperature, top_p, rng, chunk_size, eos):
        for n in range(max_tokens):
            logits = self.sampleable(self._feed(chunk_size))              # [V]
            token = sample_token(logits, temperature, top_p, rng)
            self.pending.append(token)        # part of the sequence; fed on the next step
            self.history.append(token)
            yield token
            if token == eos:
                return

    def _feed(self, chunk_size) -> np.ndarray:
        """Run the pending tokens through the cache in chunks -> logits float32 [V] of the last.

        A chunk leaves ``pending`` only once it is in the cache, so an interrupted call (the
        cache rolls back) leaves the session consistent.
        """
        size = self.model.chunk_tokens(chunk_size, len(self.pending))
        while self.pending:
            chunk = self.pending[:size]
            logits = self.model.prefill(chunk, self.cache, chunk_size=len(chunk))   # [1, V]
            del self.pending[:len(chunk)]
        return logits[-1]
