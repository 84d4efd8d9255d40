"""The model that ships in the package: it reads hand-written English better than a unigram,
copies names from inside its window, carries them past it (and the carrying stops when the sentence
ends in between are cut), generates the same through the rolling buffer as by full
recomputation, and is the size and shape its documents say.

The numbers are the ones measured in minimistral/data/story-mistral/RESULTS.md; each test keeps
a margin so that another CPU's float32 sums cannot fail it, and none so wide that a stale model
(the previous one scored 8.2 nats on the hand-written sentences) could pass."""

import numpy as np
import pytest

import minimistral
from minimistral.training import corpus
from minimistral.training.evaluate import name_recall, text_loss

# Measured on the shipped model (RESULTS.md): the hand-written sentences and passages together
# (3,746 tokens), and top-1 among each story's names in the first 20 held-out stories.
HANDWRITTEN_CE = 6.395                      # nats/token
NAMES_20 = {"near": 0.958, "mid": 0.894, "far": 0.357}    # first mentions: 0.391


@pytest.fixture(scope="module")
def model():
    return minimistral.load_default()


@pytest.fixture(scope="module")
def names(model):
    return name_recall(model, n_stories=20)["bands"]


def test_shape_is_the_documented_one(model):
    a = model.args
    assert (a.n_layers, a.dim, a.n_heads, a.n_kv_heads, a.sliding_window, a.vocab_size) == (6, 128, 8, 2, 32, 32000)
    assert model.tokenizer is not None and model.tokenizer.vocab_size == 32000
    assert {t.dtype for t in model.weights.tensors.values()} == {"BF16"}
    size = sum((minimistral.DEFAULT_MODEL / f).stat().st_size for f in ("model.safetensors", "tokenizer.model",
                                                                         "config.json"))
    assert size < 20e6


def test_it_reads_hand_written_english(model):
    sentences, passages = corpus.eval_texts()
    ce, n = text_loss(model, sentences + passages)
    assert n > 3000
    assert ce < HANDWRITTEN_CE + 0.15                               # measured, with margin
    assert ce < np.log(32000) - 3.0                                 # far from a uniform guess (10.37)


def test_it_copies_names_from_inside_its_window(model, names):
    assert names["near"]["mentions"] > 50
    assert names["near"]["top1"] > NAMES_20["near"] - 0.1            # measured, with margin
    assert names["near"]["top1"] > names["first"]["top1"] + 0.1      # more than guessing among the cast


def test_it_carries_names_past_its_window_and_not_past_its_reach(model, names):
    """RESULTS.md: a name said more than W but at most k (W - 1) tokens back is copied nearly as
    often as one inside the window; beyond the stack's reach it is back to the level of a first
    mention, as Fig. 1's k (W - 1) says it must be."""
    assert names["mid"]["mentions"] > 50 and names["far"]["mentions"] > 15
    assert names["mid"]["top1"] > NAMES_20["mid"] - 0.1                         # measured, with margin
    assert names["mid"]["top1"] > names["first"]["top1"] + 0.3                  # far above guessing
    assert names["mid"]["top1"] > names["near"]["top1"] - 0.15
    assert names["far"]["top1"] < names["first"]["top1"] + 0.15                 # the reach ends


def test_cutting_the_sentence_ends_in_between_removes_a_name_carried_past_the_window(model):
    """The causal check (analysis/trace.py) on the first 6 held-out stories: for the names past W
    the model gets right, removing the sentence ends between the name and the query at every
    layer halves the name's probability in most cases (RESULTS.md: 54 % of 59); removing as many
    other positions of the same span does not (0 %)."""
    from minimistral.training.evaluate import hop_checks

    h = hop_checks(model, n_stories=6)
    assert h["retrievals"] >= 8
    ends = h["sentence_ends"]
    assert ends["p_cut"] < 0.6 * ends["p"] and ends["p_control_cut"] > 0.85 * ends["p"]
    assert ends["halved_by_cut"] >= 0.3 and ends["halved_by_control_cut"] <= 0.1


def test_greedy_through_the_rolling_buffer_equals_full_recompute(model):
    story = corpus.encode_stories(corpus.stories("heldout", 1), model.tokenizer)[0]
    prompt = story[:40].tolist()                                    # 40 tokens > W = 32
    new = model.generate(prompt, max_tokens=60, temperature=0.0, eos_id=None)          # rolling buffer, W slots
    assert len(prompt) + len(new) > 3 * model.args.sliding_window
    seq = list(prompt)
    for _ in range(60):                                              # no cache: the whole sequence each time
        seq.append(int(np.argmax(model.forward(np.array(seq))[-1])))
    assert new == seq[len(prompt):]
