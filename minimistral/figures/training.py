"""The training curve of the shipped model, redrawn from the log its training run wrote
(data/story-mistral/train_log.jsonl): training loss per step and smoothed, held-out loss.
Same contract as the other figure modules: returns (figure, data), no pyplot.

    figure, rows = fig_training_loss()        rows: the log's JSON lines, one per step
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..training.train import read_log

UNIFORM = math.log(32000)          # cross-entropy of a uniform guess over the vocabulary


def shipped_log() -> Path:
    """The training log that ships next to the default model."""
    from .. import DEFAULT_MODEL

    return DEFAULT_MODEL / "train_log.jsonl"


def run_title(log_path: Path) -> str:
    """'minimistral train --seed 0: 6 layers, D=128, GQA 8/2, W=32, 6000 steps of 8 x 512 tokens',
    from the train_config.json beside the log (the plain title if there is none)."""
    import json

    try:
        c = json.loads((Path(log_path).parent / "train_config.json").read_text())
        return (f"minimistral train --seed {c['seed']}: {c['n_layers']} layers, D={c['dim']}, "
                f"GQA {c['n_heads']}/{c['n_kv_heads']}, W={c['sliding_window']}, {c['steps']} steps "
                f"of {c['batch']} x {c['seq_len']} tokens")
    except (OSError, ValueError, KeyError, TypeError):
        return "Training a tiny Mistral in NumPy"


def fig_training_loss(log_path=None, title: str | None = None):
    """Training loss (each step and a moving mean) and held-out loss against the step.

    Left: all steps, with the uniform guess's ln 32000 for scale. Right: the second half, zoomed.
    """
    log_path = shipped_log() if log_path is None else log_path
    rows = read_log(log_path)
    steps = np.array([r["step"] for r in rows])
    loss = np.array([r["loss"] for r in rows], dtype=np.float64)
    held = [(r["step"], r["heldout_loss"]) for r in rows if r.get("heldout_loss") is not None]
    k = max(1, len(rows) // 40)
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")                     # moving mean
    fig = Figure(figsize=(10, 4), dpi=120, layout="constrained")
    for ax, zoom in zip(fig.subplots(1, 2), (False, True)):
        ax.plot(steps, loss, color="tab:blue", alpha=0.25, lw=0.8, label="training loss (each step)")
        ax.plot(steps[k - 1:], smooth, color="tab:blue", lw=1.8, label=f"training loss ({k}-step mean)")
        if held:
            ax.plot(*zip(*held), "o-", color="tab:orange", lw=1.5, ms=3.5, label="held-out loss")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if zoom:                            # the second half, where the curve flattens
            half = steps[-1] // 2
            tail = [v for s, v in held if s >= half] + list(loss[steps >= half])
            ax.set_xlim(half, steps[-1])
            ax.set_ylim(min(tail) * 0.95, max(tail) * 1.05)
            ax.set_title("second half, zoomed", fontsize=10)
        else:
            ax.axhline(UNIFORM, color="grey", ls=":", lw=1)
            ax.text(steps[-1], UNIFORM, "uniform: ln 32000 = 10.37", ha="right", va="bottom",
                    fontsize=8, color="grey")
            ax.set_ylim(0, 11)
            ax.set_ylabel("cross-entropy (nats / token)")
            ax.set_title("all steps", fontsize=10)
            ax.legend(fontsize=8)
    fig.suptitle(title or run_title(log_path))
    return fig, rows
