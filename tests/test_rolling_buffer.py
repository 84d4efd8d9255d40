"""The rolling buffer cache and chunked pre-fill (paper section 2, Figs. 2 and 3).

Outside references: transformers' logits and its own KV cache (eager, float32) for tiny random
models, and the paper's Fig. 2 slot table and Fig. 3 mask rows (docs/mistral-7b.md §3) read
from a real cache and the masks the attention really computed, with the real tokenizer.
"""

import numpy as np
import pytest
from conftest import requires_transformers
from hypothesis import given, settings
from hypothesis import strategies as st

import minimistral
import minimistral.model as model_module
from minimistral.errors import MinimistralError
from minimistral.tokenizer import SHIPPED_TOKENIZER, Tokenizer
from minimistral.training.init import TINY, tiny_model

# name -> MistralConfig fields, prompt length (3-5x W), chunk sizes: 1, a divisor of W, a
# non-divisor larger than W, None (= W, or the whole prompt without a window).
CASES = {
    "w6": (dict(hidden_size=64, intermediate_size=160, num_hidden_layers=3, num_attention_heads=8,
                num_key_value_heads=2, sliding_window=6, vocab_size=256), 24, [1, 3, 8, None]),
    "mqa_w3": (dict(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=1, sliding_window=3, vocab_size=200), 14, [1, 3, 5, None]),
    "full": (dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=4, sliding_window=None, vocab_size=128, rope_theta=1e6), 20, [1, 4, 7, None]),
}
NEW_TOKENS = 45


