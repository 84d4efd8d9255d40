"""Speculative decoding with drafts from the text (speculative.py) against plain decoding.

The reference for greedy is plain greedy decoding through the same model, token for token, and
the cache it leaves; for sampling it is the model's own next-token probabilities computed by a
plain forward pass of every prefix (no cache, no drafts), compared with many sampled sequences.
"""

import itertools
from dataclasses import replace

import numpy as np
import pytest

from minimistral.errors import MinimistralError
from minimistral.generation import Session
from minimistral.model import Mistral
from minimistral.speculative import draft, target_probs
from minimistral.training.init import TINY, random_weights, tiny_model


def test_draft_worked_examples():
    assert draft([5, 6, 7, 8, 5, 6], 2) == [7, 8]
    assert draft([5, 6, 7], 2) == []
    assert draft([1, 2, 9, 2, 3, 1, 2], 3) == [9, 2, 3]                    # last [1, 2]: at 0
    assert draft([1, 2, 3, 4, 0, 2, 3, 5, 1, 2, 3], 2) == [4, 0]           # longest suffix wins (n = 3)
    assert draft([7, 1, 7, 2, 7], 5) == [2, 7]                             # last occurrence; runs out
    assert draft([4, 4, 4], 2) == [4]                                      # overlap with the suffix
    assert draft([1, 2, 3, 1, 2], 0) == []


