"""The training text: children's stories made up by a seeded grammar, no download, no borrowed text.

Example, story(0, 0) (a "brave" plot; 393 tokens with <s> and </s>):

    Peter was a curious boy who loved to feed the ducks. He had a tiny duck named Zorro. Zorro
    had warm feathers and a pink beak. Next door lived an old woman named Fatima, who had a
    garden full of roses. Marcus was Peter's friend, and the two of them had a picnic every
    Friday. But that morning, Marcus was visiting his grandmother. Peter was scared of riding
    his bike. Before he went home, he waved to the squirrels. "Zorro loves bread crumbs," he
    said. "And she splashes in a puddle every day." The cold firefighters tasted every back
    before he did not want to clap in front of their hungry basket. "If we slide down the slide,
    we can play catch later," he said. Peter crawled through the big tree. A ticket gives
    everyone. The broken doctor lost towards the bucket. He saw three butterflies buzzing from
    flower to flower. He blew his nose and thought hard. He tried to feed the ducks, but the
    gate was locked. "What do you want to eat?" asked Mom. "Can I have some lollipops, please?"
    he answered. Peter and Mom talked about their favourite animals all the way home. He felt
    hungry and lonely. "I can't do it," he whispered. "Yes, you can," answered Mom. "I will be
    right here." He took a deep breath and counted to three. Then he pushed the pedals, and he
    rode all the way round the pond. Just then, Marcus came running up the grass. On the way
    home, Peter waved to Fatima, who was sitting in front of her house. From that day on, he
    always tried new things. When the sun went down, he went home and had a bowl of popcorn. The
    end.

    name_mentions(story(0, 0)) -> Zorro at token 24, 4 after its last mention (near), Peter at 58
    (57, mid), Marcus at 79 (23, near), ... Marcus at 333, 254 tokens after "Marcus was visiting"
    (far), Fatima at 348 (304, far).

What a story is (grammar/ writes it). A plot (lost toy, trip, helping, making something, being
brave, sharing, a birthday surprise) is a list of beats; between the beats the middle is filled
with sentences drawn from a small grammar: subject + verb phrase + object + place, joined by because / so /
when / but / then / after / before / while / until / if, plus questions (who / what / where /
why / how many), dialogue (said / asked / shouted / whispered / answered), descriptions and a
moral. Every word comes from the lists in words.py (about 2,450 distinct words in 2,000 stories,
names not counted), every name from 226 first names for people and 95 pet names, so a name can
only be predicted by copying it from earlier in the story. The cast stays consistent: the hero's
pronoun follows the hero, a pet named X is one kind of animal all story, the thing that is lost
is the thing that is found.

Names come back at planned distances, counted in tokens of the shipped Mistral tokenizer.
A name at token position p whose previous mention starts at q has distance d = p - q; the
query that predicts the name sits at p - 1, so it must reach d - 1 positions back:

    near   d - 1 <= W - 1              one sliding window holds the previous mention
    mid    W - 1 < d - 1 <= k (W - 1)  only the stack of k layers reaches it (receptive_field.py)
    far    d - 1 > k (W - 1)           beyond the reach: the model has to guess

With the defaults W = DEFAULT_WINDOW = 32 and k = DEFAULT_LAYERS = 6 the reach is 186 tokens.
The hero is named again after a drawn gap (the next time: near, or W + 1 .. 0.6 x reach: mid)
and called he / she in between; a pet, friend or neighbour who leaves the scene (stays at home,
is ill, lives next door) is not mentioned until it comes back after more than the reach, which
makes a far mention. Stories are 150-400 tokens; the plot stretches its middle so a far return
fits. story(seed, index, window=W, layers=k) plans for another model; the defaults give the corpus.

Split. Story i of corpus seed s is drawn from its own generator,
``random.Random(f"minimistral-story-{s}-{i}")``, so it is the same text on every machine and does
not depend on which other stories were made. Whether it is held out depends only on its text
(a hash), so a text that is held out can never also be a training story:

    split(text) = "heldout" if h % 100 < 2 else "train"        (2 % held out)
    h = the first 8 bytes of sha256(text), as a little-endian integer

Tokenised, each story is ``<s> ... </s>``; the training stream is stories one after another.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MinimistralError
from .grammar import MAX_TOKENS, MIN_TOKENS, NAMES, PLOTS, Plan, Teller

HELDOUT_PERCENT = 2
DEFAULT_WINDOW = 32          # W the distances are planned for
DEFAULT_LAYERS = 6           # k: the stack reaches k (W - 1) tokens back


# ----------------------------------------------------------------------------------------------
# the public interface: the same functions as the first corpus, plus plans, mentions and stats
# ----------------------------------------------------------------------------------------------

def story_plan(seed: int, index: int, *, window: int = DEFAULT_WINDOW, layers: int = DEFAULT_LAYERS) -> Plan:
    """Story `index` of corpus `seed` with its plot, cast and sentences (shapes, name positions)."""
    rng = random.Random(f"minimistral-story-{seed}-{index}")
    for _ in range(20):                  # a draw that ends outside 150-400 tokens is drawn again
        t = Teller(rng, window, layers)
        t.budget = rng.randint(MIN_TOKENS + 40, MAX_TOKENS - 10)
        plot = rng.choice(list(PLOTS))
        PLOTS[plot](t)
        if MIN_TOKENS <= t.pos + 1 <= MAX_TOKENS:           # + 1 for </s>
            break
    return Plan(plot, t.cast, t.sentences, window, layers)


def story(seed: int, index: int, *, window: int = DEFAULT_WINDOW, layers: int = DEFAULT_LAYERS) -> str:
    """The text of story `index` of corpus `seed`: the same on every machine, 150-400 tokens."""
    return story_plan(seed, index, window=window, layers=layers).text


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
    batch = min(50_000, int(n_tokens / 250 / share) + 100)   # story indices to try per round
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


# ----------------------------------------------------------------------------------------------
# names carried across the story: where each name comes back, and how far back its last mention is
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mention:
    """A name said again: its first piece is at token `position`, `distance` tokens after the first
    piece of its previous mention in the same story."""
    name: str
    position: int
    distance: int


def _name_pattern(names) -> re.Pattern:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b".encode())


NAME_PATTERN = _name_pattern(NAMES)


def name_mentions(story, tok=None, names=None, first: bool = False) -> list[Mention]:
    """Every re-mention of a name in a story (text, or ids as from encode_stories), in order;
    with ``first``, first mentions too (their distance is 0).

    Positions are token indices of the ids (with <s> at 0 for a text); a <s> in the ids starts a
    new story, so in a packed stream a name is only matched with its own story.

        name_mentions("Tom had a dog. Tom was happy.")  ->  [Mention('Tom', 6, 5)]
    """
    tok = tok or tokenizer()
    ids = [tok.bos_id] + tok.sp.encode(story) if isinstance(story, str) else [int(i) for i in story]
    pattern = NAME_PATTERN if names is None else _name_pattern(names)
    text, starts, story_of, n_story = bytearray(), [], [], 0
    for i in ids:
        n_story += i == tok.bos_id
        starts.append(len(text))
        story_of.append(n_story)
        if tok.sp.is_control(i) or tok.sp.is_unknown(i):
            continue
        piece = tok.sp.id_to_piece(i)
        text += bytes([int(piece[3:5], 16)]) if tok.sp.is_byte(i) else piece.replace("\u2581", " ").encode()
    starts = np.array(starts, dtype=np.int64)
    last, out = {}, []
    for hit in pattern.finditer(bytes(text)):
        position = int(np.searchsorted(starts, hit.start(), side="right")) - 1
        key = (story_of[position], hit.group().decode())
        if key in last:
            out.append(Mention(key[1], position, position - last[key]))
        elif first:
            out.append(Mention(key[1], position, 0))
        last[key] = position
    return out


def name_weights(rows: np.ndarray, weight: float, tok=None) -> np.ndarray:
    """float32 [B, T]: the loss weight of each token of packed rows [B, T] (the training batches):
    ``weight`` at the first piece of every name said again in its story within the row, 1 elsewhere.

    A name said again is the one prediction that needs a fact from earlier in the story, and one
    token in 43 of the training rows: weighing it more strengthens the signal for carrying a name through
    the window (TrainConfig.name_weight). First mentions keep weight 1: nothing gives them away.
    """
    out = np.ones(rows.shape, dtype=np.float32)                                 # [B, T]
    for b, row in enumerate(rows):
        for m in name_mentions(row, tok):
            out[b, m.position] = weight
    return out


def band(distance: int, window: int = DEFAULT_WINDOW, layers: int = DEFAULT_LAYERS) -> str:
    """'near', 'mid' or 'far': where the previous mention lies for the query that predicts the name.

    The name's first piece at p is predicted at p - 1, which must reach back distance - 1 tokens:
    one window covers W - 1 of them, k layers k (W - 1).

        band(20) -> 'near'    band(100) -> 'mid'    band(250) -> 'far'     (W = 32, k = 6)
    """
    back = distance - 1
    if back <= window - 1:
        return "near"
    return "mid" if back <= layers * (window - 1) else "far"


# ----------------------------------------------------------------------------------------------
# statistics of the corpus, and how much of the hand-written evaluation text it covers
# ----------------------------------------------------------------------------------------------

EVAL_DIR = Path(__file__).resolve().parent.parent / "data" / "eval"
WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")


def eval_texts() -> tuple[list[str], list[str]]:
    """The hand-written evaluation set: (sentences, passages); never produced by the generator."""
    sentences = [s.strip() for s in (EVAL_DIR / "sentences.txt").read_text().splitlines() if s.strip()]
    passages = [p.strip() for p in (EVAL_DIR / "passages.txt").read_text().split("\n\n") if p.strip()]
    return sentences, passages


def word_types(texts, names: bool = False) -> set[str]:
    """Distinct lower-case words of texts; names (the generator's name lists) left out unless asked."""
    found = {m.group() for text in texts for m in WORD.finditer(text)}
    return {x.lower() for x in found if names or x.split("'")[0] not in NAMES}     # Tom, Tom's


def coverage(vocabulary: set[str], texts) -> dict:
    """Share of the word types and word tokens of `texts` that are in vocabulary (or are names)."""
    tokens = [m.group() for text in texts for m in WORD.finditer(text)]
    known = [x.split("'")[0] in NAMES or x.lower() in vocabulary for x in tokens]
    types = {x.lower(): k for x, k in zip(tokens, known)}
    missing = sorted(x for x, k in types.items() if not k)
    return {"types": sum(types.values()) / len(types), "tokens": sum(known) / len(known),
            "n_types": len(types), "n_tokens": len(tokens), "missing": missing}


def corpus_stats(n_stories: int, seed: int = 0, *, window: int = DEFAULT_WINDOW,
                 layers: int = DEFAULT_LAYERS, tok=None) -> dict:
    """Words, sentence shapes, lengths and name distances of the first n_stories stories.

        corpus_stats(2000)["bands"]  ->  {'near': ..., 'mid': ..., 'far': ...}
    """
    tok = tok or tokenizer()
    plans = [story_plan(seed, i, window=window, layers=layers) for i in range(n_stories)]
    texts = [p.text for p in plans]
    ids = encode_stories(texts, tok)
    lengths = np.array([len(x) for x in ids], dtype=np.int64)
    bands, with_far = {"near": 0, "mid": 0, "far": 0}, 0
    for x in ids:
        found = [band(m.distance, window, layers) for m in name_mentions(x, tok)]
        for b in found:
            bands[b] += 1
        with_far += "far" in found
    vocabulary = word_types(texts)
    sentences, passages = eval_texts()
    return {
        "stories": n_stories, "distinct_words": len(vocabulary),
        "distinct_words_with_names": len(word_types(texts, names=True)),
        "shapes": len({s.shape for p in plans for s in p.sentences}),
        "plots": {k: sum(p.plot == k for p in plans) for k in PLOTS},
        "tokens": int(lengths.sum()), "mean_tokens": float(lengths.mean()),
        "min_tokens": int(lengths.min()), "max_tokens": int(lengths.max()),
        "token_quartiles": [int(q) for q in np.percentile(lengths, [25, 50, 75])],
        "bands": bands, "stories_with_far": with_far, "window": window, "layers": layers,
        "eval_coverage": coverage(vocabulary, sentences + passages),
    }


def main(argv=None):
    """python3 -m minimistral.training.corpus [n_stories] [window] [layers]: print corpus_stats."""
    import sys
    import time

    args = [int(x) for x in (sys.argv[1:] if argv is None else argv)]
    n, window, layers = (args + [2000, DEFAULT_WINDOW, DEFAULT_LAYERS][len(args):])[:3]
    start = time.perf_counter()
    s = corpus_stats(n, window=window, layers=layers)
    seconds = time.perf_counter() - start
    bands, cov = s["bands"], s["eval_coverage"]
    total = sum(bands.values())
    print(f"stories {s['stories']} (seed 0), W = {window}, k = {layers}, reach k (W - 1) = {layers * (window - 1)}")
    print(f"distinct words {s['distinct_words']} without names, {s['distinct_words_with_names']} with them")
    print(f"sentence shapes {s['shapes']}; plots {s['plots']}")
    print(f"tokens {s['tokens']:,}; per story mean {s['mean_tokens']:.1f}, min {s['min_tokens']}, "
          f"quartiles {s['token_quartiles']}, max {s['max_tokens']}")
    print(f"name re-mentions {total:,}: " + ", ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in bands.items()))
    print(f"stories with a far re-mention: {s['stories_with_far']} of {s['stories']}")
    print(f"hand-written eval set: {cov['n_types']} word types, {cov['n_tokens']} words; covered "
          f"{cov['types']:.1%} of types, {cov['tokens']:.1%} of words")
    print(f"not covered: {' '.join(cov['missing'])}")
    print(f"({seconds:.1f} s)")


if __name__ == "__main__":
    main()
