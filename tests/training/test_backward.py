"""The backward pass against outside references.

* torch autograd through transformers' MistralForCausalLM (float32, eager attention) on the same
  weights and tokens: every parameter's gradient to <= 1e-4 relative (skipped without torch);
* central finite differences of the loss computed by minimistral's *inference* forward
  (Mistral.forward) and a log-softmax written here, which share no code with backward.py's
  training forward beyond the primitives (runs without torch);
* mutations: dropping one term of one gradient must make the torch comparison fail.
"""

import numpy as np
import pytest

from minimistral import MinimistralError
from minimistral.checkpoints.names import expected_shapes
from minimistral.checkpoints.weights import StoredTensor, Weights
from minimistral.config import ModelArgs
from minimistral.fast.linear import float32_to_bf16
from minimistral.model import Mistral
from minimistral.training import backward
from minimistral.training.backward import loss_and_grads
from minimistral.training.init import random_weights

# Tiny MistralConfig fields; windows shorter than the test sequences so the window matters.
CONFIGS = {
    "gqa_window": dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=8,
                       num_key_value_heads=2, sliding_window=5, vocab_size=64),
    "mqa_window": dict(hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=1, sliding_window=3, vocab_size=48),
    "mha_full": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=4, sliding_window=None, vocab_size=40, rope_theta=1e6),
    "real_vocab": dict(hidden_size=32, intermediate_size=48, num_hidden_layers=1, num_attention_heads=4,
                       num_key_value_heads=2, head_dim=8, sliding_window=4, vocab_size=32000),
}
RTOL = 1e-4


# ---- the torch reference (test-only) -----------------------------------------------------------

def hf_and_ours(config: dict, seed: int = 0):
    """A random transformers MistralForCausalLM and a minimistral Mistral over the same weights."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from reference.hf_models import make_hf_model
    from reference.native_layout import native_state_dict, params_json

    hf = make_hf_model(config, seed=seed, scale=2.0)
    arrays = {name: t.numpy() for name, t in native_state_dict(hf).items()}  # wq/wk rows un-permuted
    args = ModelArgs.from_params_json(params_json(hf.config))
    return hf, Mistral(args, Weights.from_arrays(arrays))


def torch_loss_and_grads(hf, tokens):
    """transformers' own shifted mean cross-entropy and autograd's gradients, by native name.

    HF stores wq/wk rows permuted for its rotate_half RoPE; a row permutation of W permutes
    dW's rows the same way, so the gradients are un-permuted like the weights.
    """
    import torch

    ids = torch.tensor(np.atleast_2d(tokens))
    hf.zero_grad()
    out = hf(input_ids=ids, labels=ids)
    out.loss.backward()
    return float(out.loss.detach()), native_grads(hf)


def native_grads(hf) -> dict:
    """hf's parameter gradients (after a backward) by native name, wq/wk rows un-permuted."""
    from reference.native_layout import HF_TO_NATIVE, unpermute

    cfg = hf.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    top = {"model.embed_tokens.weight": "tok_embeddings.weight", "model.norm.weight": "norm.weight",
           "lm_head.weight": "output.weight"}
    grads = {}
    for name, p in hf.named_parameters():
        g = p.grad.detach()
        if name in top:
            grads[top[name]] = g.numpy()
            continue
        _, _, i, rest = name.split(".", 3)                    # model.layers.{i}.{module}.weight
        module = rest.rsplit(".", 1)[0]
        if module == "self_attn.q_proj":
            g = unpermute(g, cfg.num_attention_heads, head_dim)
        elif module == "self_attn.k_proj":
            g = unpermute(g, cfg.num_key_value_heads, head_dim)
        grads[f"layers.{i}.{HF_TO_NATIVE[module]}.weight"] = g.contiguous().numpy()
    return grads


def mismatches(ours: dict, ref: dict, rtol: float = RTOL) -> dict:
    """{name: (norm error, max error)} of gradients off by more than rtol.

    Relative in norm, ||g - g_ref|| / ||g_ref||, and elementwise, |g - g_ref| <= rtol * max|g_ref|
    (an atol scaled to the tensor, so near-zero entries do not need a relative match).
    """
    assert ours.keys() == ref.keys()
    bad = {}
    for name, r in ref.items():
        g = ours[name]
        assert g.dtype == np.float32 and g.shape == r.shape, name
        scale = np.abs(r).max()
        rel = np.linalg.norm(g - r) / np.linalg.norm(r)
        worst = np.abs(g - r).max() / scale
        if not (rel <= rtol and worst <= rtol):
            bad[name] = (float(rel), float(worst))
    return bad


def tokens_for(config: dict, shape, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, config["vocab_size"], shape)


# ---- parity with torch autograd ------------------------------------------------------------------

