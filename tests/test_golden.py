"""Golden fixture: logits transformers computed for a tiny bf16 checkpoint it saved (no torch needed)."""

from pathlib import Path

import numpy as np

import minimistral

FIXTURE = Path(__file__).parent / "fixtures" / "tiny_hf_bf16"


def test_logits_equal_transformers_golden():
    tokens = np.load(FIXTURE / "tokens.npy")
    expected = np.load(FIXTURE / "logits.npy")
    model = minimistral.load(FIXTURE / "model")
    assert model.args.sliding_window < len(tokens) and model.args.n_kv_heads < model.args.n_heads
    logits = model.forward(tokens)
    assert logits.dtype == np.float32 and logits.shape == expected.shape
    assert np.abs(logits - expected).max() / np.abs(expected).max() < 1e-5
    assert (logits.argmax(-1) == expected.argmax(-1)).all()


def test_weights_stay_bf16_and_memory_mapped():
    model = minimistral.load(FIXTURE / "model")
    wq = model.weights.tensors["layers.0.attention.wq.weight"]
    assert wq.dtype == "BF16" and wq.raw.dtype == np.uint16
    assert not wq.raw.flags.writeable            # a read-only view of the mapped file
    assert not wq.raw.flags.owndata              # no copy was made
