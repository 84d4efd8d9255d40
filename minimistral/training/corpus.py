"""The training text: simple English stories made up by a seeded grammar, no download.

A story has a hero (a girl or a boy with a name), a pet (an animal with a name), a friend met
on the way, places, things, actions and dialogue in quotes. The names are introduced in the
first sentences and come back at the end, often a hundred tokens later, so predicting them
needs more reach than one window of W = 16 tokens (receptive_field.py: k layers reach k (W - 1) back).
The paper's example sentence (Fig. 1 and Fig. 3) is one of the templates:

    story(0, 20)  ->  'One day, a girl named Chloe woke up early. Her best friend was a sheep
                       named Bella. ... The cat sat on the mat and saw the dog go to the school.
                       ... Chloe hugged Bella and went to bed. The end.'

Tokenised with the real Mistral tokenizer (minimistral/data/tokenizer.model), each story is
``<s> ... </s>``; the training stream is stories one after another:

    <s> Once upon a time ... The end.</s><s> One day, a girl named Mia ... </s><s> ...

Split. Story i of corpus seed s is drawn from its own generator,
``random.Random(f"minimistral-story-{s}-{i}")``, so it is the same text on every machine and does
not depend on which other stories were made.
Whether it is held out depends only on its text (a hash), so a text that is held out can never
also be a training story:

    split(text) = "heldout" if h % 100 < 2 else "train"        (2 % held out)
    h = the first 8 bytes of sha256(text), as a little-endian integer
"""

from __future__ import annotations

import hashlib
import random
import re

import numpy as np

from ..errors import MinimistralError

HELDOUT_PERCENT = 2

GIRLS = ["Lily", "Mia", "Anna", "Lucy", "Emma", "Sara", "Zoe", "Ella", "Ruby", "Nora", "Amy", "Kate",
         "Rose", "Grace", "Alice", "Maya", "Julia", "Eva", "Hannah", "Chloe"]
BOYS = ["Tom", "Ben", "Sam", "Max", "Jack", "Leo", "Tim", "Noah", "Finn", "Luke", "Oscar", "Adam",
        "Jake", "Henry", "Peter", "Paul", "Daniel", "Oliver", "Hugo", "Felix"]
PET_NAMES = ["Biscuit", "Pepper", "Daisy", "Coco", "Ginger", "Shadow", "Buddy", "Luna", "Oreo",
             "Milo", "Pip", "Rocky", "Snowball", "Muffin", "Sunny", "Bella", "Charlie", "Toby",
             "Willow", "Maple"]
ANIMALS = ["cat", "dog", "bird", "rabbit", "duck", "frog", "mouse", "horse", "fox", "goat",
           "sheep", "pig", "cow", "owl", "bear"]
PLACES = ["park", "garden", "river", "forest", "beach", "school", "market", "farm", "lake", "hill",
          "town", "zoo", "shop", "field", "house"]
THINGS = ["mat", "ball", "box", "hat", "kite", "book", "cake", "apple", "boat", "chair", "rock",
          "log", "bed", "bench", "cup"]
SIZES = ["little", "big", "small", "tiny", "fat", "tall"]
COLOURS = ["red", "blue", "green", "yellow", "brown", "white", "black", "pink", "orange", "grey"]
FEELINGS = ["happy", "sad", "tired", "hungry", "scared", "excited", "proud", "sleepy", "surprised"]
WEATHER = ["The sun was warm.", "It was a rainy day.", "The wind was cold.", "The sky was blue.",
           "It was a sunny morning.", "Snow was falling."]
GREETINGS = ["Hello", "Hi", "Good morning", "Look", "Come here", "Wait for me"]
FOODS = ["an apple", "some bread", "a cookie", "some cheese", "a carrot", "some cake", "a banana"]


