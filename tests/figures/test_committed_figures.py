"""Every figure in figures/ is what `minimistral figures` draws now: one registry, no stale PNG.

The figures drawn from the mechanisms alone (masks, reach, slots, byte counts, the experiments'
JSON, the training log) must come out byte for byte as committed. The ones that run the shipped
model (or train one, relay_copy_task) go through float32 BLAS, whose summation order differs between CPU kernels (AVX2, AVX-512),
so a colour can move by one level on a handful of pixels from machine to machine: those are
drawn twice here and must agree byte for byte (no hidden randomness), and must match the
committed PNG pixel for pixel within one colour level on at most 0.1 % of the pixels. A stale
figure (another model, another title, another layout) differs far beyond that.
"""

import matplotlib.image as mpimg
import numpy as np
import pytest
from conftest import ROOT

from minimistral.cli import main
from minimistral.figures import REGISTRY, write_all

COMMITTED = ROOT / "figures"
ON_THE_MODEL = {"forward_pass", "attention_heads", "attention_gqa_groups", "attention_head_roles",
                "attention_bos_leaves_window", "names_by_distance", "relay_copy_task"}


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    assert main(["figures", "--out", str(out)]) == 0
    return out


def test_the_cli_writes_exactly_the_registry(drawn):
    names = sorted(f"{name}.png" for name in REGISTRY)
    assert sorted(p.name for p in drawn.iterdir()) == names
    assert sorted(p.name for p in COMMITTED.glob("*.png")) == names, \
        "figures/ holds a PNG no command draws, or misses one: run `minimistral figures` and commit figures/"


@pytest.mark.parametrize("name", sorted(set(REGISTRY) - ON_THE_MODEL))
def test_committed_figure_is_byte_for_byte_a_fresh_draw(drawn, name):
    assert (drawn / f"{name}.png").read_bytes() == (COMMITTED / f"{name}.png").read_bytes(), \
        f"figures/{name}.png is stale: run `minimistral figures` and commit figures/"


@pytest.mark.parametrize("name", sorted(ON_THE_MODEL))
def test_figures_on_the_model_are_deterministic_and_match_the_committed_pixels(drawn, tmp_path, name):
    again = write_all(tmp_path, names=[name])[0]
    assert again.read_bytes() == (drawn / f"{name}.png").read_bytes()          # no randomness
    fresh, committed = mpimg.imread(again), mpimg.imread(COMMITTED / f"{name}.png")
    assert fresh.shape == committed.shape, f"figures/{name}.png is stale (another size)"
    diff = np.abs(fresh - committed)                                             # [rows, cols, RGBA] in 0..1
    assert diff.max() <= 1.5 / 255 and (diff > 0).any(axis=-1).mean() <= 1e-3, \
        f"figures/{name}.png is stale: run `minimistral figures` and commit figures/"


def test_an_altered_figure_is_caught(drawn, tmp_path):
    """The comparison above can fail: a figure redrawn with another title differs."""
    from minimistral.figures import paper

    fig, _ = paper.fig_masks()
    fig.suptitle("another title")
    fig.savefig(tmp_path / "x.png", dpi=100, metadata={"Software": None})
    assert (tmp_path / "x.png").read_bytes() != (COMMITTED / "fig1_masks.png").read_bytes()
    a, b = mpimg.imread(tmp_path / "x.png"), mpimg.imread(COMMITTED / "fig1_masks.png")
    assert a.shape != b.shape or (np.abs(a - b) > 0).any(axis=-1).mean() > 1e-3


def test_unknown_figure_name_is_one_sentence(tmp_path):
    from minimistral import MinimistralError

    with pytest.raises(MinimistralError, match="no figure named 'nope'"):
        write_all(tmp_path, names=["nope"])
