"""Notebook 14's checkers (analysis/ablations_exercises.py) and the results they read: the shipped
ablations hold every variant at two seeds and one budget; answers worked out here from the raw
JSON pass; the usual mistakes get a hint that does not hold the answer."""

import json

import numpy as np

from minimistral.analysis.ablations_exercises import ABLATIONS_JSON, check
from minimistral.figures.experiments import fig_ablations

VARIANTS = {"recipe", "full", "w16", "mqa", "mha", "layers4", "layers8"}


def runs():
    res = json.loads(ABLATIONS_JSON.read_text())
    steps = max(r["steps"] for r in res["runs"])
    return [r for r in res["runs"] if r["steps"] == steps]


def test_the_shipped_results_hold_every_variant_at_two_seeds_and_one_budget():
    rs = runs()
    assert {(r["variant"], r["seed"]) for r in rs} == {(v, s) for v in VARIANTS for s in (0, 1)}
    assert len({r["tokens"] for r in rs}) == 1                       # an equal token budget
    by = {r["variant"]: r["config"] for r in rs}
    assert by["full"]["sliding_window"] is None and by["w16"]["sliding_window"] == 16
    assert [by[v]["n_kv_heads"] for v in ("mqa", "recipe", "mha")] == [1, 2, 8]
    assert [by[v]["n_layers"] for v in ("layers4", "recipe", "layers8")] == [4, 6, 8]
    for r in rs:                                                     # the cache: 2 (K, V) x L x K x Hd x 4 bytes
        c = r["config"]
        assert r["kv_bytes_per_token"] == 2 * c["n_layers"] * c["n_kv_heads"] * c["head_dim"] * 4
        assert np.isfinite(r["heldout_ce"]) and r["heldout_ce"] < r["heldout_unigram_ce"]


def test_the_figure_draws_every_variant():
    fig, data = fig_ablations()
    assert {v for g in data.values() for v in g} == VARIANTS
    assert all(len(vals) == 2 for g in data.values() for v in g.values() for vals in v.values())


def right_answers():
    rs = runs()
    reach = {r["variant"]: None if r["config"]["sliding_window"] is None
             else r["config"]["n_layers"] * (r["config"]["sliding_window"] - 1) for r in rs}
    held = {}
    for r in rs:
        held.setdefault(r["variant"], []).append(r["heldout_ce"])
    base = held.pop("recipe")
    beyond = {v for v, x in held.items() if abs(np.mean(x) - np.mean(base)) > max(np.ptp(x), np.ptp(base))}
    return reach, beyond, (512 * 513 / 2) / (32 * 33 / 2 + 480 * 32)


def test_right_answers_pass():
    reach, beyond, ratio = right_answers()
    assert reach["recipe"] == 186 and reach["full"] is None
    assert check(1, reach) == "exercise 1: right"
    assert check(2, beyond) == "exercise 2: right"
    assert check(3, ratio) == "exercise 3: right"
    assert check(3, round(ratio, 4)) == "exercise 3: right"


def test_usual_mistakes_get_a_hint_without_the_answer():
    reach, beyond, ratio = right_answers()
    configs = {r["variant"]: r["config"] for r in runs()}
    times_w = {v: None if c["sliding_window"] is None else c["n_layers"] * c["sliding_window"]   # k W, not k (W - 1)
               for v, c in configs.items()}
    hint = check(1, times_w)
    assert "W - 1" in hint and "186" not in hint
    assert "missing" in check(1, {"recipe": 186})
    assert "None" in check(1, {**reach, "full": 512})
    wrong_set = beyond ^ {"mha"}
    assert check(2, wrong_set).startswith("exercise 2: wrong")
    assert "recipe" in check(2, beyond | {"recipe"})
    assert "first W queries" in check(3, 512 / 32)
    assert "other way" in check(3, 1 / ratio)
    assert check(3, None).startswith("exercise 3: not yet")
    assert "a set" in check(2, 5)
