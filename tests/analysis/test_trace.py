"""The relay of a name (analysis/trace.py): the chain found on hand-made maps whose answer is
known, and the cut checked against a cut done by hand on the uncut probabilities."""

import numpy as np
import pytest

from minimistral import MinimistralError
from minimistral.analysis.trace import Cut, Cuts, carrier_cut, cut_experiment, probability_at, relay_path, sentence_ends
from minimistral.attention_maps import AttentionTrace
from minimistral.training.init import TINY, tiny_model


def uniform_maps(L, T, W):
    """[L, 1, T, T]: every query spreads its weight evenly over its window."""
    m = np.zeros((L, 1, T, T), dtype=np.float32)
    for t in range(T):
        m[:, 0, t, max(0, t - W + 1):t + 1] = 1.0 / (t + 1 - max(0, t - W + 1))
    return m


def test_the_chain_follows_the_strong_hops():
    """W = 3: position 5 reads 3 strongly at layer 1, 3 reads 1 strongly at layer 0: 1 -> 3 -> 5."""
    maps = uniform_maps(2, 6, 3)
    maps[0, 0, 3] = 0
    maps[0, 0, 3, 1] = 1.0
    maps[1, 0, 5] = 0
    maps[1, 0, 5, 3] = 1.0
    assert relay_path(maps, source=1, query=5) == [1, 3, 5]
    # with one layer, 5 cannot reach 1 (two hops of at most W - 1 = 2 are needed)
    with pytest.raises(MinimistralError, match="beyond the stack's reach"):
        relay_path(maps[:1], source=1, query=5)


def test_a_cut_is_the_uncut_row_with_those_keys_removed_and_renormalized():
    model = tiny_model(TINY.replace(sliding_window=6), tokenizer=False)
    ids = np.random.default_rng(0).integers(3, 32000, 10)
    plain, cut = AttentionTrace(), Cut(layer=1, positions=[4, 6])
    model.run(ids, np.arange(10), trace=plain)
    model.run(ids, np.arange(10), trace=cut)
    before, after = plain.maps(), cut.maps()                                     # [L, H, T, T]
    assert np.array_equal(before[0], after[0])                                  # layer 0 untouched
    row = before[1, :, 8].astype(np.float64)                                    # query 8 reads 3..8
    row[:, [4, 6]] = 0
    np.testing.assert_allclose(after[1, :, 8], row / row.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert (after[1, :, 4, 4] > 0).all()                                        # a query still reads itself
    assert 0 < probability_at(model, ids, 8, int(ids[9]), Cut(1, [4])) < 1


def test_cuts_at_several_layers_remove_each_layers_keys_and_leave_the_rest():
    model = tiny_model(TINY.replace(sliding_window=6), tokenizer=False)
    ids = np.random.default_rng(0).integers(3, 32000, 10)
    plain, cut = AttentionTrace(), Cuts({0: [2], 1: [5, 6]})
    model.run(ids, np.arange(10), trace=plain)
    model.run(ids, np.arange(10), trace=cut)
    before, after = plain.maps(), cut.maps()                                     # [L, H, T, T]
    assert (after[0, :, 3:, 2] == 0).all() and (after[0, :, 2, 2] > 0).all()   # layer 0: key 2 gone
    assert (after[0, :, :, [0, 1, 3, 4]] > 0).any()
    row = before[0, :, 7].astype(np.float64)                                    # layer 0 cut its own way
    row[:, 2] = 0
    np.testing.assert_allclose(after[0, :, 7], row / row.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
    assert (after[1, :, 7:, [5, 6]] == 0).all() and not (after[1, :, 7:, 2] == 0).all()


def test_sentence_ends_are_the_pieces_that_close_a_sentence():
    from minimistral.training import corpus

    tok = corpus.tokenizer()
    text = 'Tom ran home. Mia sat down! "Where is it?" asked Mom. Dr. Lee said no.'
    ids = tok.encode(text)
    pieces = [tok.piece(i) for i in ids]
    found = [pieces[p] for p in sentence_ends(tok, ids, 0, len(ids))]
    # what the tokenizer makes of them: a full stop, '!', '?"' and the stop of 'Dr.' (it cannot tell)
    assert found == [".", "!", '?"', ".", ".", "."]
    assert all(p in sentence_ends(tok, ids, 0, len(ids)) for p in sentence_ends(tok, ids, 3, 12))
    assert sentence_ends(tok, ids, 3, 12) == [p for p in sentence_ends(tok, ids, 0, len(ids)) if 3 <= p < 12]


def test_cutting_the_relay_removes_a_retrieval_beyond_the_window():
    """A model that does carry tokens past its window: the copy task of training/reach.py with
    W = 4, k = 2, delta = 5 (5 > W - 1 = 3, within k (W - 1) = 6), trained here (relay_example,
    the model figures/relay_copy_task.png draws). Each prediction needs the token 5 back, which no
    query reads directly: cutting the one position the relay path leaves from removes it, cutting
    another position of the same window does not."""
    from minimistral.training.reach import copy_accuracy, relay_example

    delta = 5
    model, seq, source, query, target = relay_example()
    assert (query - source, int(seq[query + 1])) == (delta, target)
    assert copy_accuracy(model, delta, n=16) > 0.95
    cut, kept = 0, 0
    for query in range(13, 18):
        source = query - delta                                      # the same token as the target
        r = cut_experiment(model, seq, source, query, int(seq[query + 1]))
        assert r["path"][0] == source and r["path"][-1] == query
        assert r["p"] > 0.9
        cut += r["p_relay"] < r["p"] / 10
        kept += r["p_control"] > r["p"] / 2
    assert cut >= 4 and kept == 5


def test_cutting_the_relays_positions_at_every_layer_removes_the_copy():
    """The relay of the copy task (W = 4, k = 2, 5 back) cut at every layer where it hops, and the
    positions strictly between source and query on its path cut at every layer (carrier_cut):
    both remove the retrieval; the controls (as many other positions) do not."""
    from minimistral.training.reach import relay_example

    model, seq, source, query, target = relay_example()
    every = cut_experiment(model, seq, source, query, target, every_hop=True)
    assert sorted(every["cuts"]) == [l for l in range(2) if every["path"][l + 1] != every["path"][l]]
    assert every["p_relay"] < every["p"] / 5 and every["p_control"] > every["p"] / 2
    carriers = [p for p in every["path"] if source < p < query]
    c = carrier_cut(model, seq, source, query, target, carriers)
    assert c["carriers"] == carriers and len(c["control"]) == len(carriers)
    assert not set(c["control"]) & set(carriers) and all(source < p < query for p in c["control"])
    assert c["p_carriers"] < c["p"] / 5 and c["p_control"] > c["p"] / 2
    with pytest.raises(MinimistralError, match="strictly between"):
        carrier_cut(model, seq, source, query, target, [source, query])
