"""Live cross-check: our logits against transformers' MistralForCausalLM (eager, float32).

Runs whenever torch and transformers are installed (.ci/run installs them).
Tolerance from the core issue: max |diff| / max |logit| < 1e-5, argmax equal everywhere.
"""

import numpy as np
import pytest
from conftest import requires_transformers

import minimistral
from minimistral.analysis.debug import compare_layers, first_divergence

pytestmark = requires_transformers


def assert_close_logits(ours, ref):
    rel = np.abs(ours - ref).max() / np.abs(ref).max()
    assert rel < 1e-5, f"relative logit error {rel:.3g}"
    assert (ours.argmax(-1) == ref.argmax(-1)).all()


@pytest.fixture(scope="module")
def hf():
    from reference import hf_models
    return hf_models


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", ["gqa_window", "mqa_window", "mha_full", "head_dim_explicit"])
def test_logits_match_transformers(hf, tmp_path, name, dtype):
    cfg = hf.CONFIGS[name]
    hf.save_hf(hf.make_hf_model(cfg, seed=1), tmp_path, dtype)
    tokens = np.random.default_rng(2).integers(0, cfg["vocab_size"], 19)  # longer than every window
    model = minimistral.load(tmp_path)
    if cfg.get("sliding_window"):
        assert model.args.sliding_window < len(tokens)
    assert_close_logits(model.forward(tokens), hf.reference_logits(tmp_path, tokens))


def test_sharded_checkpoint_matches_transformers(hf, tmp_path):
    cfg = hf.CONFIGS["gqa_window"]
    hf.save_hf(hf.make_hf_model(cfg, seed=3), tmp_path, "bfloat16", max_shard_size="60KB")
    shards = sorted(tmp_path.glob("model-*-of-*.safetensors"))
    assert len(shards) > 1 and (tmp_path / "model.safetensors.index.json").exists()
    tokens = np.arange(0, cfg["vocab_size"], 13)
    assert_close_logits(minimistral.load(tmp_path).forward(tokens), hf.reference_logits(tmp_path, tokens))


def test_every_layer_matches_transformers(hf, tmp_path):
    cfg = hf.CONFIGS["gqa_window"]
    hf.save_hf(hf.make_hf_model(cfg, seed=4), tmp_path)
    tokens = np.random.default_rng(5).integers(0, cfg["vocab_size"], 11)
    rows = compare_layers(minimistral.load(tmp_path).hidden_states(tokens),
                          hf.reference_hidden_states(tmp_path, tokens))
    assert len(rows) == cfg["num_hidden_layers"] + 1
    assert first_divergence(rows) is None, rows


def test_layer_report_finds_a_broken_block(hf, tmp_path):
    """The debugging helper must point at the block whose weights were tampered with."""
    cfg = hf.CONFIGS["gqa_window"]
    hf.save_hf(hf.make_hf_model(cfg, seed=4), tmp_path)
    tokens = np.arange(9)
    reference = hf.reference_hidden_states(tmp_path, tokens)
    model = minimistral.load(tmp_path)
    t = model.weights.tensors["layers.1.feed_forward.w2.weight"]
    model.weights.tensors["layers.1.feed_forward.w2.weight"] = type(t)(
        t.name, "F32", t.shape, t.float32() * 1.01, t.path)
    assert first_divergence(compare_layers(model.hidden_states(tokens), reference)) == "after block 1"
