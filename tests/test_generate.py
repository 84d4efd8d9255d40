"""Generation: greedy equals transformers' greedy token for token; sampling, seeds, EOS, streaming.

Outside references: transformers' ``generate(do_sample=False)`` (its own sliding-window KV
cache) for tiny random models, its TemperatureLogitsWarper / TopPLogitsWarper for the
sampling distribution, and hand-computed distributions.
"""

import inspect

import numpy as np
import pytest
from conftest import requires_transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from test_rolling_buffer import CASES, NEW_TOKENS, hf_case

from minimistral.errors import MinimistralError
from minimistral.model import Mistral
from minimistral.sampling import sample_token, softmax_with_temperature, top_p_filter
from minimistral.training.init import TINY, random_weights, tiny_model


def _chunk_params():
    return [(name, c) for name, (_, _, sizes) in CASES.items() for c in sizes]


@requires_transformers
@pytest.mark.parametrize("name, chunk_size", _chunk_params())
def test_greedy_equals_transformers_token_for_token(name, chunk_size, tmp_path_factory):
    case = hf_case(name, tmp_path_factory)
    if case.window:
        assert 3 * case.window <= len(case.prompt) <= 5 * case.window            # the window matters
    ours = case.ours.generate(case.prompt, max_tokens=NEW_TOKENS, chunk_size=chunk_size, eos_id=None)
    assert ours == case.new_tokens


@requires_transformers
@pytest.mark.parametrize("name", ["w6", "full"])
def test_session_keeps_the_cache_across_turns(name, tmp_path_factory):
    """A second turn through the kept cache equals transformers on the whole conversation."""
    case = hf_case(name, tmp_path_factory)
    chat = case.ours.session()
    first = chat.generate(case.prompt, max_tokens=10, eos_id=None, chunk_size=4)
    assert first == case.new_tokens[:10]
    assert chat.pending == first[-1:] and chat.cache.length == len(case.prompt) + 9
    turn2 = [5, 17, 33, 9, 41, 12, 8]
    second = list(chat.stream(turn2, max_tokens=12, eos_id=None, chunk_size=4))
    conversation = case.prompt + first + turn2
    assert second == case.hf_generate(conversation, 12)
    assert chat.position == len(conversation) + 12


@requires_transformers
def test_interrupted_stream_resumes_exactly(tmp_path_factory, monkeypatch):
    """Ctrl-C in the middle of a decode step: the cache rolls back, the session can go on."""
    case = hf_case("w6", tmp_path_factory)
    model = case.ours
    chat = model.session()
    stream = chat.stream(case.prompt, max_tokens=NEW_TOKENS, eos_id=None)
    got = [next(stream) for _ in range(5)]
    real, calls = model.feed_forward, []

    def interrupted(i, x):
        calls.append(i)
        if len(calls) == 2:                   # inside layer 1 of the next decode step
            raise KeyboardInterrupt
        return real(i, x)

    monkeypatch.setattr(model, "feed_forward", interrupted)
    with pytest.raises(KeyboardInterrupt):
        next(stream)
    monkeypatch.setattr(model, "feed_forward", real)
    assert chat.pending == got[-1:] and chat.cache.length == len(case.prompt) + 4
    got += chat.generate([], max_tokens=NEW_TOKENS - 5, eos_id=None)           # continue
    assert got == case.new_tokens


def test_stream_is_a_lazy_generator_equal_to_generate():
    model = tiny_model(seed=0)
    prompt = model.tokenizer.encode("The cat sat on the mat")
    stream = model.stream(prompt, max_tokens=6, temperature=0.8, top_p=0.9, seed=5)
    assert inspect.isgenerator(stream)
    first = next(stream)
    assert [first] + list(stream) == model.generate(prompt, max_tokens=6, temperature=0.8, top_p=0.9, seed=5)
    assert model.generate(prompt, max_tokens=0) == []


def test_seeds_make_sampling_reproducible():
    model = tiny_model(seed=0)
    prompt = model.tokenizer.encode("Hello world")
    a = model.generate(prompt, max_tokens=12, temperature=1.0, seed=123)
    assert a == model.generate(prompt, max_tokens=12, temperature=1.0, seed=123)
    assert a != model.generate(prompt, max_tokens=12, temperature=1.0, seed=124)
    assert len(set(a)) > 3                                                     # really sampled
    # A vanishing temperature is greedy; so is top_p tiny (only the top token is in the nucleus).
    greedy = model.generate(prompt, max_tokens=12)
    assert model.generate(prompt, max_tokens=12, temperature=1e-6, seed=1) == greedy
    assert model.generate(prompt, max_tokens=12, temperature=1.0, top_p=1e-9, seed=1) == greedy


def _eos_loving_model(eos=2):
    """The tiny model with the output row of `eos` boosted so it is always the argmax."""
    weights = random_weights(TINY, seed=0)
    out = weights.tensors["output.weight"]
    w = out.float32().copy()
    w[eos] = 50 * np.abs(w).max() * np.sign(w.sum(0))
    weights.tensors["output.weight"] = type(out)(out.name, "F32", out.shape, w, out.path)
    return Mistral(TINY, weights)


