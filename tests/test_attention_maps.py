"""Attention maps (model.attention_maps, AttentionTrace) against the rule and against transformers.

The reference is transformers' MistralForCausalLM with output_attentions=True and eager
attention: its per-layer [B, H, T, T] probabilities on the same weights and tokens. The window
rule is written out here from the paper's Fig. 1 (a query at q reads keys q-W+1 .. q), not taken
from masks.py.
"""

import numpy as np
import pytest
from conftest import requires_transformers

import minimistral
from minimistral import MinimistralError
from minimistral.attention_maps import AttentionTrace, traced_generate
from minimistral.analysis.heads import head_scores
from minimistral.config import ModelArgs
from minimistral.fast import attention as fast_attention
from minimistral.model import Mistral
from minimistral.training.init import random_weights

ARGS = ModelArgs(dim=32, n_layers=3, head_dim=8, hidden_dim=64, n_heads=4, n_kv_heads=2,
                 sliding_window=4, context_len=256, vocab_size=97)


def small_model(window=4, seed=0):
    args = ModelArgs(**{**ARGS.__dict__, "sliding_window": window})
    return Mistral(args, random_weights(args, seed=seed, std=0.3))


def window_rule(T, W):
    """bool [T, T]: key k readable from query q iff k <= q and q - k < W (W keys, itself included)."""
    q, k = np.arange(T)[:, None], np.arange(T)[None, :]
    return (k <= q) & ((q - k < W) if W else True)


TOKENS = np.random.default_rng(1).integers(0, ARGS.vocab_size, 13)


@pytest.mark.parametrize("window", [4, None])
def test_rows_are_distributions_on_exactly_the_window(window):
    model = small_model(window)
    maps = model.attention_maps(TOKENS)
    a = model.args
    assert maps.shape == (a.n_layers, a.n_heads, len(TOKENS), len(TOKENS)) and maps.dtype == np.float32
    np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-6)
    inside = window_rule(len(TOKENS), window)
    assert (maps[..., ~inside] == 0).all()           # outside the window and the future: exactly 0
    assert (maps[..., inside] > 0).all()             # every readable key gets some weight


def test_maps_are_whole_when_the_queries_go_in_blocks(monkeypatch):
    """A score ceiling (limits.SCORE_BYTES) splits a long chunk into query blocks: the trace must
    still receive every query's row once, in order (compared with the window rule's exact zeros
    and with an unsplit pass, which is checked against transformers above)."""

    model = small_model()
    whole = model.attention_maps(TOKENS)
    monkeypatch.setattr(fast_attention, "SCORE_BYTES", 4 * ARGS.n_heads * len(TOKENS) * 3)   # 3 queries a block
    blocked = model.attention_maps(TOKENS)
    assert blocked.shape == whole.shape
    np.testing.assert_allclose(blocked, whole, rtol=1e-5, atol=1e-7)


def test_tracing_does_not_change_the_forward_pass():
    model = small_model()
    plain = model.run(TOKENS, np.arange(len(TOKENS)))
    traced = model.run(TOKENS, np.arange(len(TOKENS)), trace=AttentionTrace())
    assert np.array_equal(plain, traced)


@requires_transformers
@pytest.mark.parametrize("name", ["gqa_window", "mqa_window", "mha_full", "head_dim_explicit"])
def test_maps_equal_transformers_eager_attentions(tmp_path, name):
    import torch
    from reference import hf_models as hf
    from transformers import MistralForCausalLM

    cfg = hf.CONFIGS[name]
    hf.save_hf(hf.make_hf_model(cfg, seed=6), tmp_path)
    tokens = np.random.default_rng(7).integers(0, cfg["vocab_size"], 17)   # longer than the windows
    ref_model = MistralForCausalLM.from_pretrained(tmp_path, dtype=torch.float32,
                                                   attn_implementation="eager").eval()
    with torch.no_grad():
        out = ref_model(torch.tensor([tokens.tolist()]), output_attentions=True)
    ref = np.stack([a[0].numpy() for a in out.attentions])                  # [L, H, T, T]

    ours = minimistral.load(tmp_path).attention_maps(tokens)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=2e-6)
    if cfg.get("sliding_window"):                     # the window really cuts rows here
        assert (ref[..., ~window_rule(len(tokens), cfg["sliding_window"])] == 0).all()
        assert cfg["sliding_window"] < len(tokens)