class HFCase:
    """A tiny random MistralForCausalLM saved to disk, reloaded float32/eager, and our model of it."""

    def __init__(self, name, directory):
        import torch
        from reference import hf_models
        from transformers import MistralForCausalLM

        cfg, n_prompt, self.chunk_sizes = CASES[name]
        hf_models.save_hf(hf_models.make_hf_model(cfg, seed=7), directory)
        self.hf = MistralForCausalLM.from_pretrained(directory, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        self.hf.generation_config.eos_token_id = None     # never stop early: compare all tokens
        self.ours = minimistral.load(directory)
        self.window = cfg["sliding_window"]
        self.prompt = np.random.default_rng(11).integers(3, cfg["vocab_size"], n_prompt).tolist()
        self.new_tokens = self.hf_generate(self.prompt, NEW_TOKENS)
        self.sequence = self.prompt + self.new_tokens
        self.logits = self.hf_logits(self.sequence)                            # [N, V]

    def hf_generate(self, prompt, n):
        import torch

        with torch.no_grad():
            out = self.hf.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=n,
                                   min_new_tokens=n, output_scores=True, return_dict_in_generate=True)
        scores = torch.stack(out.scores)[:, 0].numpy()                          # [n, V]
        top2 = np.sort(scores, axis=-1)[:, -2:]
        assert (top2[:, 1] - top2[:, 0]).min() > 1e-4, "near-tied greedy choice: pick another seed"
        return out.sequences[0, len(prompt):].tolist()

    def hf_logits(self, tokens):
        import torch

        with torch.no_grad():
            return self.hf(torch.tensor([tokens])).logits[0].numpy()

    def hf_keys(self, tokens):
        """Per layer, the keys transformers caches: [n, K, Hd] in our (native RoPE) pairing."""
        import torch

        with torch.no_grad():
            out = self.hf(torch.tensor([tokens]), use_cache=True)
        cache = getattr(out, "past_key_values", None)
        keys = []
        for layer in cache.layers:
            k = layer.keys[0].numpy().transpose(1, 0, 2)                        # [n, K, Hd] HF pairing
            n, K, Hd = k.shape
            # HF pairs (j, j + Hd/2) (rotate_half); native pairs (2j, 2j+1): docs/mistral-7b.md §5.
            keys.append(k.reshape(n, K, 2, Hd // 2).swapaxes(-1, -2).reshape(n, K, Hd))
        return keys


_CASES = {}


def hf_case(name, tmp_path_factory) -> HFCase:
    if name not in _CASES:
        _CASES[name] = HFCase(name, tmp_path_factory.mktemp(name))
    return _CASES[name]


def assert_close(ours, ref, rel=1e-5):
    err = np.abs(ours - ref).max() / np.abs(ref).max()
    assert err < rel, f"relative logit error {err:.3g}"
    assert (ours.argmax(-1) == ref.argmax(-1)).all()


# ---- chunked pre-fill and decode against transformers ---------------------------------------------

@requires_transformers
@pytest.mark.parametrize("name", list(CASES))
def test_chunked_prefill_logits_equal_one_pass_and_transformers(name, tmp_path_factory):
    case = hf_case(name, tmp_path_factory)
    model, tokens = case.ours, case.sequence
    one_pass = model.run(tokens, np.arange(len(tokens)))                         # no cache at all
    assert_close(one_pass, case.logits)
    for chunk_size in case.chunk_sizes + [len(tokens) - 1]:
        cache = model.new_cache()
        logits = model.prefill(tokens, cache, chunk_size=chunk_size, all_logits=True)
        assert logits.dtype == np.float32 and logits.shape == one_pass.shape
        assert np.abs(logits - one_pass).max() <= 1e-5 * np.abs(one_pass).max(), chunk_size
        assert_close(logits, case.logits)
        assert cache.length == len(tokens)


@requires_transformers
@pytest.mark.parametrize("name", list(CASES))
def test_decode_logits_equal_full_recompute(name, tmp_path_factory):
    case = hf_case(name, tmp_path_factory)
    model, n = case.ours, len(case.prompt)
    cache = model.new_cache()
    last = model.prefill(case.prompt, cache)                                     # [1, V]
    assert last.shape == (1, case.logits.shape[1])
    steps = [last[0]] + [model.decode(t, cache) for t in case.new_tokens[:-1]]   # [V] each
    assert_close(np.stack(steps), case.logits[n - 1:-1])                         # HF, recomputed
    assert_close(np.stack(steps), model.forward(case.sequence)[n - 1:-1])


@requires_transformers
@pytest.mark.parametrize("name", ["w6", "mqa_w3"])
def test_buffer_holds_the_last_w_positions_in_their_slots(name, tmp_path_factory):
    case = hf_case(name, tmp_path_factory)
    model, W, tokens = case.ours, case.window, case.sequence[:4 * case.window + 1]
    cache = model.new_cache()
    model.prefill(tokens, cache, chunk_size=W - 1)
    N = len(tokens)
    assert cache.nbytes == 2 * model.args.n_layers * W * model.args.n_kv_heads * model.args.head_dim * 4
    assert sorted(cache.positions) == list(range(N - W, N))                     # exactly the last W
    assert all(cache.positions[p % W] == p for p in range(N - W, N))            # slot = pos mod W
    # Contents against transformers' own cache, which keeps the last W - 1 positions.
    for layer, hf_keys in enumerate(case.hf_keys(tokens)):
        keys, _, positions = cache.in_time_order(layer)
        assert list(positions) == list(range(N - W, N))
        assert np.abs(keys[1:] - hf_keys[-(W - 1):]).max() < 1e-4 * np.abs(hf_keys).max()
        assert np.array_equal(keys, cache.keys[layer, positions % W])


@requires_transformers
def test_growing_cache_without_window(tmp_path_factory):
    case = hf_case("full", tmp_path_factory)
    model, tokens = case.ours, case.sequence
    cache = model.new_cache(capacity=2)
    sizes = []
    for start in range(0, len(tokens), 5):
        model.prefill(tokens[start:start + 5], cache)
        sizes.append(cache.nbytes)
    assert cache.held == cache.length == len(tokens) and cache.capacity >= len(tokens)
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]                        # it grew
    for layer, hf_keys in enumerate(case.hf_keys(tokens)):
        keys, _, positions = cache.in_time_order(layer)
        assert list(positions) == list(range(len(tokens)))
        assert np.abs(keys - hf_keys).max() < 1e-4 * np.abs(hf_keys).max()


@requires_transformers
def test_long_forward_goes_through_chunks_exactly(tmp_path_factory, monkeypatch):
    case = hf_case("w6", tmp_path_factory)
    monkeypatch.setattr(model_module, "FORWARD_CHUNK", 7)       # so 69 tokens take the chunked path
    calls = []
    run = case.ours.run
    monkeypatch.setattr(case.ours, "run", lambda *a, **k: calls.append(1) or run(*a, **k))
    assert_close(case.ours.forward(case.sequence), case.logits)
    assert len(calls) == -(-len(case.sequence) // 7)


# ---- the paper's figures, from a real cache ---------------------------------------------------------

@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer(SHIPPED_TOKENIZER)


def test_fig2_slots_of_the_cat_sat_on_the_mat(tokenizer):
    """Fig. 2, third sequence, W = 4: [The cat sat on] -> [the cat sat on] -> [the mat sat on].

    Encoded without BOS so position i is the i-th word, as in the paper's drawing (with BOS
    every word would sit one slot to the right).
    """
    words = "The cat sat on the mat".split()
    ids = tokenizer.encode(" ".join(words), bos=False)
    assert [tokenizer.piece(i).lstrip("\u2581") for i in ids] == words            # one piece per word
    model = tiny_model(TINY.replace(sliding_window=4), seed=3)
    cache = model.new_cache()
    table = []
    for position, token in enumerate(ids):
        model.decode(token, cache)
        table.append([words[p] if p >= 0 else None for p in cache.positions])   # slot -> word
        keys = cache.keys[:, position % 4]                                       # [L, K, Hd] newest slot
        fresh = model.new_cache()                                                # same prefix, one pass
        model.prefill(ids[:position + 1], fresh, chunk_size=position + 1)
        assert np.allclose(keys, fresh.keys[:, position % 4], atol=1e-5)
    assert table[3] == ["The", "cat", "sat", "on"]      # step i
    assert table[4] == ["the", "cat", "sat", "on"]      # step i + 1: slot 0 overwritten
    assert table[5] == ["the", "mat", "sat", "on"]      # step i + 2
    assert cache.nbytes == fresh.nbytes                 # memory fixed at W slots
    _, _, order = cache.in_time_order()
    assert [words[p] for p in order] == ["sat", "on", "the", "mat"]


FIG3_ROWS = {"the": "0000 0111 1000", "dog": "0000 0011 1100", "go": "0000 0001 1110", "to": "0000 0000 1111"}


def test_fig3_mask_used_by_chunked_prefill(tokenizer, monkeypatch):
    """Fig. 3: "The cat sat on the mat and saw the dog go to" in chunks of 4, W = 4.

    The attention's own masks are recorded (key positions -> columns 1..12); the third chunk
    must see the paper's rows: past never, cache as a band, current chunk causally.
    """
    text = "The cat sat on the mat and saw the dog go to"
    ids = tokenizer.encode(text, bos=False)
    assert len(ids) == 12 == len(text.split())
    seen = []
    real_mask = model_module.sliding_window_mask

    def recording_mask(q_pos, k_pos, window):
        allowed = real_mask(q_pos, k_pos, window)                               # [T, S]
        grid = np.zeros((len(q_pos), 12), dtype=int)
        grid[:, np.asarray(k_pos)] = allowed                                   # key position -> column
        seen.append((list(q_pos), grid))
        return allowed

    monkeypatch.setattr(model_module, "sliding_window_mask", recording_mask)
    model = tiny_model(TINY.replace(sliding_window=4, n_layers=2), seed=1)
    model.prefill(ids, model.new_cache(), chunk_size=4)
    third = [grid for q, grid in seen if q == [8, 9, 10, 11]]
    assert len(third) == model.args.n_layers                                   # every layer, same mask
    for grid in third:
        for word, row in zip(text.split()[8:], grid):
            assert " ".join("".join(map(str, row[i:i + 4])) for i in (0, 4, 8)) == FIG3_ROWS[word]


# ---- the mechanics ----------------------------------------------------------------------------------

def test_slots_and_time_order_worked_example():
    cache = minimistral.Mistral(TINY.replace(sliding_window=4, n_layers=1), None).new_cache()
    assert list(cache.slot(range(6))) == [0, 1, 2, 3, 0, 1]
    for p in range(6):
        cache.begin([p])
        cache.write(0, np.full((1, 2, 16), p, np.float32), np.zeros((1, 2, 16), np.float32), np.array([p]))
        cache.advance(np.array([p]))
    keys, _, positions = cache.in_time_order(0)
    assert list(cache.positions) == [4, 5, 2, 3] and list(positions) == [2, 3, 4, 5]
    assert list(keys[:, 0, 0]) == [2, 3, 4, 5]


def test_chunk_longer_than_window_sees_the_cache_before_it_is_overwritten():
    """A chunk of T > W: its first query needs W - 1 cached keys its own writes would clobber."""
    model = tiny_model(TINY.replace(sliding_window=3), seed=2, tokenizer=False)
    ids = np.random.default_rng(0).integers(0, TINY.vocab_size, 17)
    cache = model.new_cache()
    model.prefill(ids[:5], cache)
    k = np.zeros((7, TINY.n_kv_heads, TINY.head_dim), np.float32)
    keys, _, key_pos = cache.view(0, k, k, np.arange(5, 12))
    assert sorted(key_pos) == [2, 3, 4] + list(range(5, 12))                   # W cached + T own
    logits = model.prefill(ids[5:], cache, chunk_size=7, all_logits=True)
    assert np.allclose(logits, model.forward(ids)[5:], atol=1e-5 * np.abs(logits).max())


def test_positions_must_continue_the_cache():
    model = tiny_model(seed=0, tokenizer=False)
    cache = model.new_cache()
    model.prefill([5, 6, 7], cache)
    with pytest.raises(MinimistralError, match="continues at position 3"):
        model.run([8], np.array([7]), cache)
    assert cache.length == 3


def test_failed_pass_leaves_the_cache_as_it_was(monkeypatch):
    """An error (or Ctrl-C) in the middle of a chunk: the slots it overwrote are put back."""
    model = tiny_model(TINY.replace(sliding_window=4), seed=0, tokenizer=False)
    ids = np.random.default_rng(1).integers(0, TINY.vocab_size, 12)
    cache = model.new_cache()
    model.prefill(ids[:6], cache)
    before = cache.keys.copy(), cache.values.copy(), cache.positions.copy()
    real = model.feed_forward

    def broken(i, x):
        if i == 2:
            raise KeyboardInterrupt
        return real(i, x)

    monkeypatch.setattr(model, "feed_forward", broken)
    with pytest.raises(KeyboardInterrupt):
        model.prefill(ids[6:], cache)                        # layers 0-2 wrote before the failure
    assert all(np.array_equal(a, b) for a, b in zip(before, (cache.keys, cache.values, cache.positions)))
    assert cache.length == 6
    monkeypatch.setattr(model, "feed_forward", real)
    logits = model.prefill(ids[6:], cache, all_logits=True)
    assert np.allclose(logits, model.forward(ids)[6:], atol=1e-5 * np.abs(logits).max())


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "4"])
def test_bad_chunk_size(bad):
    with pytest.raises(MinimistralError, match="chunk_size"):
        tiny_model(tokenizer=False).prefill([1, 2, 3], chunk_size=bad)


