"""The figures draw the paper's grids: the 0/1 matrices of Fig. 1 and Fig. 3 and the slot table
of Fig. 2 are transcribed from docs/mistral-7b.md §3 as literals here."""


import numpy as np

import minimistral
from minimistral.figures import memory as figures_memory
from minimistral.figures import paper as figures
from minimistral.figures import style
from minimistral.gqa import kv_cache_bytes
from minimistral.receptive_field import measure_influence
from minimistral.rolling_buffer import RollingBufferCache
from minimistral.training.init import TINY, tiny_model


def grid(text):
    return np.array([[c == "1" for c in row.replace(" ", "")] for row in text.strip().splitlines()])


def test_fig1_panels_are_the_papers_grids_on_real_tokens():
    _, grids = figures.fig_masks()
    assert style.token_labels("The cat sat on the") == ["The", "cat", "sat", "on", "the"]
    assert (grids["vanilla"] == grid("""
        10000
        11000
        11100
        11110
        11111""")).all()
    # Reference §3: row "on" attends cat, sat, on; row "the" attends sat, on, the.
    assert (grids["sliding window"] == grid("""
        10000
        11000
        11100
        01110
        00111""")).all()


def test_fig3_third_chunk_is_the_papers_matrix():
    _, drawn = figures_memory.fig_prefill_chunks()
    assert style.token_labels(style.FIG3_TEXT)[8:] == ["the", "dog", "go", "to"]
    assert (drawn == grid("""
        0000 0111 1000
        0000 0011 1100
        0000 0001 1110
        0000 0000 1111""")).all()


def spy_on_attention_masks(monkeypatch):
    """Record every mask the model's attention applies, as (query positions, key positions, mask)."""
    import minimistral.model as model_module

    seen = []
    real = model_module.sliding_window_mask

    def recording(q_pos, k_pos, window):
        allowed = real(q_pos, k_pos, window)
        seen.append((np.asarray(q_pos), np.asarray(k_pos), allowed))
        return allowed

    monkeypatch.setattr(model_module, "sliding_window_mask", recording)
    return seen


def as_grid(q_pos, k_pos, allowed, n_keys):
    """The recorded mask laid out by absolute key position (the cache holds keys in slot order)."""
    out = np.zeros((len(q_pos), n_keys), dtype=bool)
    out[:, k_pos] = allowed
    return out


def test_fig1_grid_is_the_mask_the_model_applies(monkeypatch):
    seen = spy_on_attention_masks(monkeypatch)
    model = tiny_model(TINY.replace(sliding_window=3, n_layers=1))
    model.forward(np.array(model.tokenizer.encode("The cat sat on the", bos=False)))
    _, grids = figures.fig_masks(window=3)
    (q_pos, k_pos, allowed), = seen
    assert (as_grid(q_pos, k_pos, allowed, 5) == grids["sliding window"]).all()


def test_fig3_grid_is_the_mask_the_model_applies_to_the_third_chunk(monkeypatch):
    model = tiny_model(TINY.replace(sliding_window=4, n_layers=1))
    ids = np.array(model.tokenizer.encode(style.FIG3_TEXT, bos=False))
    cache = model.new_cache()
    model.run(ids[:4], np.arange(0, 4), cache)
    model.run(ids[4:8], np.arange(4, 8), cache)
    seen = spy_on_attention_masks(monkeypatch)
    model.run(ids[8:], np.arange(8, 12), cache)           # the chunk "the dog go to"
    (q_pos, k_pos, allowed), = seen
    assert sorted(k_pos.tolist()) == list(range(4, 12))   # Past (0-3) is not even in memory
    _, drawn = figures_memory.fig_prefill_chunks()
    assert (as_grid(q_pos, k_pos, allowed, 12) == drawn).all()


def test_fig2_slot_table_from_a_real_cache():
    _, tables = figures_memory.fig_rolling_buffer()
    # Reference §3, third sequence at timesteps i, i+1, i+2.
    assert tables[2].tolist() == [["The", "cat", "sat", "on"],
                                  ["the", "cat", "sat", "on"],
                                  ["the", "mat", "sat", "on"]]
    # The first sequence by the same rule, slot = position mod 4: "of" overwrites "This".
    assert tables[0].tolist() == [["This", "is", "an", ""],
                                  ["This", "is", "an", "example"],
                                  ["of", "is", "an", "example"]]