def assert_matches_torch(name: str, shape, seed: int = 0, token_seed: int = 1):
    """Loss and every gradient of loss_and_grads against torch autograd on the same weights."""
    config = CONFIGS[name]
    hf, model = hf_and_ours(config, seed=seed)
    tokens = tokens_for(config, shape, seed=token_seed)
    loss, grads = loss_and_grads(model, tokens)
    ref_loss, ref = torch_loss_and_grads(hf, tokens)
    assert abs(loss - ref_loss) <= 1e-5 * ref_loss
    assert grads.keys() == expected_shapes(model.args).keys()
    assert mismatches(grads, ref) == {}


@pytest.mark.parametrize("name", ["gqa_window", "mqa_window", "mha_full"])
def test_gradients_match_torch_autograd(name):
    assert_matches_torch(name, 17)                               # T = 17 > every window


def test_window_blocks_match_torch_autograd():
    """T = 41 >= 4 W: attention goes in blocks of W queries (fast/band.py), the last one ragged."""
    from minimistral.training.backward import Pass

    assert Pass.of(hf_and_ours(CONFIGS["gqa_window"])[1], 2, 41).Q == 5
    assert_matches_torch("gqa_window", (2, 41), seed=7, token_seed=8)


def test_batched_gradients_match_torch_autograd():
    """[B, T]: one loss, the mean over all B*(T-1) predictions, as transformers' labels= gives."""
    assert_matches_torch("gqa_window", (3, 13), seed=3, token_seed=4)


def test_real_vocabulary_in_chunks_matches_torch_autograd(monkeypatch):
    """V = 32000 through the chunked cross-entropy: 7 rows a chunk, so 38 rows take 6 chunks."""
    monkeypatch.setattr(backward, "CE_CHUNK_BYTES", 7 * 4 * 32000)
    assert_matches_torch("real_vocab", (2, 20), seed=5, token_seed=6)


# ---- mutations: the comparison must see a missing term -------------------------------------------

def rms_norm_backward_without_mean_term(dy, x, gain, eps):
    r = 1.0 / np.sqrt(np.mean(np.square(x), axis=-1, keepdims=True) + np.float32(eps))
    return (dy * gain * r).astype(np.float32), np.sum(dy * x * r, axis=0, dtype=np.float32)


def softmax_backward_without_row_sum(dprobs, probs):
    return probs * dprobs


def silu_backward_sigmoid_only(dgate, a, gate):
    return dgate / (np.float32(1.0) + np.exp(-a))


@pytest.mark.parametrize("function, mutant", [
    ("rms_norm_backward", rms_norm_backward_without_mean_term),
    ("softmax_backward", softmax_backward_without_row_sum),
    ("silu_backward", silu_backward_sigmoid_only),
])
def test_dropping_one_term_fails_the_parity_check(monkeypatch, function, mutant):
    config = CONFIGS["gqa_window"]
    hf, model = hf_and_ours(config)
    tokens = tokens_for(config, 17)
    _, ref = torch_loss_and_grads(hf, tokens)
    assert mismatches(loss_and_grads(model, tokens)[1], ref) == {}        # the real one passes
    monkeypatch.setattr(backward, function, mutant)
    assert mismatches(loss_and_grads(model, tokens)[1], ref) != {}        # the mutant does not


def test_dropping_the_residual_fails_the_parity_check(monkeypatch):
    """Without the identity path dh reaches a block's input only through its branches."""
    config = CONFIGS["gqa_window"]
    hf, model = hf_and_ours(config)
    tokens = tokens_for(config, 17)
    _, ref = torch_loss_and_grads(hf, tokens)

    def block_backward_without_residual(c, i, dh, saved, grads):
        W, eps, p = c.W, c.args.norm_eps, f"layers.{i}."
        h, attn_saved, h_mid, ffn_saved = saved
        dx = backward.feed_forward_backward(c, i, dh, ffn_saved, grads)
        dx, grads[p + "ffn_norm.weight"] = backward.rms_norm_backward(dx, h_mid, W[p + "ffn_norm.weight"], eps)
        dh = dh + dx
        dx = backward.attention_backward(c, i, dh, attn_saved, grads)
        dx, grads[p + "attention_norm.weight"] = backward.rms_norm_backward(dx, h, W[p + "attention_norm.weight"], eps)
        return dx                                                # dh + dx without "dh +"

    monkeypatch.setattr(backward, "block_backward", block_backward_without_residual)
    bad = mismatches(loss_and_grads(model, tokens)[1], ref)
    assert "tok_embeddings.weight" in bad and "layers.0.attention.wq.weight" in bad
    assert "layers.1.feed_forward.w2.weight" not in bad          # above the first cut: still right


# ---- finite differences through the inference forward (no torch needed) -------------------------

SMALL = ModelArgs(dim=32, n_layers=2, head_dim=8, hidden_dim=48, n_heads=4, n_kv_heads=2,
                  sliding_window=4, vocab_size=64)


