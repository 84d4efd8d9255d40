"""Head ablation against transformers: removing head h of layer l (its attention output zeroed
before the output projection) must give the logits of transformers' MistralForCausalLM whose
``o_proj`` weight has input columns h Hd .. (h + 1) Hd - 1 set to zero, an independent computation
(the weights edited, not the activations). Without torch: a whole GQA group removed equals the
model whose value rows of that kv head are zero.
"""

import copy

import numpy as np
import pytest
from conftest import HAVE_TORCH, requires_transformers
from small_mistral import ARGS, rel, small_model

import minimistral
from minimistral import MinimistralError
from minimistral.analysis.ablation import ablated_logits, head_ablation
from minimistral.checkpoints.weights import Weights
from minimistral.model import Mistral


@pytest.fixture(scope="module")
def hf_pair(tmp_path_factory):
    """(transformers model, our model loaded from its float32 save, tokens): GQA 8 heads on 2 kv heads."""
    if not HAVE_TORCH:
        pytest.skip("torch + transformers not installed")
    from reference import hf_models as hf

    cfg = hf.CONFIGS["gqa_window"]
    assert cfg["num_attention_heads"] > cfg["num_key_value_heads"] > 1
    ref = hf.make_hf_model(cfg, seed=10)
    directory = tmp_path_factory.mktemp("gqa")
    hf.save_hf(ref, directory)
    tokens = np.random.default_rng(11).integers(0, cfg["vocab_size"], 12)   # longer than the window (5)
    return ref, minimistral.load(directory), tokens


def hf_logits_without(ref, tokens, heads):
    """transformers' logits with o_proj's input columns of each (layer, head) zeroed in a copy."""
    import torch

    model = copy.deepcopy(ref)
    hd = model.config.hidden_size // model.config.num_attention_heads
    with torch.no_grad():
        for layer, head in heads:
            model.model.layers[layer].self_attn.o_proj.weight[:, head * hd:(head + 1) * hd] = 0
        return model(torch.tensor([tokens.tolist()])).logits[0].numpy()


@requires_transformers
@pytest.mark.parametrize("heads", [[], [(0, 3)], [(2, 7)], [(1, 0), (1, 1), (1, 2), (1, 3)],
                                   [(0, 7), (2, 2), (2, 5)]],
                         ids=["none", "layer0-head3", "layer2-head7", "layer1-kv-group0", "three"])
def test_ablated_logits_equal_transformers_with_o_proj_columns_zeroed(hf_pair, heads):
    ref, model, tokens = hf_pair
    theirs = hf_logits_without(ref, tokens, heads)
    ours = ablated_logits(model, tokens, heads)
    assert rel(ours, theirs) < 1e-5, rel(ours, theirs)
    assert (ours.argmax(-1) == theirs.argmax(-1)).all()
    if heads:                                                # the ablation changes something
        assert rel(ours, hf_logits_without(ref, tokens, [])) > 1e-3


@requires_transformers
def test_head_ablation_effects_equal_transformers(hf_pair):
    import torch

    ref, model, tokens = hf_pair
    effects = head_ablation(model, tokens)
    L, H = model.args.n_layers, model.args.n_heads
    assert effects.delta.shape == (L, H, len(tokens) - 1) and effects.delta.dtype == np.float32
    assert effects.targets.tolist() == tokens[1:].tolist()

    def logp(logits):
        lp = torch.log_softmax(torch.tensor(logits[:-1], dtype=torch.float64), -1).numpy()
        return lp[np.arange(len(tokens) - 1), tokens[1:]]

    base = logp(hf_logits_without(ref, tokens, []))
    np.testing.assert_allclose(effects.base, base, rtol=1e-4, atol=1e-4)
    for layer in range(L):
        for head in range(H):
            expected = logp(hf_logits_without(ref, tokens, [(layer, head)])) - base
            np.testing.assert_allclose(effects.delta[layer, head], expected, rtol=1e-3, atol=2e-4,
                                       err_msg=f"layer {layer} head {head}")


def test_a_whole_gqa_group_removed_is_its_kv_head_with_zero_values():
    """Query heads 0 and 1 read kv head 0 (G = 2): removing both zeroes everything that kv head's
    values bring, so it equals the model whose wv rows of kv head 0 are zero."""
    model = small_model(4)
    tokens = np.random.default_rng(5).integers(0, ARGS.vocab_size, 10)
    arrays = {name: t.float32().copy() for name, t in model.weights.tensors.items()}
    arrays["layers.1.attention.wv.weight"][:ARGS.head_dim] = 0                   # kv head 0's values
    no_values = Mistral(ARGS, Weights.from_arrays(arrays)).forward(tokens)
    np.testing.assert_allclose(ablated_logits(model, tokens, [(1, 0), (1, 1)]), no_values, rtol=1e-5, atol=1e-5)
    assert rel(ablated_logits(model, tokens, [(1, 0)]), no_values) > 1e-3       # one head is not the group


def test_ablation_leaves_the_model_alone_and_no_heads_change_nothing():
    model = small_model(6)
    tokens = np.random.default_rng(7).integers(0, ARGS.vocab_size, 9)
    before = model.forward(tokens)
    np.testing.assert_array_equal(ablated_logits(model, tokens, []), before)
    ablated_logits(model, tokens, [(0, 0), (2, 3)])
    np.testing.assert_array_equal(model.forward(tokens), before)


def test_head_ablation_at_chosen_positions_and_targets():
    model = small_model(8)
    tokens = np.random.default_rng(9).integers(0, ARGS.vocab_size, 9)
    every = head_ablation(model, tokens)
    some = head_ablation(model, tokens, positions=[2, 5])
    np.testing.assert_allclose(some.delta, every.delta[:, :, [2, 5]], rtol=1e-6, atol=1e-6)
    other = head_ablation(model, tokens, positions=[8], targets=[3])
    assert other.targets.tolist() == [3] and other.delta.shape == (3, 4, 1)


@pytest.mark.parametrize("heads, match", [([(3, 0)], "layer"), ([(0, 4)], "head"), ([(0,)], "pair"),
                                          ("0,1", "list")])
def test_bad_heads_are_one_sentence(heads, match):
    with pytest.raises(MinimistralError, match=match):
        ablated_logits(small_model(), [1, 2, 3], heads)
