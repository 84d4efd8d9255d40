"""Which block first diverges from a reference? A per-layer diff reporter for debugging.

    ours = model.hidden_states(ids)                       # n_layers + 1 arrays [T, D]
    theirs = [h[0].numpy() for h in hf(ids, output_hidden_states=True).hidden_states]
    print(format_report(compare_layers(ours, theirs)))

    stage             max|diff|   rel      ok
    embedding         0           0        yes
    after block 0     2.4e-07     1.1e-07  yes
    ...

The reference arrays come from anywhere (transformers, a saved .npy): this module needs only NumPy.
"""

from __future__ import annotations

import numpy as np


def compare_layers(ours: list, reference: list, rtol: float = 1e-5) -> list[dict]:
    """One row per stage: max |diff|, diff relative to the reference's max |value|, within rtol."""
    if len(ours) != len(reference):
        raise ValueError(f"{len(ours)} stages against {len(reference)} in the reference")
    rows = []
    n = len(ours)
    for i, (a, b) in enumerate(zip(ours, reference)):
        a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
        if a.shape != b.shape:
            raise ValueError(f"stage {i}: shape {a.shape} against {b.shape}")
        diff = float(np.abs(a - b).max())
        rel = diff / max(float(np.abs(b).max()), 1e-30)
        stage = "embedding" if i == 0 else ("final norm" if i == n - 1 else f"after block {i - 1}")
        rows.append({"stage": stage, "max_abs_diff": diff, "rel_diff": rel, "ok": rel < rtol})
    return rows


def first_divergence(rows: list[dict]) -> str | None:
    """The first stage whose difference exceeds the tolerance, or None if all agree."""
    return next((r["stage"] for r in rows if not r["ok"]), None)


def format_report(rows: list[dict]) -> str:
    lines = [f"{'stage':<16}{'max|diff|':>12}{'rel':>12}  ok"]
    for r in rows:
        lines.append(f"{r['stage']:<16}{r['max_abs_diff']:>12.3g}{r['rel_diff']:>12.3g}  "
                     f"{'yes' if r['ok'] else 'NO'}")
    return "\n".join(lines)
