"""Training on S + 1 output rows (training/vocab.py) is exact: the compact model's loss is the
loss the expanded 32000-row model gives through the inference forward, and the rest row's
gradient is the sum of the gradients of the rows it stands for (the full backward pass is
itself checked against torch autograd in test_backward.py)."""

import numpy as np

from minimistral.config import ModelArgs
from minimistral.training.backward import loss_and_grads
from minimistral.training.evaluate import cross_entropy
from minimistral.training.init import init_params
from minimistral.training.train import model_of
from minimistral.training.vocab import CompactVocab

ARGS = ModelArgs(dim=16, n_layers=2, head_dim=4, hidden_dim=32, n_heads=4, n_kv_heads=2, sliding_window=4,
                 context_len=64, vocab_size=200)


def setup():
    rng = np.random.default_rng(0)
    corpus_ids = rng.choice(np.arange(3, 200), size=30, replace=False)           # the pieces "seen"
    vocab = CompactVocab.of(corpus_ids, ARGS.vocab_size)
    params = vocab.compact(init_params(ARGS, seed=1, std=0.3))
    params["output.weight"][-1] += 0.5                                            # a rest row of its own
    seq = rng.choice(corpus_ids, size=(2, 12))                                    # inputs: seen pieces
    seq[0, 5] = 7 if 7 not in corpus_ids else 8                                   # one unseen target/input
    return vocab, params, seq


def test_compact_loss_is_the_full_models_loss():
    vocab, params, seq = setup()
    assert vocab.size == 34 and vocab.rest == 200 - 33                            # 30 pieces + <unk>, <s>, </s>
    compact = model_of(ARGS.replace(vocab_size=vocab.size), params)
    loss, _ = loss_and_grads(compact, vocab.index[seq], vocab.output_bias())
    full = model_of(ARGS, vocab.expand(params))                                   # 200 rows
    expected = np.mean([cross_entropy(full.forward(row)[:-1], row[1:]) for row in seq])
    assert abs(loss - expected) < 1e-5 * expected


def test_rest_row_gradient_is_the_sum_over_the_pieces_it_stands_for():
    vocab, params, seq = setup()
    compact = model_of(ARGS.replace(vocab_size=vocab.size), params)
    _, g = loss_and_grads(compact, vocab.index[seq], vocab.output_bias())
    _, g_full = loss_and_grads(model_of(ARGS, vocab.expand(params)), seq)
    unseen = np.setdiff1d(np.arange(200), vocab.ids)
    for name in ("output.weight", "tok_embeddings.weight"):
        np.testing.assert_allclose(g[name][:-1], g_full[name][vocab.ids], rtol=1e-4, atol=2e-6)
        np.testing.assert_allclose(g[name][-1], g_full[name][unseen].sum(0), rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(g["layers.1.attention.wq.weight"], g_full["layers.1.attention.wq.weight"],
                               rtol=1e-4, atol=2e-6)


def test_expand_puts_every_row_back_at_its_id():
    vocab, params, _ = setup()
    full = vocab.expand(params)
    table = full["output.weight"]
    assert table.shape == (200, 16)
    assert (table[vocab.ids] == params["output.weight"][:-1]).all()
    unseen = np.setdiff1d(np.arange(200), vocab.ids)
    assert (table[unseen] == params["output.weight"][-1]).all()
    assert (vocab.compact(full)["output.weight"] == params["output.weight"]).all()
