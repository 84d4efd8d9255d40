"""The checkers of notebooks 00 and 12: 'not yet' for the placeholder, 'right' for a right answer
(computed here by hand, not with the helpers' functions), and for a wrong one a hint that does
not print the expected value."""

import numpy as np
import pytest

import minimistral
from minimistral.analysis import first_look_exercises as fe
from minimistral.analysis import inside_exercises as ie
from minimistral.checkpoints.weights import Weights


@pytest.fixture(scope="module")
def model():
    return minimistral.load_default()


@pytest.fixture(scope="module")
def ids(model):
    return model.tokenizer.encode("One day, a girl named Ella woke up early. She went to the")


def byte_ids(char):                              # '<0x00>' is id 3 in Mistral's vocabulary
    return [3 + b for b in char.encode("utf-8")]


def softmax64(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def lens_by_hand(model, ids, layer):
    h = model.hidden_states(ids)[layer + 1][-1].astype(np.float64)              # before layer + 1
    g = model.weights.vector("norm.weight").astype(np.float64)
    out = model.weights.tensors["output.weight"].float32().astype(np.float64)
    return softmax64(out @ (h / np.sqrt(np.mean(h * h) + model.args.norm_eps) * g))


def test_placeholders_say_not_yet(model, ids):
    assert all("not yet" in ie.check(n, None, model, ids) for n in range(1, 4))
    assert "not yet" in fe.check(1, None, model, ids)


def test_exercise_1_has_characters_to_check(model):
    chars = ie.byte_fallback_chars(model.tokenizer)
    assert len(chars) >= 3
    assert all(ie.byte_piece_ids(model.tokenizer, c) == byte_ids(c) for c in chars)


def test_right_answers(model, ids):
    final_top = int(model.forward(ids)[-1].argmax())
    p = lens_by_hand(model, ids, ie.EXERCISE_2_LAYER)[final_top]

    def logp(logits):
        z = logits[:-1].astype(np.float64)
        z = z - z.max(-1, keepdims=True)
        z = z - np.log(np.exp(z).sum(-1, keepdims=True))
        return z[np.arange(len(ids) - 1), ids[1:]]

    arrays = {n: t.float32().copy() for n, t in model.weights.tensors.items()}
    arrays[f"layers.{ie.EXERCISE_3_LAYER}.attention.wo.weight"][:] = 0       # every head of the layer
    edited = Weights.from_arrays(arrays)
    edited.out_perm = model.weights.out_perm             # HF layout: wq/wk rows back in RoPE order
    without = minimistral.Mistral(model.args, edited).forward(ids)
    change = float(np.mean(logp(without) - logp(model.forward(ids))))
    answers = {1: byte_ids, 2: p, 3: change}
    assert all(ie.check(n, a, model, ids) == f"exercise {n}: right" for n, a in answers.items())

    cache_ids = list(ids)
    for _ in range(2):
        cache_ids.append(int(model.forward(cache_ids)[-1].argmax()))
    assert fe.check(1, cache_ids[-1], model, ids) == "exercise 1: right"


def test_wrong_answers_get_a_hint_without_the_answer(model, ids):
    raw = lambda c: list(c.encode("utf-8"))
    assert "'<0x00>'" in ie.check(1, raw, model, ids)
    assert "'▁'" in ie.check(1, lambda c: [28705] + byte_ids(c), model, ids)
    assert ie.check(1, 5, model, ids).startswith("exercise 1: wrong; hint: answer_1 should be a function")

    final_top = int(model.forward(ids)[-1].argmax())
    wrong_stage = lens_by_hand(model, ids, ie.EXERCISE_2_LAYER - 1)[final_top]   # hidden_states[layer]
    text = ie.check(2, wrong_stage, model, ids)
    assert "BEFORE layer" in text and f"{wrong_stage:.3f}" not in text
    right = ie.lens_probability(model, ids)
    assert f"{right:.3f}" not in ie.check(2, right * 1.5, model, ids)

    change = ie.layer_ablation_change(model, ids)
    assert "negative" in ie.check(3, -change, model, ids)
    base = ie.next_token_logp(model.forward(ids), ids)
    singles = sum(float(np.mean(ie.next_token_logp(ie.ablated_logits(model, ids, [(ie.EXERCISE_3_LAYER, h)]), ids)
                                - base)) for h in range(model.args.n_heads))
    assert "one at a time" in ie.check(3, singles, model, ids)
    assert "raised" in ie.check(3, "a lot", model, ids)

    first = int(model.forward(ids)[-1].argmax())
    assert "append it" in fe.check(1, first, model, ids)
    assert fe.check(1, 0.5, model, ids) == "exercise 1: wrong; hint: a token id is a whole number"
