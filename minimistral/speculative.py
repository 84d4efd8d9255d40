"""Exact speculative decoding with drafts from the text itself (prompt lookup).

Decoding one token reads every weight once; T tokens in one pass share that read, and cost
little more than one (fast/linear.py, benchmarks/RESULTS.md). So guess the next k tokens cheaply,
run the current token and the k guesses through the model in one chunk of k + 1 positions,
and keep the guesses the model agrees with: several tokens for about the price of one.

The guess (draft): text repeats itself (names, code, quoted passages, a list's pattern). Find the
last earlier place where the current suffix of n tokens occurred (n = 3, then 2, then 1) and
propose the k tokens that followed it there (prompt lookup decoding, Saxena 2023):

    context  ... the cat sat on the mat . the cat | sat on
    suffix   "the cat" (n = 2) occurred before, followed by "sat on the mat"
    draft    [sat, on, the] for k = 3

The check (verification): feed [last token, d1 .. dk] at positions L .. L+k through the cache;
the logits at position L+j give the model's distribution p_j for the token after d_j.

    greedy   accept d_(j+1) while it equals argmax p_j; the first disagreement is replaced by
             the model's own argmax, and if all k agree, argmax p_k comes free. The output is
             token for token what plain greedy decoding gives (up to float32 rounding in the
             order of additions, which only matters at exact near-ties of two logits).
    sampled  the speculative-sampling rule (Leviathan et al. 2023, Chen et al. 2023) with a
             deterministic draft (q = one-hot at d): accept d with probability p(d); on a
             rejection, draw from (p - q)+ renormalised, which is p with d removed. Then
             P(token = x) = p(x) q-independently: p(d) for d, and (1 - p(d)) p(x) / (1 - p(d))
             for x != d. p is the same distribution sampling.py draws from (temperature,
             then the top-p nucleus), so the output distribution is exactly the model's.
             The random numbers are used differently, so a seed gives other (equally likely)
             text than without lookahead.

The cache: after the check the positions past the last kept token must disappear. With a
window, position p overwrote position p - W in slot p mod W, so ``RollingBufferCache.mark``
copies the k + 1 slots before the pass and ``truncate`` puts back those of the rejected
positions: the cache is then exactly what plain decoding would have left (k + 1 <= W).
"""

from __future__ import annotations

import numpy as np

from .guards.values import whole_number
from .sampling import softmax_with_temperature, top_p_filter

MAX_NGRAM = 3                  # suffix lengths tried for a draft: 3, 2, 1


def check_lookahead(lookahead) -> int:
    """lookahead: a whole number of draft tokens >= 0 (0 = plain decoding)."""
    return whole_number(lookahead, "lookahead", 0, "draft tokens", " (0 = off)")


def draft(tokens: list[int], k: int, max_ngram: int = MAX_NGRAM) -> list[int]:
    """Up to k tokens that followed the last earlier occurrence of the longest matching suffix.

    draft([5, 6, 7, 8, 5, 6], 2) -> [7, 8]      (suffix [5, 6] at 0, followed by 7, 8)
    draft([5, 6, 7], 2) -> []                    (no suffix occurred before)
    """
    if k <= 0:
        return []
    seq = np.asarray(tokens, dtype=np.int64)                                  # [L]
    L = len(seq)
    for n in range(min(max_ngram, L - 1), 0, -1):
        suffix = seq[L - n:]                                                  # [n]
        # starts i < L - n where seq[i:i+n] == suffix, i.e. an earlier occurrence
        windows = np.lib.stride_tricks.sliding_window_view(seq[:L - 1], n)   # [L - n, n]
        hits = np.flatnonzero((windows == suffix).all(axis=1))
        if len(hits):
            start = int(hits[-1]) + n
            return [int(t) for t in seq[start:start + k]]
    return []


def target_probs(logits: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """float64 [V]: the distribution sample_token draws from (temperature, then the nucleus)."""
    return top_p_filter(softmax_with_temperature(logits, temperature), top_p)


def accept(logits: np.ndarray, drafts: list[int], temperature: float, top_p: float,
           rng: np.random.Generator) -> list[int]:
    """The tokens to emit for one checked chunk: accepted drafts, then one token of the model.

    logits [k + 1, V]: row j is the model's next-token logits after the last token and d1..dj.
    Returns [d1 .. da, x]: a accepted drafts (0 <= a <= k) and x, the correction (drawn from
    p_a with d_(a+1) removed) or, if all k were accepted, a free draw from p_k.
    Greedy example: drafts [7, 8, 9], argmax per row [7, 8, 4, 2] -> [7, 8, 4].
    """
    out = []
    for j, d in enumerate(drafts):
        if temperature == 0:
            best = int(np.argmax(logits[j]))                  # first maximum, as sample_token
            if best != d:
                return out + [best]
        else:
            p = target_probs(logits[j], temperature, top_p)  # [V] float64
            if not rng.random() < p[d]:                       # rejected: draw from (p - q)+
                p[d] = 0.0
                return out + [int(rng.choice(len(p), p=p / p.sum()))]
        out.append(d)
    last = logits[len(drafts)]
    if temperature == 0:
        return out + [int(np.argmax(last))]
    return out + [int(rng.choice(last.shape[-1], p=target_probs(last, temperature, top_p)))]


def speculative_tokens(session, max_tokens: int, temperature: float, top_p: float,
                       rng: np.random.Generator, chunk_size, eos, lookahead: int):
    """Session._tokens with drafts: yields the same tokens (greedy) or the same distribution.

    The session's ``history`` (every token of the sequence it knows) is where drafts come from.
    Its state after each yield is what plain decoding leaves: the cache holds everything but
    the last token yielded, which is ``pending``. If the caller stops early (closes the
    generator), the cache is cut back to the last token it actually received.
    """
    model, cache, stats = session.model, session.cache, session.stats
    window = model.args.sliding_window
    n = 0
    while n < max_tokens:
        room = min(lookahead, max_tokens - n - 1)            # no drafts past max_tokens
        if window is not None:
            room = min(room, window - 1)                     # a checked chunk fits in the buffer
        drafts = draft(session.history, room) if len(session.pending) == 1 else []
        if not drafts:                                       # plain step (also the prompt)
            logits = session._feed(chunk_size)[None]        # [1, V]
        else:
            chunk = session.pending + drafts                  # [k + 1] tokens
            mark = cache.mark(len(chunk))
            logits = model.prefill(chunk, cache, chunk_size=len(chunk), all_logits=True)  # [k+1, V]
            session.pending = []
        logits = np.stack([session.sampleable(row) for row in logits])     # [k + 1, V], decodable ids only
        tokens = accept(logits, drafts, temperature, top_p, rng)
        stats["passes"] += 1
        stats["drafted"] += len(drafts)
        stats["accepted"] += len(tokens) - 1
        if eos in tokens:
            tokens = tokens[:tokens.index(eos) + 1]
        tokens = tokens[:max_tokens - n]
        if drafts:                                           # keep the chunk up to the last kept token
            cache.truncate(mark["length"] + len(tokens), mark)
        session.pending = [tokens[-1]]
        session.history += tokens
        for i, token in enumerate(tokens):
            try:
                yield token
            except GeneratorExit:                            # the caller saw tokens[:i + 1] only
                if i + 1 < len(tokens):
                    cache.truncate(mark["length"] + i + 1, mark)
                    session.pending = [token]
                    del session.history[len(session.history) - (len(tokens) - i - 1):]
                raise
        n += len(tokens)
        if tokens[-1] == eos:
            return
