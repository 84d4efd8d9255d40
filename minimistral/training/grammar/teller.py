"""The cast and the teller: who is named when, and where the story is in tokens.

A Teller writes one story. It keeps the position of the next token, decides each time a
character (an Entity) is referred to whether to say the name, a pronoun or a description, and
records every sentence (a Sentence: its text, shape, token span and the names in it). A Plan is
the finished story.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from ...tokenizer import SHIPPED_TOKENIZER, Tokenizer
from .. import words as w
from .english import articles, cap

MIN_TOKENS, MAX_TOKENS = 150, 400      # story length in tokens, <s> and </s> included

NAMES = frozenset(w.GIRL_NAMES + w.BOY_NAMES + w.PET_NAMES)
PRONOUNS = {"she": ("she", "her", "her", "herself"), "he": ("he", "him", "his", "himself"),
            "it": ("it", "it", "its", "itself"), "they": ("they", "them", "their", "themselves")}
CASES = {"subj": 0, "obj": 1, "pos": 2, "self": 3}


# token counting: distances are planned in tokens of the real tokenizer
class _Pieces:
    """Tokens per space-separated chunk, cached. SentencePiece splits text at spaces before merging,
    so the tokens of a story are the sum over its chunks (checked in the tests)."""

    def __init__(self):
        self.sp, self.cache = None, {}

    def count(self, chunk: str) -> int:
        n = self.cache.get(chunk)
        if n is None:
            if self.sp is None:                  # the shipped tokenizer, opened on first use
                self.sp = Tokenizer(SHIPPED_TOKENIZER).sp
            n = self.cache[chunk] = len(self.sp.encode(chunk))
        return n


PIECES = _Pieces()


@dataclass(eq=False)
class Entity:
    """A person, pet or thing of the story. Only the name list's words are names."""
    name: str | None          # "Lily"; None for Mom, the baker, the kite
    kind: str                 # "girl", "boy", "dog", "kite", "mom" ...
    pronoun: str              # "she", "he" or "it"
    nouns: list[str]          # what to call it instead of the name: ["her dog", "the dog"]
    role: str = ""            # "hero", "pet", "friend", "parent", "object", "helper"
    last: int = -10**6        # token position of the last time the name was said
    gap: int = 0              # say the name again once this many tokens have passed
    p_near: float = 0.3       # chance the next gap is short (a near re-mention)
    seen: int = -10           # index of the last sentence that referred to it
    away: bool = False        # out of the scene: nothing refers to it until it comes back

    def pro(self, case: str = "subj") -> str:
        return PRONOUNS[self.pronoun][CASES[case]]


@dataclass
class Sentence:
    text: str
    shape: str                        # the production that made it, e.g. "clause/because"
    start: int                        # token position of its first token (<s> is position 0)
    tokens: int
    mentions: list = field(default_factory=list)     # (name, token position of its first piece)
    refs: list = field(default_factory=list)         # (entity role, word used for it)


@dataclass
class Plan:
    """A story as generated: its plot, cast and sentences (the text is ' '.join of the sentences)."""
    plot: str
    cast: dict
    sentences: list
    window: int
    layers: int

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


class Teller:
    """Writes one story: keeps the token position, decides name or pronoun, records each sentence."""

    def __init__(self, rng: random.Random, window: int, layers: int):
        self.rng, self.window, self.layers = rng, window, layers
        self.reach = layers * (window - 1)
        self.pos = 1                        # the next token's position; <s> is 0
        self.sentences: list[Sentence] = []
        self.recent: dict = {}              # pronoun -> entity it refers to right now
        self.cast: dict[str, Entity] = {}
        self.place = w.PLACES["park"]
        self.place_name = "park"
        self.pending: list = []             # refs made for the sentence being written
        self.budget = MAX_TOKENS
        self.deck: list = []                # middle productions not used yet, in a drawn order

    # --- choosing ---
    def pick(self, options):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- cast ---
    def add(self, e: Entity) -> Entity:
        self.cast[e.role] = e
        return e

    def present(self, *roles) -> list[Entity]:
        return [self.cast[r] for r in roles if r in self.cast and not self.cast[r].away]

    # --- naming ---
    def next_gap(self, e: Entity) -> int:
        """Tokens to wait before naming e again: 1 (next time: near) or W+1 .. 0.6 reach (mid)."""
        if self.chance(e.p_near):
            return 1
        return self.rng.randint(self.window + 1, max(self.window + 2, int(0.6 * self.reach)))

    def name(self, e: Entity, case: str = "subj") -> str:
        """Always the name (introductions, calling someone in dialogue)."""
        e.last, e.gap = self.pos, self.next_gap(e)
        self._note(e, e.name)
        return e.name + ("'s" if case == "pos" else "")

    def ref(self, e: Entity, case: str = "subj") -> str:
        """The name if it is due, else a pronoun if it is clear, else a description, else the name."""
        if e.name and self.pos - e.last >= e.gap:
            return self.name(e, case)
        if self.recent.get(e.pronoun) is e and (e.role == "hero" or len(self.sentences) - e.seen <= 1):
            word = e.pro(case)
        elif e.nouns:
            word = self.pick(e.nouns) + ("'s" if case == "pos" else "")
        else:
            return self.name(e, case)
        self._note(e, word)
        return word

    def np(self, e: Entity, case: str = "subj") -> str:
        """Name or description, never a pronoun (for 'Lily and her dog')."""
        if e.name and (self.pos - e.last >= e.gap or not e.nouns):
            return self.name(e, case)
        word = self.pick(e.nouns) + ("'s" if case == "pos" else "")
        self._note(e, word)
        return word

    def _note(self, e: Entity, word: str):
        self.recent[e.pronoun] = e
        e.seen = len(self.sentences)
        self.pending.append((e.role, word))

    def said(self, e: Entity, verb: str = "said") -> str:
        """'said Lily' after a quote, or 'she said' (a pronoun goes before the verb)."""
        who = self.ref(e)
        return f"{verb} {who}" if who[0].isupper() else f"{who} {verb}"

    # --- writing ---
    def say(self, text: str, shape: str):
        """Add one sentence (or a short run of them): fix articles, count tokens, find the names."""
        text = cap(articles(text))
        assert "{" not in text, text          # every {pos} / {self} was filled
        start, mentions, pos = self.pos, [], self.pos
        for chunk in text.split(" "):
            hit = NAME_IN_CHUNK.search(chunk)
            if hit and hit.group(1) in self.names():
                lead = chunk[:hit.start(1)]
                mentions.append((hit.group(1), pos + (PIECES.count(lead) if lead else 0)))
            pos += PIECES.count(chunk)
        for name, p in mentions:
            self.by_name(name).last = p
        self.sentences.append(Sentence(text, shape, start, pos - start, mentions, self.pending))
        self.pending = []
        self.pos = pos

    def names(self) -> set[str]:
        return {e.name for e in self.cast.values() if e.name}

    def by_name(self, name: str) -> Entity:
        return next(e for e in self.cast.values() if e.name == name)

    def leave(self, e: Entity):
        e.away = True

    def back(self, e: Entity):
        e.away, e.gap = False, 0


NAME_IN_CHUNK = re.compile(r"\b([A-Z][a-z]+)\b")
