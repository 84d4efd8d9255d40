"""Sliders on the notebooks' figures, where ipywidgets is installed (it is not a dependency).

A notebook draws its figure once with plain matplotlib (the committed output GitHub shows), then
hands the same drawing function to ``show_sliders``, one keyword per slider:

    show_sliders(lambda window: fig_masks(window=window)[0], window=(1, 5, 3))

prints one line naming the sliders (the same line with or without ipywidgets, so the cell's text
output does not depend on it) and, if ipywidgets imports, displays the sliders above the figure.
A range is ``(low, high, start)``, ints for an IntSlider, or ``(low, high, step, start)`` for a
FloatSlider. ipywidgets is imported inside the functions, never at import time.

    panel, update = slider_panel(draw, window=(1, 5, 3))
    update(window=4)          # clears the panel's output and draws draw(window=4) in it
"""

from __future__ import annotations

INSTALL = "pip install ipywidgets for the sliders"


def describe(**ranges) -> str:
    """The one line a slider cell prints: 'sliders: window 1..5 (start 3); ... (pip install ...)'."""
    parts = [f"{name} {r[0]}..{r[1]} (start {r[-1]})" for name, r in ranges.items()]
    return f"sliders: {'; '.join(parts)} ({INSTALL}, if they do not show)"


def _slider(widgets, name: str, r: tuple):
    if len(r) == 3 and all(isinstance(v, int) for v in r):
        low, high, start = r
        return widgets.IntSlider(value=start, min=low, max=high, step=1, description=name,
                                 continuous_update=False)
    if len(r) == 4:
        low, high, step, start = r
        return widgets.FloatSlider(value=start, min=low, max=high, step=step, description=name,
                                   continuous_update=False)
    raise ValueError(f"slider {name!r}: give (low, high, start) ints or (low, high, step, start), not {r!r}")


def slider_panel(draw, **ranges):
    """(panel, update): a VBox of one slider per keyword above an Output holding draw(**values).

    ``draw(**values)`` returns a matplotlib Figure; ``update(**values)`` redraws with those
    values (missing ones keep the sliders' current values) and returns the new Figure. Moving a
    slider calls it. Raises ImportError without ipywidgets.
    """
    import ipywidgets as widgets
    from IPython.display import display

    sliders = {name: _slider(widgets, name, r) for name, r in ranges.items()}
    out = widgets.Output()

    def update(**values):
        values = {name: values.get(name, s.value) for name, s in sliders.items()}
        fig = draw(**values)
        out.clear_output(wait=True)
        with out:
            display(fig)
        return fig

    for s in sliders.values():
        s.observe(lambda change: update(), names="value")
    panel = widgets.VBox([widgets.HBox(list(sliders.values())), out])
    update()
    return panel, update


def show_sliders(draw, **ranges) -> None:
    """Print describe(**ranges), then display the slider panel if ipywidgets is importable.

    The panel is displayed without its text/plain repr (a widget's repr lists its children), so
    the cell's text output is the printed line alone, installed or not.
    """
    print(describe(**ranges))
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return
    from IPython.display import display

    panel, _ = slider_panel(draw, **ranges)
    bundle = panel._repr_mimebundle_()
    display({k: v for k, v in bundle.items() if k != "text/plain"}, raw=True)
