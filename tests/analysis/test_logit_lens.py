"""The logit lens against transformers' MistralForCausalLM, and its reading against plain NumPy.

The reference lens: transformers' ``output_hidden_states=True`` gives the residual stream after
the embedding and after layers 0..L-2 un-normed, and last the model's final norm already
applied; the residual after the last layer, un-normed, is caught with a forward hook on it. So
the lens of stage s < L is ``lm_head(norm(hidden_states[s]))`` and that of stage L is
``lm_head(hidden_states[L])`` (normed once, not twice), which is the model's own logits.
"""

import numpy as np
import pytest
from conftest import requires_transformers
from small_mistral import ARGS, rel, small_model

import minimistral
from minimistral import MinimistralError
from minimistral.analysis.logit_lens import (
    lens_logits,
    log_softmax,
    logit_lens,
    residual_stream,
    stage_names,
)


@requires_transformers
@pytest.mark.parametrize("name", ["gqa_window", "mqa_window", "mha_full"])
def test_lens_equals_transformers_lm_head_of_the_normed_hidden_states(tmp_path, name):
    import torch
    from reference import hf_models as hf

    cfg = hf.CONFIGS[name]
    ref_model = hf.make_hf_model(cfg, seed=8)
    hf.save_hf(ref_model, tmp_path)
    tokens = np.random.default_rng(9).integers(0, cfg["vocab_size"], 13)     # longer than the windows
    caught = {}
    hook = ref_model.model.layers[-1].register_forward_hook(
        lambda module, inputs, output: caught.__setitem__("h", output[0] if isinstance(output, tuple) else output))
    with torch.no_grad():
        out = ref_model(torch.tensor([tokens.tolist()]), output_hidden_states=True)
        hs = out.hidden_states                                                # L + 1 of [1, T, D]
        L = cfg["num_hidden_layers"]
        assert len(hs) == L + 1
        assert torch.allclose(ref_model.model.norm(caught["h"]), hs[L])        # the last one is normed
        ref_residual = [h[0].numpy() for h in hs[:L]] + [caught["h"][0].numpy()]
        ref_lens = [ref_model.lm_head(ref_model.model.norm(h))[0].numpy() for h in hs[:L]]
        ref_lens.append(ref_model.lm_head(hs[L])[0].numpy())                  # normed already
        normed_twice = ref_model.lm_head(ref_model.model.norm(hs[L]))[0].numpy()
    hook.remove()
    np.testing.assert_array_equal(ref_lens[-1], out.logits[0].numpy())
    assert rel(normed_twice, ref_lens[-1]) > 1e-3             # norming the last one again would show

    model = minimistral.load(tmp_path)
    residual = residual_stream(model, tokens)                                 # [L + 1, T, D]
    assert residual.shape == (L + 1, len(tokens), cfg["hidden_size"]) and residual.dtype == np.float32
    for s in range(L + 1):
        assert rel(residual[s], ref_residual[s]) < 1e-5, (s, rel(residual[s], ref_residual[s]))
    ours = lens_logits(model, residual)                                        # [L + 1, T, V]
    assert ours.dtype == np.float32
    for s in range(L + 1):
        assert rel(ours[s], ref_lens[s]) < 1e-5, (stage_names(L)[s], rel(ours[s], ref_lens[s]))
        assert (ours[s].argmax(-1) == ref_lens[s].argmax(-1)).all()

    # the reading: top tokens and the next token's probability and rank, from torch's softmax
    reading = logit_lens(model, tokens[:-1], k=3, target=tokens[1:])
    for s in range(L + 1):
        p = torch.softmax(torch.tensor(ref_lens[s][:-1], dtype=torch.float64), dim=-1).numpy()
        order = np.argsort(-p, axis=-1, kind="stable")
        np.testing.assert_array_equal(reading.top_ids[s], order[:, :3])
        np.testing.assert_allclose(reading.top_probs[s], np.take_along_axis(p, order[:, :3], -1), rtol=1e-4,
                                   atol=1e-6)
        target_p = p[np.arange(len(tokens) - 1), tokens[1:]]
        np.testing.assert_allclose(reading.target_probs[s], target_p, rtol=1e-4, atol=1e-7)
        expected_rank = [1 + list(order[t]).index(tokens[t + 1]) for t in range(len(tokens) - 1)]
        assert reading.target_ranks[s].tolist() == expected_rank


def test_the_last_stage_is_the_models_output_and_earlier_ones_are_its_hidden_states():
    model = small_model()
    tokens = np.random.default_rng(1).integers(0, ARGS.vocab_size, 11)
    residual = residual_stream(model, tokens)
    hidden = model.hidden_states(tokens)                     # before each block, then normed output
    for s in range(ARGS.n_layers):
        np.testing.assert_array_equal(residual[s], hidden[s])
    np.testing.assert_allclose(lens_logits(model, residual)[-1], model.forward(tokens), rtol=1e-6, atol=1e-6)


def test_the_reading_by_hand_for_one_position():
    """Position 5, every stage: the norm, the output matrix and the softmax written out in float64."""
    model = small_model(2)
    tokens = np.random.default_rng(3).integers(0, ARGS.vocab_size, 9)
    reading = logit_lens(model, tokens, k=4, target=int(tokens[6]))
    residual = residual_stream(model, tokens)
    gain = model.weights.vector("norm.weight").astype(np.float64)
    out = model.weights.tensors["output.weight"].float32().astype(np.float64)       # [V, D]
    for s in range(ARGS.n_layers + 1):
        h = residual[s, 5].astype(np.float64)
        logits = out @ (h / np.sqrt(np.mean(h * h) + ARGS.norm_eps) * gain)
        p = np.exp(logits - logits.max())
        p /= p.sum()
        assert reading.top_ids[s, 5].tolist() == np.argsort(-p, kind="stable")[:4].tolist()
        np.testing.assert_allclose(reading.top_probs[s, 5], np.sort(p)[::-1][:4], rtol=1e-5)
        np.testing.assert_allclose(reading.target_probs[s, 5], p[tokens[6]], rtol=1e-5)
        assert reading.target_ranks[s, 5] == 1 + int((p > p[tokens[6]]).sum())
    assert (reading.target_ranks[reading.top_ids[..., 0] == tokens[6]] == 1).all()


def test_log_softmax_survives_huge_logits():
    z = np.array([[1000.0, 999.0, -1000.0]], dtype=np.float32)
    out = log_softmax(z)
    assert out.dtype == np.float32 and np.isfinite(out).all()
    np.testing.assert_allclose(np.exp(out).sum(), 1, rtol=1e-6)


def test_bad_arguments_are_one_sentence():
    model = small_model()
    with pytest.raises(MinimistralError, match="one per position"):
        logit_lens(model, [1, 2, 3], target=[1, 2])
    with pytest.raises(MinimistralError, match="target"):
        logit_lens(model, [1, 2, 3], target=ARGS.vocab_size)
    with pytest.raises(MinimistralError, match="k must"):
        logit_lens(model, [1, 2, 3], k=0)
    with pytest.raises(MinimistralError, match="residuals"):
        lens_logits(model, np.zeros((3, 5)))
