"""The notebooks' sliders (figures/interactive.py) and the sampling figure they drive: the panel is
built, moving a value redraws, and the printed line is the same with or without ipywidgets."""

import builtins

import numpy as np
import pytest
from matplotlib.figure import Figure

from minimistral.figures import interactive
from minimistral.figures.memory import fig_prefill_chunks
from minimistral.figures.paper import fig_masks, fig_receptive_field
from minimistral.figures.sampling import fig_sampling
from minimistral.receptive_field import reach_matrix
from minimistral.sampling import softmax_with_temperature

ipywidgets = pytest.importorskip("ipywidgets")


def test_slider_panel_builds_and_redraws():
    calls = []

    def draw(window, n_layers):
        calls.append((window, n_layers))
        return fig_receptive_field(max(10, n_layers * (window - 1) + 2), window, n_layers)[0]

    panel, update = interactive.slider_panel(draw, window=(2, 6, 3), n_layers=(1, 6, 4))
    assert isinstance(panel, ipywidgets.VBox) and calls == [(3, 4)]
    sliders = panel.children[0].children
    assert [(s.description, s.min, s.max, s.value) for s in sliders] == [("window", 2, 6, 3), ("n_layers", 1, 6, 4)]
    assert isinstance(update(window=5), Figure) and calls[-1] == (5, 4)
    sliders[1].value = 6                                  # moving a slider redraws
    assert calls[-1] == (3, 6)


def test_float_sliders_and_bad_ranges():
    def last_chunk(chunk, t):
        return fig_prefill_chunks(chunk=chunk, which=12 // chunk - 1)[0]

    panel, update = interactive.slider_panel(last_chunk, chunk=(1, 6, 4), t=(0.1, 2.0, 0.1, 1.0))
    assert isinstance(panel.children[0].children[1], ipywidgets.FloatSlider)
    assert isinstance(update(chunk=3), Figure)
    with pytest.raises(ValueError, match="low, high"):
        interactive.slider_panel(lambda w: None, w=(1, 5))


def test_the_printed_line_does_not_depend_on_ipywidgets(capsys, monkeypatch):
    """With ipywidgets the panel is displayed without a text/plain part (a kernel shows no text
    for it), so the cell's text is the printed line, the same as without ipywidgets."""
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append((obj, kw)))
    draw = lambda window: fig_masks(window=window)[0]                        # noqa: E731
    interactive.show_sliders(draw, window=(1, 5, 3))
    with_widgets = capsys.readouterr().out.replace("\x1b[2K\r", "")   # clear_output outside a kernel
    panel = [obj for obj, kw in shown if kw.get("raw")]
    assert len(panel) == 1 and "application/vnd.jupyter.widget-view+json" in panel[0]
    assert "text/plain" not in panel[0]
    real_import = builtins.__import__

    def no_ipywidgets(name, *args, **kwargs):
        if name.startswith("ipywidgets"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    shown.clear()
    interactive.show_sliders(draw, window=(1, 5, 3))
    assert shown == []
    assert capsys.readouterr().out == with_widgets == interactive.describe(window=(1, 5, 3)) + "\n"
    assert "pip install ipywidgets" in with_widgets


def test_masks_figure_after_layers_is_the_composed_mask():
    _, one = fig_masks()
    _, three = fig_masks(window=2, n_layers=3)
    n = len(one["vanilla"])
    assert (three["sliding window"] == reach_matrix(n, 2, 3)).all()
    # by hand: after 3 layers of W = 2 a query sees itself and 3 positions back
    q, k = np.arange(n)[:, None], np.arange(n)[None, :]
    assert (three["sliding window"] == ((k <= q) & (q - k <= 3))).all()


def test_sampling_figure_is_the_nucleus():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05], dtype=np.float32))
    fig, probs = fig_sampling(logits, lambda i: f"\u2581t{i}", temperature=1.0, top_p=0.75, top=4)
    assert np.allclose(probs, [0.625, 0.375, 0, 0])                   # sampling.py's worked example
    _, hot = fig_sampling(logits, str, temperature=2.0, top_p=1.0, top=4)
    assert np.allclose(hot, softmax_with_temperature(logits, 2.0))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["_t0", "_t1", "_t2", "_t3"]