@pytest.mark.parametrize("window", [4, None])
def test_cached_steps_equal_rows_of_the_full_map_on_absolute_positions(window):
    """Decode token by token well past W (the buffer wraps several times): each step's row,
    read from the rolling buffer in slot order and put back on absolute positions, is the row
    of the one-shot map at that position."""
    model = small_model(window)
    tokens = np.random.default_rng(3).integers(0, ARGS.vocab_size, 15)
    full = model.attention_maps(tokens)                                   # [L, H, 15, 15]
    cache = model.new_cache()
    model.prefill(tokens[:3], cache)
    for t in range(3, len(tokens)):
        row = model.attention_maps(tokens[t:t + 1], cache)                 # [L, H, 1, t + 1]
        assert row.shape == (3, 4, 1, t + 1)
        np.testing.assert_allclose(row[:, :, 0], full[:, :, t, :t + 1], rtol=1e-5, atol=1e-6)
    assert cache.length == len(tokens)


def test_cached_chunk_longer_than_the_window():
    """A chunk of 6 > W = 4 after a wrapped buffer: rows read both the cache and the chunk."""
    model = small_model(4)
    tokens = np.random.default_rng(4).integers(0, ARGS.vocab_size, 16)
    full = model.attention_maps(tokens)
    cache = model.new_cache()
    model.prefill(tokens[:10], cache, chunk_size=4)
    rows = model.attention_maps(tokens[10:], cache)                        # [L, H, 6, 16]
    np.testing.assert_allclose(rows, full[:, :, 10:], rtol=1e-5, atol=1e-6)


def test_trace_records_the_buffer_slots_with_their_positions():
    """The raw record of a decode step past W: keys in slot order (position mod W)."""
    model = small_model(4)
    cache = model.new_cache()
    model.prefill(TOKENS[:6], cache)
    trace = AttentionTrace()
    model.run(TOKENS[6:7], np.array([6]), cache, trace=trace)
    assert len(trace.records) == model.args.n_layers
    r = trace.records[0]
    assert r.probs.shape == (4, 1, 4)
    assert sorted(r.key_pos.tolist()) == [3, 4, 5, 6]
    assert [p % 4 for p in r.key_pos] == [0, 1, 2, 3]                      # slot = position mod W


def test_too_large_a_map_is_refused():
    model = small_model()
    with pytest.raises(MinimistralError, match="GiB"):
        model.attention_maps(np.zeros(20000, dtype=np.int64))


def test_traced_generation_through_the_buffer_is_the_one_shot_map():
    """Greedy generation well past W (one prompt chunk, then one token at a time): the trace's
    map over the whole sequence equals the one-shot map of the generated ids."""
    model = small_model(4, seed=2)
    ids, trace = traced_generate(model, TOKENS[:5], 12)
    assert len(ids) == 17
    assert ids[5:] == model.generate(TOKENS[:5], max_tokens=12, eos_id=None)
    np.testing.assert_allclose(trace.maps(), model.attention_maps(ids), rtol=1e-5, atol=1e-6)


def test_head_scores_on_a_hand_made_map():
    """One layer, two heads over 4 positions: head 0 always reads the previous token, head 1 <s>."""
    maps = np.zeros((1, 2, 4, 4), dtype=np.float32)
    maps[0, 0, 0, 0] = maps[0, 1, :, 0] = 1
    maps[0, 0, [1, 2, 3], [0, 1, 2]] = 1
    subject = np.zeros((4, 4), dtype=bool)
    subject[:, 2] = True
    s = head_scores(maps, None, {"subject": subject})
    np.testing.assert_allclose(s["previous token"], [[1, 1 / 3]])   # for query 1, <s> is the previous token
    np.testing.assert_allclose(s["<s>"], [[1 / 3, 1]])
    np.testing.assert_allclose(s["subject"], [[1 / 2, 0]])            # queries 2 and 3 can see key 2
    s = head_scores(maps, 2, {"subject": subject})                    # W = 2: only query 1 sees <s>
    np.testing.assert_allclose(s["<s>"], [[1, 1]])
