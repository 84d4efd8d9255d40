"""The reach experiment in miniature, end to end: train, measure, write JSON, draw the figure.

The expectation comes from the receptive-field theory (k (W - 1)), not from the code under test:
with W = 4 and one layer a model can read 3 positions back, so copying from 1 back is learnable
and copying from 5 back cannot beat chance (the answer is independent of every visible token).
"""

import importlib.util

import numpy as np
from conftest import ROOT

from minimistral.figures.experiments import fig_reach_measured
from minimistral.training.reach import copy_sequences

REPO = ROOT


def load_script():
    spec = importlib.util.spec_from_file_location("reach_experiment", REPO / "benchmarks" / "reach_experiment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_copy_sequences_repeat_with_period_delta_plus_one():
    s = copy_sequences(np.random.default_rng(0), 3, 11, delta=2, vocab=16)     # period 3
    assert s.shape == (3, 11) and s.dtype == np.int64
    assert (s[:, 3:] == s[:, :-3]).all()                                        # token t = token t - 3
    assert (s >= 0).all() and (s < 16).all()


def test_miniature_reach_run_end_to_end(tmp_path):
    out = tmp_path / "reach.json"
    res = load_script().main(["--processes", "1", "--configs", "4:1", "--deltas", "1,5", "--steps", "30",
                              "--seq-len", "16", "--batch", "8", "--seeds", "1", "--out", str(out)])
    acc = {r["delta"]: r["accuracy"] for r in res["rows"]}
    assert res["rows"][0]["theory_reach"] == 3
    assert acc[1] > 0.9                      # within reach: learnt in 30 steps
    assert acc[5] < 0.2                      # beyond reach: chance is 1/16
    fig, curves = fig_reach_measured(out)
    fig.savefig(tmp_path / "reach_measured.png")
    assert (tmp_path / "reach_measured.png").stat().st_size > 10_000
    assert list(curves) == [(4, 1)]
