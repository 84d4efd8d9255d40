"""The attention figures are drawn: measured ones from the committed JSON, maps from a model."""


from minimistral.analysis.heads import subject_keys
from minimistral.figures import attention as fa
from minimistral.figures import experiments as fx
from minimistral.training.init import tiny_model

TEXT = "There was once a boy called Hugo who lived near the garden. He had a tall bird named Milo."


def test_measured_figures_are_drawn_from_the_shipped_results():
    assert fx.SWA_COST_JSON.exists() and fx.REACH_JSON.exists()
    fig, res = fx.fig_swa_cost()
    assert res["rows"][-1]["T"] >= 16384
    fig, curves = fx.fig_reach_measured()
    assert len([c for c in curves if c[0] is not None]) >= 3             # at least three (W, k)


def test_attention_map_figures_on_a_model(tmp_path):
    model = tiny_model()
    ids = model.tokenizer.encode(TEXT)
    fig, maps = fa.fig_attention_heads(model, ids[:20])
    assert maps.shape == (4, 4, 20, 20)
    fig, data = fa.fig_gqa_sharing(model, ids)
    assert data["similarity"].shape == (4, 4) and len(data["per_layer"]) == 4
    fig, scores = fa.fig_head_roles(model, ids, subject="Hugo")
    assert set(scores) == {"previous token", "itself", "<s>", "subject (Hugo)"}
    assert subject_keys(model.tokenizer, ids, "Hugo")[0].sum() >= 1
    fig, data = fa.fig_bos_leaves_window(model, ids[:6], 12)
    assert data["maps"].shape[2] == 18
    assert (data["mass"]["<s>"][:, model.args.sliding_window:] == 0).all()   # <s> gone from the buffer
    fig.savefig(tmp_path / "bos.png")