def test_generation_stops_at_eos():
    model = _eos_loving_model()
    assert model.tokenizer is None
    assert model.generate([1, 415, 5255], max_tokens=10) == [2]                # default eos 2, kept
    never = model.generate([1, 415, 5255], max_tokens=10, eos_id=None)
    assert never[0] == 2 and len(never) == 10                                   # no stop token
    # With the real tokenizer "auto" takes its </s>; any id can be the stop token.
    plain = tiny_model(seed=0)
    assert plain.tokenizer.eos_id == 2
    greedy = plain.generate([1, 415], max_tokens=10, eos_id=None)
    assert plain.generate([1, 415], max_tokens=10, eos_id=greedy[3]) == greedy[:greedy.index(greedy[3]) + 1]


@pytest.mark.parametrize("option, value", [
    ("temperature", -0.5), ("temperature", float("nan")), ("temperature", "hot"),
    ("top_p", 0.0), ("top_p", 1.5), ("top_p", -1), ("max_tokens", -1), ("max_tokens", 2.5),
    ("chunk_size", 0), ("seed", "abc"), ("seed", 1.5), ("seed", True), ("eos_id", "x"),
])
def test_bad_options_raise_when_called(option, value):
    model = tiny_model(seed=0, tokenizer=False)
    with pytest.raises(MinimistralError, match=option):
        model.stream([1, 2, 3], **{option: value})                             # not at the first next()
    with pytest.raises(MinimistralError, match=option):
        model.generate([1, 2, 3], **{option: value})


def test_empty_prompt_needs_something_pending():
    model = tiny_model(seed=0, tokenizer=False)
    with pytest.raises(MinimistralError, match="empty"):
        model.generate([])


# ---- sampling against hand-computed distributions and transformers' warpers ------------------------

def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = np.array([0.05, 0.5, 0.15, 0.3])                 # sorted: 0.5, 0.3, 0.15, 0.05
    assert np.allclose(top_p_filter(probs, 0.75), [0, 0.5 / 0.8, 0, 0.3 / 0.8])   # 0.5 < .75 <= .8
    assert np.allclose(top_p_filter(probs, 0.8), [0, 0.5 / 0.8, 0, 0.3 / 0.8])    # 0.8 reaches 0.8
    assert np.allclose(top_p_filter(probs, 0.81), [0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95])
    assert np.allclose(top_p_filter(probs, 0.4), [0, 1, 0, 0])                    # at least one
    assert np.allclose(top_p_filter(probs, 1.0), probs)


def test_temperature_scales_logits_before_softmax():
    logits = np.log(np.array([0.1, 0.2, 0.7], dtype=np.float32))
    assert np.allclose(softmax_with_temperature(logits, 1.0), [0.1, 0.2, 0.7])
    sharp = np.array([0.1, 0.2, 0.7]) ** 2
    assert np.allclose(softmax_with_temperature(logits, 0.5), sharp / sharp.sum())
    flat = np.sqrt([0.1, 0.2, 0.7])
    assert np.allclose(softmax_with_temperature(logits, 2.0), flat / flat.sum())


def test_samples_follow_the_nucleus_distribution():
    logits = np.log(np.array([0.05, 0.5, 0.15, 0.3], dtype=np.float32))
    rng = np.random.default_rng(0)
    draws = np.array([sample_token(logits, 1.0, 0.75, rng) for _ in range(4000)])
    counts = np.bincount(draws, minlength=4) / 4000
    assert counts[0] == counts[2] == 0
    assert abs(counts[1] - 0.625) < 0.03 and abs(counts[3] - 0.375) < 0.03


@requires_transformers
@pytest.mark.parametrize("temperature, top_p", [(1.0, 0.9), (0.7, 0.5), (1.3, 0.95), (0.5, 1.0)])
def test_distribution_equals_transformers_warpers(temperature, top_p):
    import torch
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )

    logits = (3 * np.random.default_rng(4).standard_normal((8, 300))).astype(np.float32)
    scores = TemperatureLogitsWarper(temperature)(None, torch.tensor(logits))
    if top_p < 1:
        scores = TopPLogitsWarper(top_p)(None, scores)
    ref = torch.softmax(scores.double(), dim=-1).numpy()
    for row, expected in zip(logits, ref):
        ours = top_p_filter(softmax_with_temperature(row, temperature), top_p)
        assert np.array_equal(ours > 0, expected > 0)                          # the same nucleus
        assert np.allclose(ours, expected, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(weights=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
       top_p=st.floats(1e-6, 1.0))
def test_nucleus_is_the_smallest_top_set_reaching_p(weights, top_p):
    probs = np.array(weights) / np.sum(weights)
    kept = top_p_filter(probs, top_p) > 0
    mass = probs[kept].sum()
    assert mass >= top_p - 1e-9 or kept.all()                          # reaches p
    assert mass - probs[kept].min() < top_p + 1e-9                     # drop one and it would not
    if not kept.all():
        assert probs[kept].min() >= probs[~kept].max()                 # the most likely ones