def inference_loss(model: Mistral, tokens: np.ndarray) -> float:
    """Mean next-token cross-entropy from Mistral.forward's logits, log-softmax in float64."""
    total, count = 0.0, 0
    for seq in np.atleast_2d(tokens):
        logits = model.forward(seq).astype(np.float64)[:-1]                   # [T-1, V]
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= logp[np.arange(len(seq) - 1), seq[1:]].sum()
        count += len(seq) - 1
    return total / count


def test_loss_equals_the_inference_forward_cross_entropy():
    model = Mistral(SMALL, random_weights(SMALL, seed=7, std=0.2))
    tokens = np.random.default_rng(8).integers(0, SMALL.vocab_size, (2, 11))
    loss, _ = loss_and_grads(model, tokens)
    assert loss == pytest.approx(inference_loss(model, tokens), rel=1e-6)
    assert loss == pytest.approx(loss_and_grads(model, tokens[0])[0] / 2
                                 + loss_and_grads(model, tokens[1])[0] / 2, rel=1e-6)


@pytest.mark.parametrize("name", ["tok_embeddings.weight", "norm.weight", "output.weight"] + [
    f"layers.{i}.{t}.weight" for i, t in [(0, "attention.wq"), (0, "attention.wk"), (1, "attention.wv"),
                                          (0, "attention.wo"), (0, "attention_norm"), (0, "ffn_norm"),
                                          (1, "feed_forward.w1"), (0, "feed_forward.w2"), (0, "feed_forward.w3")]])
def test_gradient_matches_finite_differences(name):
    """Five-point central difference of the inference loss at the entry of largest gradient."""
    arrays = {n: t.raw for n, t in random_weights(SMALL, seed=7, std=0.2).tensors.items()}
    tokens = np.random.default_rng(8).integers(0, SMALL.vocab_size, (2, 11))
    _, grads = loss_and_grads(Mistral(SMALL, Weights.from_arrays(arrays)), tokens)
    index = np.unravel_index(np.abs(grads[name]).argmax(), grads[name].shape)
    h = np.float32(1e-2)              # float32 logits: round-off ~1e-6 / h, truncation ~h^4

    def loss_at(delta):                                # a fresh model over the perturbed weights
        perturbed = dict(arrays, **{name: arrays[name].copy()})
        perturbed[name][index] += delta
        return inference_loss(Mistral(SMALL, Weights.from_arrays(perturbed)), tokens)

    fd = (8 * (loss_at(h) - loss_at(-h)) - (loss_at(2 * h) - loss_at(-2 * h))) / (12 * float(h))
    assert grads[name][index] == pytest.approx(fd, rel=1e-3)     # measured <= 1e-4


# ---- the window in the backward pass ------------------------------------------------------------

def test_nothing_flows_back_outside_the_window():
    """A gradient at one query reaches exactly the W positions it attends to, with exact zeros elsewhere.

    Through one attention layer, d(output at t) -> d(inputs) is nonzero only at positions
    t-W+1 .. t (the keys and values the mask lets t see, and t's own query).
    """
    model = Mistral(SMALL, random_weights(SMALL, seed=2, std=0.2))
    W, T, t = SMALL.sliding_window, 12, 9
    c = backward.Pass.of(model, 1, T)
    x = np.random.default_rng(3).standard_normal((T, SMALL.dim)).astype(np.float32)
    _, saved = backward.attention_forward(c, 0, x)
    dout = np.zeros((T, SMALL.dim), dtype=np.float32)
    dout[t] = 1.0
    dx = backward.attention_backward(c, 0, dout, saved, {})
    reached = np.abs(dx).sum(axis=1) > 0
    assert reached.tolist() == [t - W < s <= t for s in range(T)]


# ---- inputs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("tokens", [[5], [[1, 2, 3]] * 0, np.zeros((2, 2, 3), int), [0.5, 1.5],
                                    [1, 64], [-1, 3]])
def test_bad_tokens_are_a_clear_error(tokens):
    model = Mistral(SMALL, random_weights(SMALL))
    with pytest.raises(MinimistralError, match="token"):
        loss_and_grads(model, tokens)


def test_bf16_weights_are_a_clear_error():
    arrays = {n: t.raw for n, t in random_weights(SMALL).tensors.items()}
    weights = Weights.from_arrays(arrays)
    name = "layers.0.attention.wq.weight"
    weights.tensors[name] = StoredTensor(name, "BF16", arrays[name].shape, float32_to_bf16(arrays[name]),
                                         weights.tensors[name].path)
    with pytest.raises(MinimistralError, match="float32"):
        loss_and_grads(Mistral(SMALL, weights), [1, 2, 3])


def test_gradients_are_float32_of_every_weight_shape():
    model = Mistral(SMALL, random_weights(SMALL))
    _, grads = loss_and_grads(model, [1, 2, 3, 4, 5, 6])
    assert {n: g.shape for n, g in grads.items()} == expected_shapes(SMALL)
    assert all(g.dtype == np.float32 for g in grads.values())