# ---- any chunk schedule gives the one-pass logits (property test) -----------------------------------


SMALL_VOCAB = TINY.replace(vocab_size=64, n_layers=2)


@settings(max_examples=40, deadline=None)
@given(window=st.one_of(st.none(), st.integers(1, 6)), n=st.integers(1, 24),
       chunks=st.lists(st.integers(1, 9), min_size=1, max_size=24), seed=st.integers(0, 3))
def test_any_chunk_schedule_equals_one_pass(window, n, chunks, seed):
    """Pre-fill in chunks of any sizes (mixed, longer or shorter than W) = one full pass."""
    model = minimistral.Mistral(SMALL_VOCAB.replace(sliding_window=window),
                                tiny_model(SMALL_VOCAB, seed=seed, tokenizer=False).weights)
    ids = np.random.default_rng(seed).integers(0, 64, n)
    cache, parts, start, i = model.new_cache(capacity=1), [], 0, 0
    while start < n:
        size = chunks[i % len(chunks)]
        parts.append(model.prefill(ids[start:start + size], cache, chunk_size=size, all_logits=True))
        start, i = start + size, i + 1
    one_pass = model.run(ids, np.arange(n))
    assert np.abs(np.concatenate(parts) - one_pass).max() <= 1e-5 * np.abs(one_pass).max()
    assert cache.length == n and cache.held == (n if window is None else min(n, window))
