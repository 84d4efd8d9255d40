"""The attention figures are drawn: measured ones from the committed JSON, maps from a model."""

import numpy as np

from minimistral import figures_attention as fa
from minimistral import figures_experiments as fx
from minimistral.cli import main
from minimistral.demo import tiny_model
from minimistral.swa_cost import attended_pairs, attention_flops, blocked_attention, score_bytes

TEXT = "There was once a boy called Hugo who lived near the garden. He had a tall bird named Milo."


def test_swa_counts_by_hand():
    """Pairs counted row by row: W = 3 over 6 tokens reads 1+2+3+3+3+3 keys."""
    assert attended_pairs(6, 3) == 15 and attended_pairs(6, None) == 21
    assert attended_pairs(16384, 4096) == sum(min(t + 1, 4096) for t in range(16384))
    assert attention_flops(16384, None) == 4 * 128 * 32 * 16384 * 16385 // 2
    assert score_bytes(16384, None) == 32 * 16384 ** 2 * 4                    # 34.4 GB


def naive_attention(q, k, v, window):
    """Written out here, not taken from gqa.py / masks.py: query head h reads kv head h // G,
    keys k <= q with q - k < W (paper Fig. 1), softmax over them in float64."""
    T, H, Hd = q.shape
    G = H // k.shape[1]
    out = np.zeros((T, H, Hd))
    for t in range(T):
        lo = 0 if window is None else max(0, t - window + 1)
        for h in range(H):
            s = k[lo:t + 1, h // G].astype(np.float64) @ q[t, h] / np.sqrt(Hd)     # [keys]
            p = np.exp(s - s.max())
            out[t, h] = (p / p.sum()) @ v[lo:t + 1, h // G]
    return out


def test_blocked_attention_equals_one_shot_attention():
    """Block by block with only the visible keys = attention over the whole window, written out."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((70, 4, 8), dtype=np.float32)
    k, v = rng.standard_normal((2, 70, 2, 8), dtype=np.float32)
    for window in (None, 9):
        full = naive_attention(q, k, v, window)
        np.testing.assert_allclose(blocked_attention(q, k, v, window, block=16), full, rtol=1e-5, atol=1e-5)


def test_measured_figures_are_drawn_from_the_committed_results(tmp_path):
    assert fx.SWA_COST_JSON.exists() and fx.REACH_JSON.exists()
    fig, res = fx.fig_swa_cost()
    assert res["rows"][-1]["T"] >= 16384
    fig, curves = fx.fig_reach_measured()
    assert len([c for c in curves if c[0] is not None]) >= 3             # at least three (W, k)
    assert main(["figures", "--out", str(tmp_path)]) == 0
    for name in ("swa_cost", "reach_measured", "attention_heads", "attention_gqa_groups",
                 "attention_head_roles", "attention_bos_leaves_window"):      # the last four: shipped model
        assert (tmp_path / f"{name}.png").exists(), name


def test_attention_map_figures_on_a_model(tmp_path):
    model = tiny_model()
    ids = model.tokenizer.encode(TEXT)
    fig, maps = fa.fig_attention_heads(model, ids[:20])
    assert maps.shape == (4, 4, 20, 20)
    fig, data = fa.fig_gqa_sharing(model, ids)
    assert data["similarity"].shape == (4, 4) and len(data["per_layer"]) == 4
    fig, scores = fa.fig_head_roles(model, ids, subject="Hugo")
    assert set(scores) == {"previous token", "itself", "<s>", "subject (Hugo)"}
    assert fa.subject_keys(model.tokenizer, ids, "Hugo")[0].sum() >= 1
    fig, data = fa.fig_bos_leaves_window(model, ids[:6], 12)
    assert data["maps"].shape[2] == 18
    assert (data["mass"]["<s>"][:, model.args.sliding_window:] == 0).all()   # <s> gone from the buffer
    fig.savefig(tmp_path / "bos.png")
