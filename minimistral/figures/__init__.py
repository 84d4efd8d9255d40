"""Every figure minimistral draws, one registry in the order of the paper, one ``write_all``.

Each drawing function returns ``(figure, data)``: a matplotlib Figure (built without pyplot, so
no display is needed and a notebook's backend is left alone) and the numbers it draws, so a
test can hold the drawing against the paper. The modules, by what they draw:

    paper.py        Fig. 1: masks, receptive field; the reach k x (W - 1) layer by layer
    memory.py       GQA heads, KV-cache bytes, Fig. 2 rolling buffer, Fig. 3 pre-fill chunks,
                    one forward pass of the shipped model
    attention.py    the shipped model's attention maps: heads, GQA groups, head roles, <s>
    names.py        names carried past the window: top-1 by distance, one name's relay and its cut;
                    the same relay on a copy-task model trained on the spot (training/reach.py)
    experiments.py  measured SWA cost, measured reach, the recipe's ablations (results in data/experiments/)
    training.py     the shipped model's training curve (its train_log.jsonl)

    write_all("figures")   ->  [figures/fig1_masks.png, ...]   (what `minimistral figures` does)

Every figure is drawn from data inside the package, so an installed minimistral draws all of
them; and the same matplotlib draws the same bytes (no date or version in the PNG).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MinimistralError
from ..guards.textio import show
from . import attention, experiments, memory, paper, training
from .names import fig_names_by_distance, fig_relay, fig_relay_copy_task

DPI = 100


def _on_shipped_model(make, **kwargs):
    """A registry entry that draws an attention figure on the shipped model's held-out story."""
    def draw():
        model, ids, hero = attention.default_inputs()
        if make is attention.fig_head_roles:
            kwargs["subject"] = hero
        if make is attention.fig_bos_leaves_window:
            return make(model, ids[:12], **kwargs)
        if make is attention.fig_attention_heads:
            return make(model, ids[:40])
        return make(model, ids, **kwargs)
    return draw


def _on_shipped(make):
    """A registry entry that draws a figure of the shipped model as a whole."""
    def draw():
        from .. import load_default

        return make(load_default())
    return draw


REGISTRY = {
    "fig1_masks": paper.fig_masks,
    "fig1_receptive_field": paper.fig_receptive_field,
    "reach_vs_layer": paper.fig_reach_vs_layer,
    "gqa_heads": memory.fig_gqa_heads,
    "kv_cache_bytes": memory.fig_kv_cache_bytes,
    "fig2_rolling_buffer": memory.fig_rolling_buffer,
    "rolling_buffer_memory": memory.fig_rolling_buffer_memory,
    "fig3_prefill_chunks": memory.fig_prefill_chunks,
    "forward_pass": memory.fig_forward_pass,
    "attention_heads": _on_shipped_model(attention.fig_attention_heads),
    "attention_gqa_groups": _on_shipped_model(attention.fig_gqa_sharing),
    "attention_head_roles": _on_shipped_model(attention.fig_head_roles),
    "attention_bos_leaves_window": _on_shipped_model(attention.fig_bos_leaves_window, max_tokens=100),
    "names_by_distance": _on_shipped(fig_names_by_distance),
    "name_relay": _on_shipped(fig_relay),
    "relay_copy_task": fig_relay_copy_task,
    "swa_cost": experiments.fig_swa_cost,
    "reach_measured": experiments.fig_reach_measured,
    "ablations": experiments.fig_ablations,
    "training_loss": training.fig_training_loss,
}


def write_all(out_dir="figures", names=None) -> list[Path]:
    """Draw every figure (or those in ``names``) as out_dir/<name>.png; returns the paths written."""
    unknown = sorted(set(names or ()) - set(REGISTRY))
    if unknown:
        raise MinimistralError(f"no figure named {', '.join(map(repr, unknown))}; the figures are "
                               f"{', '.join(REGISTRY)}.")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MinimistralError(f"cannot create the figures directory {show(out)} ({e.strerror}); "
                               f"pass another one with --out.") from None
    written = []
    for name, make in REGISTRY.items():
        if names is not None and name not in names:
            continue
        fig, _ = make()
        path = out / f"{name}.png"
        try:
            fig.savefig(path, dpi=DPI, metadata={"Software": None})
        except OSError as e:
            raise MinimistralError(f"cannot write {show(path)} ({e.strerror or e}); pass another "
                                   f"directory with --out.") from None
        written.append(path)
    return written