def repeating_prompt(rng, V, n):
    base = [int(t) for t in rng.integers(3, V, n)]
    return [1] + base + base + base[: n // 2]


CASES = [  # (vocab, window, lookahead, chunk_size): windows that wrap inside a checked chunk
    (32, 3, 2, None), (32, 4, 3, 2), (100, 5, 4, None), (100, 8, 7, 3), (32, 8, 3, 1),
    (100, None, 4, None), (40, 6, 9, 4),
]


@pytest.mark.parametrize("V, W, k, chunk_size", CASES)
def test_greedy_with_lookahead_equals_plain_greedy(monkeypatch, V, W, k, chunk_size):
    model = tiny_model(replace(TINY, sliding_window=W, vocab_size=V), seed=V + (W or 0), tokenizer=False)
    rng = np.random.default_rng(V * 10 + (W or 0))
    chunks = []                                        # (first position, length) of every checked chunk
    mark = Session(model).cache.mark.__func__

    def spy(cache, n_new):
        chunks.append((cache.length, n_new))
        return mark(cache, n_new)

    monkeypatch.setattr(type(Session(model).cache), "mark", spy)
    accepted = rejected = 0
    for n in (4, 7, 11):
        prompt = repeating_prompt(rng, V, n)
        plain = model.session()
        want = plain.generate(prompt, 50, chunk_size=chunk_size, eos_id=None)
        spec = model.session()
        got = spec.generate(prompt, 50, chunk_size=chunk_size, eos_id=None, lookahead=k)
        assert got == want
        # The cache is what plain decoding left: same positions in the same slots, same keys.
        assert spec.pending == plain.pending and spec.cache.length == plain.cache.length
        assert (spec.cache.positions == plain.cache.positions).all()
        np.testing.assert_allclose(spec.cache.keys, plain.cache.keys, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(spec.cache.values, plain.cache.values, rtol=1e-4, atol=1e-5)
        assert spec.history == prompt + got
        accepted += spec.stats["accepted"]
        rejected += spec.stats["drafted"] - spec.stats["accepted"]
    assert accepted > 0 and rejected > 0               # both ways through the check were taken
    assert max(n for _, n in chunks) <= (W or 10**9)
    if W is not None:                                  # some checked chunk wrapped around the buffer
        assert any(start % W + n > W for start, n in chunks)


def test_stopping_early_leaves_the_session_as_plain_decoding_would():
    """Closing the generator after a few tokens (mid-chunk) cuts the cache back to what was seen."""
    model = tiny_model(replace(TINY, sliding_window=4, vocab_size=32), seed=3, tokenizer=False)
    prompt = repeating_prompt(np.random.default_rng(5), 32, 6)
    want = model.generate(prompt, 40, eos_id=None)
    for stop in (1, 2, 5, 9, 13):
        s = model.session()
        first = list(itertools.islice(s.stream(prompt, 40, eos_id=None, lookahead=4), stop))
        rest = s.generate([], 40 - stop, eos_id=None, lookahead=4)
        assert first + rest == want
        assert s.stats["accepted"] > 0


def test_eos_and_max_tokens_inside_accepted_drafts():
    model = tiny_model(replace(TINY, sliding_window=5, vocab_size=32), seed=7, tokenizer=False)
    prompt = repeating_prompt(np.random.default_rng(8), 32, 5)
    plain = model.generate(prompt, 40, eos_id=None)
    eos = plain[25]                                    # a token that appears inside the text
    for k in (2, 4):
        for max_tokens in (1, 2, 17, 40):
            want = model.generate(prompt, max_tokens, eos_id=eos)
            assert model.generate(prompt, max_tokens, eos_id=eos, lookahead=k) == want


def test_truncate_puts_back_the_slots_a_chunk_overwrote():
    """W = 4: positions 0..6 fed, then 7, 8, 9 checked in one chunk (slots 3, 0, 1) and only 7
    kept: slots 0 and 1 must hold positions 4 and 5 again, bit for bit."""
    model = tiny_model(replace(TINY, sliding_window=4, vocab_size=50), tokenizer=False)
    ids = [1, 5, 9, 13, 17, 21, 25, 29, 33, 37]
    a, b = model.new_cache(), model.new_cache()
    model.prefill(ids[:7], a, chunk_size=2)
    model.prefill(ids[:8], b, chunk_size=2)
    before = a.keys.copy(), a.values.copy()
    mark = a.mark(3)
    model.prefill(ids[7:10], a, chunk_size=3, all_logits=True)
    assert a.length == 10 and sorted(a.positions) == [6, 7, 8, 9]
    a.truncate(8, mark)
    assert a.length == 8 and (a.positions == b.positions).all() and sorted(a.positions) == [4, 5, 6, 7]
    for slot in (0, 1):                                # positions 4, 5: put back exactly
        assert (a.keys[:, slot] == before[0][:, slot]).all() and (a.values[:, slot] == before[1][:, slot]).all()
    np.testing.assert_allclose(a.keys, b.keys, rtol=1e-5, atol=1e-6)
    with pytest.raises(MinimistralError):
        a.truncate(9, mark)                            # cannot grow back
    with pytest.raises(MinimistralError):
        a.mark(5)                                      # more than W positions


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_lookahead_is_a_one_line_error(bad):
    model = tiny_model(replace(TINY, vocab_size=32), tokenizer=False)
    with pytest.raises(MinimistralError, match="lookahead"):
        model.generate([1, 2, 3], 5, lookahead=bad)


def test_sampling_rule_gives_exactly_the_models_distribution():
    """Next-2-token sequences sampled with lookahead vs the model's exact probabilities.

    The prompt ends so that a draft exists for the first new token (its suffix occurred before):
    the first token goes through accept-or-correct, the second is the free token after an
    acceptance or a plain draw after a rejection. Temperature 0.7 and top-p 0.9 (the nucleus
    cuts tokens here) are applied as sampling.py does. Two plausible mistakes are computed
    exactly and must lie far outside the bound: drawing from p itself after a rejection
    (instead of p without the draft), and checking the draft against the next row's p.
    """
    V, temperature, top_p = 8, 0.7, 0.9
    args = replace(TINY, sliding_window=6, vocab_size=V)
    model = Mistral(args, random_weights(args, seed=17, std=0.2))
    prompt = [1, 3, 4, 5, 3, 4, 5, 3, 4]                  # suffix [5, 3, 4] -> draft 5
    assert draft(prompt, 1) == [5]

    def p_next(prefix):
        return target_probs(model.forward(prefix)[-1], temperature, top_p)   # [V] float64

    p1 = p_next(prompt)
    p2 = np.array([p_next(prompt + [x]) for x in range(V)])                  # [V, V]
    exact = p1[:, None] * p2                                                 # [V, V] P(x1, x2)
    d = 5
    assert 0.3 < p1[d] < 0.7 and (p1 == 0).any()           # the draft may go either way; nucleus cuts

    wrong_resample = exact.copy()                          # after a rejection, draw from p again
    wrong_resample[:, :] = ((1 - p1[d]) * p1)[:, None] * p2
    wrong_resample[d] += p1[d] * p2[d]
    p_next_row = p2[d]                                     # judge draft 5 by the row after it
    wrong_row = (1 - p_next_row[d]) * np.where(np.arange(V) == d, 0, p1) / (1 - p1[d])
    wrong_row = wrong_row[:, None] * p2
    wrong_row[d] += p_next_row[d] * p2[d]

    base = model.new_cache()
    model.prefill(prompt[:-1], base)
    n, counts, stats = 3000, np.zeros((V, V)), np.zeros(3)
    for i in range(n):
        mark = base.mark(3)                                # at most 3 positions get fed
        s = Session(model, base)
        s.history = list(prompt[:-1])
        x1, x2 = s.generate([prompt[-1]], 2, temperature, top_p, seed=i, eos_id=None, lookahead=1)
        base.truncate(mark["length"], mark)                # the same prompt cache for the next draw
        counts[x1, x2] += 1
        stats += [s.stats["drafted"], s.stats["accepted"], s.stats["passes"]]
    assert stats[0] == n and 0 < stats[1] < n              # every first token checked a draft; both ways
    tv = 0.5 * np.abs(counts / n - exact).sum()
    bound = 0.06                                           # sampling noise at n = 3000: TV ~ 0.02
    assert tv < bound, tv
    assert 0.5 * np.abs(wrong_resample - exact).sum() > 2 * bound
    assert 0.5 * np.abs(wrong_row - exact).sum() > 2 * bound


def test_cli_lookahead_prints_the_same_greedy_text(tmp_path, capsys):
    from tiny_checkpoint import write_tiny_native

    from minimistral.cli import main
    tiny = write_tiny_native(tmp_path / "native")
    prompt = "one two three, one two three, one two three, one two"
    argv = ["generate", "--model", str(tiny), "--prompt", prompt, "--max-tokens", "24", "--temperature", "0"]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    assert main(argv + ["--lookahead", "4"]) == 0
    out, err = capsys.readouterr()
    assert out == plain and "drafts " in err and " accepted" in err
    assert main(argv + ["--lookahead", "-2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lookahead" in err[0]
