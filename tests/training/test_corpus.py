"""The generated story corpus: deterministic, split without overlap, the paper's words, names recalled."""

import re
import subprocess
import sys

import numpy as np
import pytest

from minimistral.training import corpus


def test_same_seed_same_stories_in_a_fresh_process():
    here = [corpus.story(0, i) for i in range(5)]
    code = "from minimistral.training import corpus; print(repr([corpus.story(0, i) for i in range(5)]))"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert repr(here) == there.strip()
    assert corpus.story(1, 0) != corpus.story(0, 0)          # another seed, another corpus
    assert len(set(here)) == 5


def test_story_does_not_depend_on_which_others_were_made():
    a = corpus.story(0, 77)
    [corpus.story(0, i) for i in range(10)]
    assert corpus.story(0, 77) == a


def test_heldout_and_train_are_disjoint_and_heldout_is_small():
    train = corpus.stories("train", 3000)
    held = corpus.stories("heldout", 60)
    assert not set(train) & set(held)
    assert all(corpus.split_of(t) == "train" for t in train)
    assert all(corpus.split_of(t) == "heldout" for t in held)
    share = sum(corpus.split_of(corpus.story(0, i)) == "heldout" for i in range(5000)) / 5000
    assert 0.01 < share < 0.03                                 # HELDOUT_PERCENT = 2


def test_heldout_tokens_are_not_in_the_training_stream():
    tok = corpus.tokenizer()
    held = corpus.heldout_windows(4, 128, tok=tok)
    stream = corpus.token_stream("train", 200_000, tok=tok)
    text = " ".join(map(str, stream.tolist()))
    # a held-out window of 128 tokens never occurs verbatim in the training stream
    for row in held:
        assert " ".join(map(str, row.tolist())) not in text


def test_the_paper_sentence_and_its_words_appear():
    texts = corpus.stories("train", 400)
    joined = " ".join(texts)
    assert "The cat sat on the mat and saw the dog go to the" in joined        # Fig. 3's prompt
    assert sum("The cat sat on the mat" in t for t in texts) > 40
    for word in ("cat", "sat", "on", "the", "mat", "and", "saw", "dog", "go", "to"):
        assert re.search(rf"\b{word}\b", joined)


def test_names_are_introduced_early_and_recalled_late():
    tok = corpus.tokenizer()
    far = 0
    texts = corpus.stories("train", 200)
    for text, ids in zip(texts, corpus.encode_stories(texts, tok)):
        first_sentences = " ".join(text.split(". ")[:2])
        pet = re.search(r"(?:named|called) (\w+)\.", first_sentences.split(". ")[-1] + ".")
        assert pet, text
        name_ids = tok.encode(pet.group(1), bos=False)
        pieces = ids.tolist()
        hits = [i for i in range(len(pieces)) if pieces[i:i + len(name_ids)] == name_ids]
        assert hits and hits[0] < 40                               # introduced in the first ~2 sentences
        assert hits[-1] - hits[0] > 16                             # ... and named again beyond one window W
        far += (hits[-1] - hits[0]) > 64
    assert far > 100                                                # most stories: > 4 windows apart


def test_story_length_and_tokens_round_trip():
    tok = corpus.tokenizer()
    texts = corpus.stories("train", 300)
    ids = corpus.encode_stories(texts, tok)
    lengths = np.array([len(x) for x in ids])
    assert lengths.min() >= 80 and lengths.max() <= 270 and lengths.mean() > 16 * 5
    for text, x in zip(texts[:50], ids):
        assert x[0] == tok.bos_id and x[-1] == tok.eos_id and x.dtype == np.int32
        assert tok.decode(x) == text                                 # the tokenizer round trip
        assert tok.encode(text, eos=True) == x.tolist()


def test_packed_batches_and_windows():
    tok = corpus.tokenizer()
    batches = corpus.Batches(batch=4, seq_len=128, steps=3, tok=tok)
    b = batches[0]
    assert b.shape == (4, 128) and b.dtype == np.int32
    stream = corpus.token_stream("train", 4 * 128 * 3, tok=tok)
    assert np.array_equal(np.concatenate([batches[k].reshape(-1) for k in range(3)]), stream[:4 * 128 * 3])
    assert stream[0] == tok.bos_id and (stream == tok.bos_id).sum() >= 4   # each story starts with <s>
    assert np.array_equal(corpus.heldout_windows(3, 128, tok=tok), corpus.heldout_windows(3, 128, tok=tok))


def test_unigram_baseline_is_a_distribution():
    stream = corpus.token_stream("train", 20_000)
    logp = corpus.unigram_log_probs(stream, 32000)
    assert logp.shape == (32000,)
    assert np.isclose(np.exp(logp).sum(), 1.0)
    the = corpus.tokenizer().encode(" the", bos=False)[-1]
    assert logp[the] > np.log(0.02) > logp[31999]                    # common word vs unseen piece


def test_bad_split_is_one_sentence():
    with pytest.raises(corpus.MinimistralError, match="split"):
        corpus.stories("test", 1)
