"""The figures of notebook 12 are drawn from the measurements they claim to show."""

import numpy as np
import pytest

from minimistral import MinimistralError
from minimistral.analysis.logit_lens import logit_lens
from minimistral.figures import REGISTRY
from minimistral.figures.inside import fig_attention_tokens, fig_logit_lens, piece_labels
from minimistral.training.init import tiny_model

TEXT = "There was once a boy called Hugo who lived near the garden."


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def test_attention_figure_draws_one_head_or_the_mean_with_the_pieces_on_both_axes(model):
    ids = model.tokenizer.encode(TEXT)
    maps = model.attention_maps(ids)
    fig, m = fig_attention_tokens(model, ids, layer=1, head=2)
    np.testing.assert_array_equal(m, maps[1, 2])
    ax = fig.axes[0]
    pieces = [model.tokenizer.piece(i) for i in ids]
    assert [t.get_text() for t in ax.get_xticklabels()] == pieces == [t.get_text() for t in ax.get_yticklabels()]
    fig, m = fig_attention_tokens(model, ids, layer=0)
    np.testing.assert_allclose(m, maps[0].mean(0), rtol=1e-6)
    np.testing.assert_allclose(m.sum(-1), 1, rtol=1e-5)
    with pytest.raises(MinimistralError, match="head"):
        fig_attention_tokens(model, ids, layer=0, head=model.args.n_heads)


def test_logit_lens_figure_labels_each_cell_with_the_top_token(model):
    ids = model.tokenizer.encode(TEXT)[:9]
    fig, reading = fig_logit_lens(model, ids)
    expected = logit_lens(model, ids, k=5)
    np.testing.assert_array_equal(reading.top_ids, expected.top_ids)
    ax = fig.axes[0]
    cells = [t.get_text() for t in ax.texts]
    S = model.args.n_layers + 1
    assert len(cells) == S * len(ids)
    assert cells == [piece_labels(model.tokenizer, [i])[0] for i in expected.top_ids[..., 0].ravel()]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected.top_probs[..., 0])


def test_the_figures_are_drawn_in_the_notebook_not_committed():
    assert not {fig_attention_tokens, fig_logit_lens} & set(REGISTRY.values())
