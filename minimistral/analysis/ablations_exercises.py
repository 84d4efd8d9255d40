"""The checkers of notebooks/14_ablations.ipynb's exercises, computed here, out of the notebook's sight.

The expected values come from the measured ablations the package ships
(data/experiments/ablations.json, written by benchmarks/ablations.py) and from
analysis/swa_cost.attended_pairs and receptive_field.theory_reach; a wrong answer gets a hint.

    check(1, None)   ->  'exercise 1: not yet (replace the None placeholder above with your answer)'
    check(2, {...})  ->  'exercise 2: right'
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from ..receptive_field import theory_reach
from ._checking import no_exercise, outcome
from .swa_cost import attended_pairs

ABLATIONS_JSON = Path(__file__).resolve().parent.parent / "data" / "experiments" / "ablations.json"


@cache
def _results() -> dict:
    return json.loads(ABLATIONS_JSON.read_text())


def _runs() -> list[dict]:
    res = _results()
    steps = max(r["steps"] for r in res["runs"])
    return [r for r in res["runs"] if r["steps"] == steps]


def reaches() -> dict:
    """Exercise 1: variant -> k (W - 1) in tokens as the variant runs at inference (None: no window)."""
    out = {}
    for r in _runs():
        c = r["config"]
        out[r["variant"]] = None if c["sliding_window"] is None else theory_reach(c["sliding_window"], c["n_layers"])
    return out


def beyond_noise() -> set:
    """Exercise 2: the variants whose mean held-out loss is further from the recipe's than the larger
    of the two seed spreads (max - min over seeds), the recipe's or the variant's."""
    by = {}
    for r in _runs():
        by.setdefault(r["variant"], []).append(r["heldout_ce"])
    base = by["recipe"]
    out = set()
    for v, vals in by.items():
        if v == "recipe":
            continue
        noise = max(np.ptp(base), np.ptp(vals))
        if abs(np.mean(vals) - np.mean(base)) > noise:
            out.add(v)
    return out


def pairs_ratio(T: int | None = None) -> float:
    """Exercise 3: (query, key) pairs of one training sequence of T tokens, full causal over W = 32."""
    recipe = _results()["recipe"]
    T = T or recipe["seq_len"]
    return attended_pairs(T, None) / attended_pairs(T, recipe["sliding_window"])


# ---- the hints ------------------------------------------------------------------------------------

def _judge_1(answer):
    if not isinstance(answer, dict):
        return "a dict {variant: reach in tokens}, e.g. {'recipe': ..., 'full': None, ...}"
    want = reaches()
    missing = sorted(set(want) - set(answer))
    if missing:
        return f"give every variant of the table; missing: {', '.join(missing)}"
    for v, y in want.items():
        x = answer[v]
        if y is None:
            if x is not None:
                return f"{v} has no window at inference: nothing limits how far back it reads (None)"
            continue
        c = next(r["config"] for r in _runs() if r["variant"] == v)
        if x == c["n_layers"] * c["sliding_window"]:
            return f"{v}: k x W counts the token itself in each hop; one hop moves W - 1 positions back"
        if x != y:
            return f"{v}: k layers (here {c['n_layers']}) times W - 1 (here W = {c['sliding_window']})"
    return None


def _judge_2(answer):
    try:
        x = set(answer)
    except TypeError:
        return "a set of variant names, e.g. {'full', 'mqa'} (an empty set() if none)"
    want = beyond_noise()
    if "recipe" in x:
        return "compare every variant with the recipe; the recipe itself is not in the answer"
    if x == want:
        return None
    extra, missing = sorted(x - want), sorted(want - x)
    if extra:
        return (f"{extra[0]}: its distance from the recipe is within the larger seed spread; "
                f"such a difference could be the seed")
    return f"{missing[0]}: its mean moves further from the recipe's than either seed spread"


def _judge_3(answer):
    try:
        x = float(answer)
    except (TypeError, ValueError):
        return "one number: full causal pairs / sliding-window pairs"
    y = pairs_ratio()
    if abs(x - y) < 1e-3 * y:
        return None
    recipe = _results()["recipe"]
    T, W = recipe["seq_len"], recipe["sliding_window"]
    if abs(x - T / W) < 1e-6:
        return "T / W counts the whole square and a full band; the first W queries read fewer keys"
    if abs(x - 1 / y) < 1e-3 / y:
        return "the other way up: full causal over the window"
    return f"count the pairs of T = {T} tokens: t + 1 keys for query t, or min(t + 1, W) with W = {W}"


def check(n: int, answer) -> str:
    """'exercise n: right', 'not yet' for the None placeholder, or 'wrong' with a hint."""
    judges = {1: _judge_1, 2: _judge_2, 3: _judge_3}
    if n not in judges:
        return no_exercise(n)
    return outcome(n, answer, judges[n])