def test_fig1_right_cone_is_what_a_real_model_depends_on():
    # Which inputs change the top layer's last output? Swap each input token of a random
    # model with the figure's shape (W = 3, 4 layers, 10 tokens) and look.
    _, cone = figures.fig_receptive_field(n_tokens=10, window=3, n_layers=4)
    model = tiny_model(TINY.replace(sliding_window=3, n_layers=4), seed=1, tokenizer=False)
    tokens = np.arange(1000, 1010)
    measured = [measure_influence(model.hidden_states, tokens, s, 7)[-1, -1] for s in range(10)]
    assert cone[0].tolist() == measured
    assert cone[0].tolist() == [False] + [True] * 9            # 8 = 4 x (3 - 1) back from 9
    assert [int(np.argmax(row)) for row in cone] == [1, 3, 5, 7, 9]


def test_reach_of_the_7b():
    _, reach = figures.fig_reach_vs_layer()
    assert reach[1] == 4095 and reach[-1] == 131_040 and len(reach) == 33


def test_gqa_heads_of_the_7b():
    _, sharing = figures_memory.fig_gqa_heads()
    assert sharing.shape == (32, 8) and (sharing.sum(axis=1) == 1).all()
    assert sharing[:4, 0].all() and sharing[4:8, 1].all() and sharing[28:, 7].all()


def test_kv_cache_chart_numbers():
    _, gib = figures_memory.fig_kv_cache_bytes()
    # Reference §4: 2 x 32 x 8 x 128 values per token, 128 KiB in bf16; 32K tokens -> 4 GiB.
    assert kv_cache_bytes(32, 8, 128, 1) == 128 * 1024
    assert gib[:, -1].tolist() == [16.0, 4.0, 0.5]


def test_rolling_buffer_is_8x_smaller_at_32k():
    _, gib = figures_memory.fig_rolling_buffer_memory()
    assert gib[0, -1] / gib[1, -1] == 8.0
    # The capped curve is what a real cache allocates: W slots however long the sequence (float32).
    args = TINY.replace(sliding_window=4)
    cache = RollingBufferCache(args)
    assert cache.nbytes == kv_cache_bytes(args.n_layers, args.n_kv_heads, args.head_dim, 4, 4)


def test_forward_pass_figure_data():
    """The figure shows the shipped trained model (load_default), not the tiny random one."""
    _, data = figures_memory.fig_forward_pass()
    model = minimistral.load_default()
    L = model.args.n_layers
    ids = np.array(model.tokenizer.encode(style.FIG3_TEXT))               # [13] with <s>
    assert data["rms"].shape == (L + 2, 13)                  # embedding, L blocks, final norm
    hidden = model.hidden_states(ids)
    # the first row is the embedding table's rows, looked up here directly
    embedded = model.weights.embed("tok_embeddings.weight", ids)
    assert np.allclose(data["rms"][0], np.sqrt(np.mean(embedded.astype(np.float64) ** 2, axis=-1)), rtol=1e-5)
    # each middle row is the stream after a block: block k applied to the stream before it
    for k in range(L):
        after = model.block(k, hidden[k], np.arange(13))
        assert np.allclose(data["rms"][k + 1], np.sqrt(np.mean(after.astype(np.float64) ** 2, axis=-1)), rtol=1e-5)
    assert np.allclose(data["rms"][-1], np.sqrt(np.mean(hidden[-1].astype(np.float64) ** 2, axis=-1)), rtol=1e-5)
    # probs: a float64 softmax of the model's last logits, written out here
    z = model.forward(ids)[-1].astype(np.float64)
    expected = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert data["probs"].shape == (32000,) and abs(float(data["probs"].sum()) - 1) < 1e-5
    assert np.allclose(data["probs"], expected, rtol=1e-6, atol=1e-12)
    # the stories make "... go to" nearly always continue with " the" (measured: 0.9996)
    best = int(np.argmax(data["probs"]))
    assert model.tokenizer.piece(best) == "\u2581the" and data["probs"][best] > 0.5