class Story:
    """One story's cast and the sentences drawn so far (internal to story())."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        girl = rng.random() < 0.5
        self.hero = rng.choice(GIRLS if girl else BOYS)
        self.kind = "girl" if girl else "boy"
        self.he, self.his = ("she", "her") if girl else ("he", "his")
        self.pet = rng.choice(PET_NAMES)
        self.animal = rng.choice(ANIMALS)
        friend_girl = rng.random() < 0.5
        self.friend = rng.choice([n for n in (GIRLS if friend_girl else BOYS) if n != self.hero])
        self.friend_he = "she" if friend_girl else "he"
        self.place = rng.choice(PLACES)
        self.thing = rng.choice(THINGS)
        self.colour = rng.choice(COLOURS)
        self.met_friend = False

    def pick(self, options):
        return self.rng.choice(options)


def _intro(s: Story) -> list[str]:
    r, He = s.rng, s.he.capitalize()
    opening = s.pick([
        f"Once upon a time, there was a {s.pick(SIZES)} {s.kind} named {s.hero}.",
        f"One day, a {s.kind} named {s.hero} woke up early.",
        f"There was once a {s.kind} called {s.hero} who lived near the {s.pick(PLACES)}.",
        f"{s.hero} was a {s.pick(SIZES)} {s.kind} who liked to play.",
    ])
    pet = s.pick([
        f"{He} had a {s.pick(SIZES)} {s.animal} named {s.pet}.",
        f"{s.hero} had a {s.colour} {s.animal} called {s.pet}.",
        f"{s.his.capitalize()} best friend was a {s.animal} named {s.pet}.",
    ])
    out = [opening, pet]
    if r.random() < 0.4:
        out.append(s.pick(WEATHER))
    return out


N_EVENTS = 14


def _event(s: Story, choice: int) -> str:
    """One middle sentence or two: template `choice` of the N_EVENTS below, slots drawn now."""
    r, He = s.rng, s.he.capitalize()
    a1, a2 = r.sample(ANIMALS, 2)
    place, thing = s.pick(PLACES), s.pick(THINGS)
    if choice == 0:   # the paper's example sentence (Fig. 1, Fig. 3), and variations of it
        if r.random() < 0.5:
            return f"The cat sat on the mat and saw the dog go to the {place}."
        return f"The {a1} sat on the {thing} and saw the {a2} go to the {place}."
    if choice == 1:
        return f"{s.hero} and {s.pet} went to the {place}."
    if choice == 2:
        return f"At the {place}, {s.he} saw a {s.pick(COLOURS)} {thing}."
    if choice == 3:
        return f"\"{s.pick(GREETINGS)}, {s.pet}!\" said {s.hero}. \"Let us go to the {place}.\""
    if choice == 4:
        return f"{s.pet} the {s.animal} ran to the {thing} and sat on it."
    if choice == 5:
        s.met_friend = True
        return (f"Then {s.hero} met {s.friend}. \"Can I play with you?\" asked {s.friend}. "
                f"\"Yes,\" said {s.hero}.")
    if choice == 6:
        return f"{s.hero} felt {s.pick(FEELINGS)}, so {s.he} sat on the {thing}."
    if choice == 7:
        return f"{s.pet} was {s.pick(FEELINGS)}. {s.hero} gave {s.pet} {s.pick(FOODS)}."
    if choice == 8:
        return f"A {a1} came out of the {s.pick(['forest', 'river', 'garden', 'field'])} and looked at {s.pet}."
    if choice == 9:
        return f"{He} found a {s.colour} {s.thing} under a {thing}. \"This is my {s.thing},\" {s.he} said."
    if choice == 10 and s.met_friend:
        return f"{s.friend} and {s.hero} played with the {thing} until {s.pet} got {s.pick(FEELINGS)}."
    if choice == 11:
        return f"The {a1} said, \"I am a {a1}. Who are you?\" \"I am {s.pet},\" said the {s.animal}."
    if choice == 12:
        return f"They walked to the {place} and saw a {a1} on a {thing}."
    if choice == 10:
        return f"{s.hero} played with the {thing} until {s.pet} got {s.pick(FEELINGS)}."
    return f"{s.hero} put the {thing} in a bag and went to the {place}."


def _ending(s: Story) -> list[str]:
    home = s.pick([
        f"At the end of the day, {s.hero} and {s.pet} went home.",
        f"In the evening, {s.pet} the {s.animal} was tired, so {s.hero} took {s.pet} home.",
    ] + ([f"When it got dark, {s.hero} said goodbye to {s.friend} and went home with {s.pet}."]
         if s.met_friend else []))
    last = s.pick([
        f"\"I love you, {s.pet},\" said {s.hero}.",
        f"{s.hero} was {s.pick(['happy', 'proud', 'glad'])} and {s.pet} was too.",
        f"{s.hero} hugged {s.pet} and went to bed.",
        f"\"What a day!\" said {s.hero}.",
    ])
    return [home, last, "The end."]


def story(seed: int, index: int) -> str:
    """The text of story `index` of corpus `seed`: the same on every machine, 80-250 tokens.

        story(0, 0)[:40]  ->  a deterministic sentence like 'Once upon a time, there was a ...'
    """
    s = Story(random.Random(f"minimistral-story-{seed}-{index}"))
    sentences = _intro(s)
    # 4 to 11 different templates, the friend met (5) before any sentence that names them (10)
    choices = s.rng.sample(range(N_EVENTS), s.rng.randint(4, 11))
    if 5 in choices and 10 in choices and choices.index(10) < choices.index(5):
        i, j = choices.index(10), choices.index(5)
        choices[i], choices[j] = 5, 10
    sentences += [_event(s, c) for c in choices]
    sentences += _ending(s)
    return re.sub(r"\b([Aa]) ([aeiou])", r"\1n \2", " ".join(sentences))    # a apple -> an apple


def split_of(text: str) -> str:
    """'heldout' for about HELDOUT_PERCENT % of texts, chosen by a hash of the text, else 'train'."""
    h = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
    return "heldout" if h % 100 < HELDOUT_PERCENT else "train"


def stories(split: str, count: int, seed: int = 0, start: int = 0) -> list[str]:
    """The first `count` stories of a split, in index order, skipping indices before `start`."""
    if split not in ("train", "heldout"):
        raise MinimistralError(f"split must be 'train' or 'heldout', got {split!r}.")
    out, index = [], start
    while len(out) < count:
        text = story(seed, index)
        if split_of(text) == split:
            out.append(text)
        index += 1
    return out


def tokenizer():
    """The real Mistral tokenizer that ships in the package."""
    from ..tokenizer import SHIPPED_TOKENIZER, Tokenizer

    return Tokenizer(SHIPPED_TOKENIZER)


def encode_stories(texts: list[str], tok=None) -> list[np.ndarray]:
    """Each story as int32 ids <s> ... </s>."""
    tok = tok or tokenizer()
    ids = tok.sp.encode(list(texts))                   # one call for the whole list (fast)
    return [np.array([tok.bos_id] + x + [tok.eos_id], dtype=np.int32) for x in ids]


def token_stream(split: str, n_tokens: int, seed: int = 0, tok=None) -> np.ndarray:
    """int32 [>= n_tokens]: stories of a split, tokenised and concatenated, <s> first in each."""
    tok = tok or tokenizer()
    parts, total, start = [], 0, 0
    share = (100 - HELDOUT_PERCENT if split == "train" else HELDOUT_PERCENT) / 100
    batch = min(50_000, int(n_tokens / 150 / share) + 100)   # story indices to try per round
    while total < n_tokens:
        texts = []
        for index in range(start, start + batch):
            text = story(seed, index)
            if split_of(text) == split:
                texts.append(text)
        start += batch
        for ids in encode_stories(texts, tok):
            parts.append(ids)
            total += len(ids)
            if total >= n_tokens:
                break
    return np.concatenate(parts)                                                 # [N]


def windows(stream: np.ndarray, seq_len: int) -> np.ndarray:
    """int32 [N // T, T]: a token stream cut into consecutive, non-overlapping windows of T tokens.

    Stories run across window edges (the window starts mid-story, as in packed pre-training);
    every story inside still begins with <s>, which the model learns to treat as a reset.
    """
    n = len(stream) // seq_len
    return np.ascontiguousarray(stream[:n * seq_len].reshape(n, seq_len))      # [N] -> [N/T, T]


class Batches:
    """Packed training batches [B, T], in order, from the train split; step k is always the same batch.

        batches = Batches(batch=16, seq_len=128, steps=1000, seed=0)
        batches[0].shape  ->  (16, 128)
    """

    def __init__(self, batch: int, seq_len: int, steps: int, seed: int = 0, tok=None):
        self.batch, self.seq_len = batch, seq_len
        rows = windows(token_stream("train", batch * seq_len * steps, seed, tok), seq_len)   # [R, T]
        self.rows = rows
        self.n_batches = len(rows) // batch

    def __len__(self):
        return self.n_batches

    def __getitem__(self, k: int) -> np.ndarray:
        k %= self.n_batches
        return self.rows[k * self.batch:(k + 1) * self.batch]                     # [B, T]


def heldout_windows(n_windows: int, seq_len: int, seed: int = 0, tok=None) -> np.ndarray:
    """int32 [n, T]: the fixed held-out set, held-out stories packed like the training batches."""
    return windows(token_stream("heldout", n_windows * seq_len, seed, tok), seq_len)[:n_windows]


def unigram_log_probs(stream: np.ndarray, vocab_size: int) -> np.ndarray:
    """float64 [V]: log p(token) from counts in `stream`, add-one (Laplace) smoothed over all V.

    The baseline a model must beat by using context: it knows which words are common, nothing
    else. Fitted on the training split, evaluated on held-out tokens.
    """
    counts = np.bincount(stream, minlength=vocab_size).astype(np.float64)      # [V]
    return np.log((counts + 1.0) / (counts.sum() + vocab_size))
