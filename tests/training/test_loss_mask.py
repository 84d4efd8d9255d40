"""loss_and_grads(..., loss_mask=): the loss of instruction tuning, only on the answer's tokens.

The reference: torch's cross_entropy with ignore_index=-100 on the logits of transformers'
MistralForCausalLM over the same weights (the labels an instruction-tuning script gives, -100
where the prompt is), and autograd's gradients of it; for real-valued weights, torch's
per-token cross_entropy (reduction='none') weighted and divided by the sum of the weights.
"""

import numpy as np
import pytest
from test_backward import CONFIGS, hf_and_ours, mismatches, native_grads, tokens_for

from minimistral import MinimistralError
from minimistral.training import backward
from minimistral.training.backward import loss_and_grads


def torch_masked_loss_and_grads(hf, tokens, mask):
    """torch's masked cross-entropy of hf's logits for tokens [B, T], and its gradients by native
    name (wq/wk rows un-permuted as in test_backward.torch_loss_and_grads)."""
    import torch
    import torch.nn.functional as F
    ids = torch.tensor(np.atleast_2d(tokens))
    m = torch.tensor(np.atleast_2d(mask), dtype=torch.float32)
    hf.zero_grad()
    logits = hf(input_ids=ids).logits[:, :-1]                                # [B, T-1, V]
    targets = ids[:, 1:]
    V = logits.shape[-1]
    if set(np.unique(mask).tolist()) <= {0, 1}:
        labels = targets.masked_fill(m[:, 1:] == 0, -100)                    # -100: not trained on
        loss = F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1), ignore_index=-100)
    else:
        ce = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), reduction="none")
        w = m[:, 1:].reshape(-1)
        loss = (w * ce).sum() / w.sum()
    loss.backward()
    return float(loss.detach()), native_grads(hf)


def answer_mask(shape, seed=2):
    """A mask like instruction tuning's: per row, a prompt (0) then an answer (1), then padding (0)."""
    rng = np.random.default_rng(seed)
    B, T = shape
    mask = np.zeros(shape, dtype=np.int64)
    for b in range(B):
        start = int(rng.integers(2, T - 4))
        mask[b, start:start + int(rng.integers(2, T - start))] = 1
    return mask


@pytest.mark.parametrize("name, shape", [("gqa_window", (3, 17)), ("mqa_window", (2, 13)), ("mha_full", (2, 11))])
def test_masked_loss_and_gradients_equal_torch_ignore_index(name, shape):
    config = CONFIGS[name]
    hf, model = hf_and_ours(config, seed=11)
    tokens = tokens_for(config, shape, seed=12)
    mask = answer_mask(shape)
    loss, grads = loss_and_grads(model, tokens, loss_mask=mask)
    ref_loss, ref = torch_masked_loss_and_grads(hf, tokens, mask)
    assert abs(loss - ref_loss) <= 1e-5 * ref_loss
    assert mismatches(grads, ref) == {}
    # the unmasked loss differs: the mask really selects
    assert abs(loss_and_grads(model, tokens)[0] - loss) > 1e-3


def test_real_valued_weights_equal_torch_weighted_mean(monkeypatch):
    """Weights, not only 0/1: sum(w ce) / sum(w); V = 32000 in chunks of 5 rows."""
    monkeypatch.setattr(backward, "CE_CHUNK_BYTES", 5 * 4 * 32000)
    config = CONFIGS["real_vocab"]
    hf, model = hf_and_ours(config, seed=13)
    tokens = tokens_for(config, (2, 12), seed=14)
    weights = np.random.default_rng(15).choice([0.0, 0.5, 1.0, 2.5], size=(2, 12))
    loss, grads = loss_and_grads(model, tokens, loss_mask=weights)
    ref_loss, ref = torch_masked_loss_and_grads(hf, tokens, weights)
    assert abs(loss - ref_loss) <= 1e-5 * ref_loss
    assert mismatches(grads, ref) == {}


def test_a_mask_of_ones_is_the_plain_mean():
    config = CONFIGS["gqa_window"]
    _, model = hf_and_ours(config, seed=3)
    tokens = tokens_for(config, (2, 9), seed=4)
    plain, g_plain = loss_and_grads(model, tokens)
    ones, g_ones = loss_and_grads(model, tokens, loss_mask=np.ones((2, 9)))
    assert ones == pytest.approx(plain, rel=1e-6)
    assert mismatches(g_ones, g_plain, rtol=1e-5) == {}


def test_the_first_column_predicts_nothing():
    config = CONFIGS["gqa_window"]
    _, model = hf_and_ours(config, seed=3)
    tokens = tokens_for(config, (2, 9), seed=4)
    mask = answer_mask((2, 9), seed=5)
    other = mask.copy()
    other[:, 0] = 7
    assert loss_and_grads(model, tokens, loss_mask=mask)[0] == loss_and_grads(model, tokens, loss_mask=other)[0]


@pytest.mark.parametrize("mask, words", [
    (np.zeros((2, 9)), "no token"),
    (np.eye(1, 9, 0).repeat(2, 0), "no token"),              # only column 0: predicts nothing
    (np.ones((2, 8)), "shape"),
    (-np.ones((2, 9)), ">= 0"),
    (np.full((2, 9), np.nan), ">= 0"),
    ("all", "array of numbers"),
])
def test_bad_masks_are_one_sentence(mask, words):
    config = CONFIGS["gqa_window"]
    _, model = hf_and_ours(config, seed=3)
    tokens = tokens_for(config, (2, 9), seed=4)
    with pytest.raises(MinimistralError, match=words):
        loss_and_grads(model, tokens, loss_mask=mask)
