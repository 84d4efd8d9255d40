"""How a story is written: the teller, the phrases, the sentence productions and the plots.

corpus.py is the interface (story, the split, token streams, name mentions, statistics); this
module makes the sentences. A Teller keeps the story's position in tokens and decides, each time
a character is referred to, whether to say the name, a pronoun or a description; productions
(m_...) each write one sentence shape from the word lists in words.py; plots (plot_...) put
beats in order and fill the middle with productions.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from . import words as w

MIN_TOKENS, MAX_TOKENS = 150, 400      # story length in tokens, <s> and </s> included
ENDING_RESERVE = 110         # tokens kept free for the last beats while the middle is filled
ENDING_GUESS = 75            # tokens the last beats usually take, for aiming at a story's length

NAMES = frozenset(w.GIRL_NAMES + w.BOY_NAMES + w.PET_NAMES)
PRONOUNS = {"she": ("she", "her", "her", "herself"), "he": ("he", "him", "his", "himself"),
            "it": ("it", "it", "its", "itself"), "they": ("they", "them", "their", "themselves")}
CASES = {"subj": 0, "obj": 1, "pos": 2, "self": 3}


# ----------------------------------------------------------------------------------------------
# English morphology: just enough for the word lists
# ----------------------------------------------------------------------------------------------

IRREGULAR = {b: (p, pp) for b, p, pp in (x.split() for x in w.IRREGULAR_VERBS.split(";"))}
VOWELS = "aeiou"


def _verb_form(verb: str, form: str) -> str:
    """One verb word in form 'past', 'pp' (participle), 'ing' or '3s': go -> went, gone, going, goes."""
    if form in ("past", "pp") and verb in IRREGULAR:
        return IRREGULAR[verb][0 if form == "past" else 1]
    if form == "3s":
        if verb in ("be", "have", "do", "go"):
            return {"be": "is", "have": "has", "do": "does", "go": "goes"}[verb]
        if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
            return verb + "es"
        return verb[:-1] + "ies" if verb[-1] == "y" and verb[-2] not in VOWELS else verb + "s"
    stem = verb + verb[-1] if verb in w.DOUBLING_VERBS else verb
    if form == "ing":
        if verb.endswith("ie"):
            return verb[:-2] + "ying"
        if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
            return verb[:-1] + "ing"
        return stem + "ing"
    if verb.endswith("e"):
        return verb + "d"
    return verb[:-1] + "ied" if verb[-1] == "y" and verb[-2] not in VOWELS else stem + "ed"


LEADING_ADVERBS = {"nearly", "almost", "just", "always", "never", "soon", "quickly", "slowly", "quietly"}
REFLEXIVE = {"his": "himself", "her": "herself", "its": "itself", "their": "themselves", "my": "myself",
             "our": "ourselves", "{pos}": "{self}"}


def inflect(vp: str, form: str, pos: str = "their") -> str:
    """A base-form verb phrase with its first word in `form` ('base' keeps it), {pos} / {self} filled
    for a subject whose possessive is `pos` (pos="{pos}" keeps the placeholders for later).

        inflect("dig a big hole", "past") -> 'dug a big hole'
        inflect("wag {pos} tail", "ing", pos="his") -> 'wagging his tail'
    """
    first, _, rest = vp.partition(" ")
    if first in LEADING_ADVERBS:          # "nearly fall" -> "nearly fell"
        return first + " " + inflect(rest, form, pos)
    head = first if form == "base" else _verb_form(first, form)
    return (head + (" " + rest if rest else "")).format(pos=pos, self=REFLEXIVE[pos])


def speak(vp: str, we: bool = False) -> str:
    """A verb phrase in the mouth of the speaker: {pos} -> my (our)."""
    return inflect(vp, "base", "our" if we else "my")


PLACE_WORDS = re.compile(r"\b(in|on|at|by|to|into|onto|down|up|along|across|over|around|round|under|through|"
                         r"behind|past|near|out of|towards)\b")


def has_place(vp: str) -> bool:
    """Does the verb phrase already say where ('swim in the sea')? Then no second place is added."""
    return bool(PLACE_WORDS.search(vp))


def plural(noun: str) -> str:
    """bus -> buses, puppy -> puppies, teddy bear -> teddy bears, mouse -> mice."""
    *front, last = noun.split(" ")
    if last in w.IRREGULAR_PLURALS:
        last = w.IRREGULAR_PLURALS[last]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        last += "es"
    elif last[-1] == "y" and last[-2] not in VOWELS:
        last = last[:-1] + "ies"
    else:
        last += "s"
    return " ".join(front + [last])


AN_EXCEPTIONS = re.compile(r"\b([Aa]) (?=(?:[aeio]|u(?!ni|se|su))\w)")


def articles(text: str) -> str:
    """a apple -> an apple, a old man -> an old man (but a unicorn, a useful)."""
    return AN_EXCEPTIONS.sub(r"\1n ", text)


def cap(text: str) -> str:
    """The first letter in upper case (after any opening quote)."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def a(noun: str) -> str:
    return articles("a " + noun)


def count_of(n: int, noun: str) -> str:
    """count_of(3, 'duck') -> 'three ducks'."""
    return f"{w.NUMBERS[n - 1]} {noun if n == 1 else plural(noun)}"


# ----------------------------------------------------------------------------------------------
# token counting: distances are planned in tokens of the real tokenizer
# ----------------------------------------------------------------------------------------------

class _Pieces:
    """Tokens per space-separated chunk, cached. SentencePiece splits text at spaces before merging,
    so the tokens of a story are the sum over its chunks (checked in the tests)."""

    def __init__(self):
        self.sp, self.cache = None, {}

    def count(self, chunk: str) -> int:
        n = self.cache.get(chunk)
        if n is None:
            if self.sp is None:
                from .corpus import (
                    tokenizer,  # the shipped tokenizer; imported late, corpus imports us
                )
                self.sp = tokenizer().sp
            n = self.cache[chunk] = len(self.sp.encode(chunk))
        return n


PIECES = _Pieces()


# ----------------------------------------------------------------------------------------------
# the cast and the teller: who is named when, and where the story is in tokens
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# phrases: things, places, verb phrases
# ----------------------------------------------------------------------------------------------

def _split_things(text: str) -> list[str]:
    """'teddy bear toy car ball' -> ['teddy bear', 'toy car', 'ball'] using the first words that pair."""
    tokens, out, i = text.split(), [], 0
    while i < len(tokens):
        pair = " ".join(tokens[i:i + 2])
        if pair in COMPOUNDS:
            out.append(pair)
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


COMPOUNDS = {"teddy bear", "toy car", "toy train", "toy boat", "spinning top", "building block",
             "rubber duck", "jump rope", "music box", "paper plane", "toy soldier", "rag doll",
             "toy horse", "toy dinosaur", "watering can", "fishing rod", "pine cone", "ice cream",
             "toy ship"}
THING_LISTS = {kind: _split_things(text) for kind, text in w.THINGS.items()}
FOOD_LISTS = {kind: _split_things(nouns) for kind, (nouns, _, _) in w.FOODS.items()}


@dataclass
class Thing:
    noun: str
    kind: str
    adj: str

    def np(self, det: str = "a") -> str:
        return f"{det} {self.adj} {self.noun}" if det != "a" else a(f"{self.adj} {self.noun}")


def new_thing(t: Teller, kinds=("toy", "clothes", "paper", "home", "nature")) -> Thing:
    kind = t.pick(kinds)
    noun = t.pick(THING_LISTS[kind])
    adj = t.pick(w.THING_ADJECTIVES[kind].split() + w.COLOURS)
    return Thing(noun, kind, adj)


def loose_thing(t: Teller) -> Thing:
    """Something one could come across here: household things only at home."""
    return new_thing(t, ("toy", "clothes", "paper", "home", "nature", "little") if t.place_name == "home"
                     else ("toy", "clothes", "nature", "little"))


def thing_vp(t: Teller, thing: Thing, det: str = "a") -> str:
    verb = t.pick(w.THING_VERBS["any"] + w.THING_VERBS[thing.kind])
    return f"{verb} {thing.np(det)}"


def food_np(t: Teller) -> str:
    """'a juicy pear', 'some pears', 'some warm bread' (mass nouns never take 'a')."""
    return food_and_verb(t)[0]


def food_and_verb(t: Teller) -> tuple[str, str]:
    """A food phrase and a verb that suits it: ('some warm bread', 'bake')."""
    kind = t.pick(list(w.FOODS))
    food, (_, adjectives, verbs) = t.pick(FOOD_LISTS[kind]), w.FOODS[kind]
    adj = t.pick(adjectives.split())
    if food in w.PLURAL_FOODS or (food not in w.MASS_FOODS and t.chance(0.3)):
        phrase = f"some {plural(food)}"
    elif food in w.MASS_FOODS:
        phrase = f"some {adj} {food}" if t.chance(0.5) else f"some {food}"
    else:
        phrase = a(f"{adj} {food}")
    return phrase, t.pick(verbs)


def food_vp(t: Teller) -> str:
    if t.chance(0.2):
        return f"{t.pick(w.DRINK_VERBS)} some {t.pick(w.DRINKS)}"
    phrase, verb = food_and_verb(t)
    return f"{verb} {phrase}"


def spot(t: Teller) -> str:
    return t.pick(t.place["spots"].split("|"))


def where(t: Teller) -> str:
    """A place phrase in the current scene: 'near the pond', 'by the old oak'."""
    return f"{t.pick(['near', 'by', 'next to', 'beside', 'close to', 'not far from'])} the {spot(t)}"


def home_where(t: Teller) -> str:
    return f"{t.pick(w.PREPOSITIONS)} the {t.pick(w.HOME_SPOTS)}"


def move_vp(t: Teller) -> str:
    return f"{t.pick(w.MOTION_VERBS)} {t.pick(w.MOTION_PREPOSITIONS)} the {spot(t)}"


def activity(t: Teller) -> str:
    return t.pick(t.place["acts"].split("|"))


def person_vp(t: Teller) -> str:
    """Something a child does in the current scene (base form)."""
    r = t.rng.random()
    if r < 0.35:
        return activity(t)
    if r < 0.55:
        return thing_vp(t, loose_thing(t))
    if r < 0.75:
        return move_vp(t)
    return food_vp(t)


def animal_here(t: Teller) -> str:
    return t.pick(t.place["animals"].split())


def animal_action(animal: str) -> list[str]:
    return w.ANIMAL_ACTIONS[w.ANIMALS.get(animal, "small")]


def person_here(t: Teller) -> Entity:
    desc, pronoun = t.pick(t.place["people"].split("|")).split(":")
    return Entity(None, "person", pronoun, [desc.replace("an ", "the ", 1).replace("a ", "the ", 1)],
                  role="helper")


def conj(t: Teller, subj, vp: str, form: str) -> str:
    """Subject + verb phrase. subj is an Entity (referred to now) or a (text, pronoun) pair;
    form is 'past', 'base', 'ing', 'pp' or 'prog' (was / were + -ing)."""
    if isinstance(subj, Entity):
        who, pronoun = t.ref(subj), subj.pronoun
    else:
        who, pronoun = subj
    pos, many = PRONOUNS[pronoun][2], pronoun == "they"
    if form == "prog":
        return f"{who} {'were' if many else 'was'} {inflect(vp, 'ing', pos)}"
    if form == "past" and many and vp.startswith("be "):
        return f"{who} were {vp[3:]}"
    return f"{who} {inflect(vp, form, pos)}"


def team(t: Teller, roles=("hero", "friend", "parent")) -> tuple[str, str]:
    """Everyone of `roles` who is present, as one subject: ('Lily and Leo', 'they'), or 'they'
    when the same group was named in the last sentence."""
    group = t.present(*roles)
    if len(group) == 1:
        return (t.ref(group[0]), group[0].pronoun)
    if t.recent.get("they") == tuple(group) and len(t.sentences) - group[0].seen <= 1:
        for e in group:
            e.seen = len(t.sentences)
        return ("they", "they")
    names = [t.np(e) for e in group]
    t.recent["they"] = tuple(group)
    return (", ".join(names[:-1]) + " and " + names[-1], "they")


def actor(t: Teller) -> Entity:
    """A person of the scene to be the subject: mostly the hero."""
    people = t.present("hero", "friend")
    return people[0] if len(people) == 1 or t.chance(0.7) else people[1]


def pet_here(t: Teller):
    pets = t.present("pet")
    return pets[0] if pets else None


def feeling(t: Teller) -> str:
    return t.pick(w.FEELINGS)


def reason(t: Teller, e: Entity, how: str) -> str:
    """A 'because' clause for feeling `how`, in the words of e's pronoun."""
    options = w.FEELING_REASONS.get(how) or w.FEELING_REASONS["happy"]
    return t.pick(options).format(he=e.pro(), his=e.pro("pos"))


def other(t: Teller, e: Entity) -> Entity:
    """Someone else in the scene to answer e: a friend, the hero, a parent, or a stranger there."""
    people = [x for x in t.present("hero", "friend", "parent") if x is not e]
    if people:
        return t.pick(people)
    if "helper" not in t.cast or t.cast["helper"].away:
        t.add(person_here(t))
    return t.cast["helper"]


def seen_vp(t: Teller) -> str:
    """What someone notices (base form): 'see three ducks swimming in the water'."""
    animal = animal_here(t)
    r = t.rng.random()
    if r < 0.45:
        n = t.rng.randint(1, 6)
        return f"see {count_of(n, animal)} {t.pick(animal_action(animal))}"
    if r < 0.7:
        return f"notice {new_thing(t, ('toy', 'clothes', 'nature')).np()} {where(t)}"
    if r < 0.85 and animal in w.ANIMAL_SOUNDS:
        return f"hear {a(animal)} {inflect(w.ANIMAL_SOUNDS[animal], 'ing')} {where(t)}"
    return f"spot {a(t.pick(w.SIZES + w.COLOURS) + ' ' + animal)} {where(t)}"


FEELING_ACTS = {   # "she was tired, so she ..." (base forms)
    "tired": ["sit down for a rest", "lie down on the grass", "yawn and rub {pos} eyes", "have a little nap"],
    "hungry": ["eat a sandwich", "open {pos} lunch box", "ask for a snack", "eat some vegetables"],
    "thirsty": ["drink some water", "ask for a glass of juice", "drink a whole cup of milk"],
    "bored": ["look for something to do", "count the clouds", "sing a silly song", "draw a picture"],
    "curious": ["take a closer look", "peek behind the {spot}", "ask a lot of questions"],
    "excited": ["jump up and down", "clap {pos} hands", "run all the way", "shout with joy"],
    "cold": ["put on {pos} coat", "wrap {pos} scarf around {pos} neck", "rub {pos} hands together"],
    "happy": ["sing a little song", "skip along the path", "smile at everyone"],
    "scared": ["hide behind a tree", "hold on tight", "close {pos} eyes"],
    "sad": ["sit down on a step", "look at the ground", "wipe away a tear"],
    "hot": ["sit in the shade", "take off {pos} hat", "splash some water on {pos} face"],
}

UNTIL_ENDS = ["the sun went down", "it was time for lunch", "it got dark", "{he} was too tired to go on",
              "the bell rang", "it started to rain", "{his} legs were tired", "{parent} called {him}",
              "the stars came out", "everyone was hungry"]


def m_act(t):                                           # S V O PP.
    vp = person_vp(t)
    t.say(f"{conj(t, actor(t), vp, 'past')}{'' if has_place(vp) else ' ' + where(t)}.", "svo+place")


def m_time_act(t):                                      # Time, S V O.
    t.say(f"{t.pick(w.TIME_OPENERS)}, {conj(t, actor(t), person_vp(t), 'past')}.", "time+svo")


def m_team(t):                                          # A and B V O together.
    how = t.pick(["together", "for a while", "all morning", "for a long time", "again and again", "happily"])
    t.say(f"{conj(t, team(t), activity(t), 'past')} {how}.", "group+vp")


def m_because(t):                                       # S was FEELING because ...
    e, how = actor(t), t.pick(list(w.FEELING_REASONS))
    t.say(f"{conj(t, e, 'be ' + t.pick(w.DEGREE) + ' ' + how, 'past')} because {reason(t, e, how)}.",
          "clause/because")


def m_because_act(t):                                   # S V O because S wanted to V.
    e = actor(t)
    first = conj(t, e, person_vp(t), "past")
    t.say(f"{first} because {e.pro()} wanted to {inflect(activity(t), 'base', e.pro('pos'))}.", "clause/because-want")


def m_so(t):                                            # S was FEELING, so S V.
    e, how = actor(t), t.pick(list(FEELING_ACTS))
    first = conj(t, e, f"be {how}", "past")
    vp = t.pick(FEELING_ACTS[how]).replace("{spot}", spot(t))
    t.say(f"{first}, so {conj(t, e, vp, 'past')}.", "clause/so")


def m_when(t):                                          # When S V, S saw ...
    e = actor(t)
    first = conj(t, e, move_vp(t), "past")
    t.say(f"When {first}, {conj(t, e, seen_vp(t), 'past')}.", "clause/when")


def m_but(t):                                           # S tried to V, but ...
    e = actor(t)
    first = conj(t, e, "try to " + t.pick([activity(t), move_vp(t)]), "past")
    trouble = t.pick(["it was too hard", "it was too far", f"{e.pro()} was too {t.pick(['small', 'tired', 'slow'])}",
                      "the wind was too strong", "it started to rain", f"{e.pro()} slipped and fell",
                      "the gate was locked", "the path was too muddy"])
    t.say(f"{first}, but {trouble}.", "clause/but")


def m_then(t):                                          # S V, and then S V.
    e = actor(t)
    first = conj(t, e, person_vp(t), "past")
    t.say(f"{first}, and then {e.pro()} {inflect(person_vp(t), 'past', e.pro('pos'))}.", "clause/then")


def m_after(t):                                         # After S V, S V.
    e = actor(t)
    first = conj(t, e, t.pick([food_vp(t), activity(t)]), "past")
    t.say(f"After {first}, {e.pro()} {inflect(person_vp(t), 'past', e.pro('pos'))}.", "clause/after")


def m_before(t):                                        # Before S V, S V.
    e = actor(t)
    first = conj(t, e, t.pick(["go home", "leave", "go inside", "sit down", "say goodbye"]), "past")
    last = t.pick(["take one more look around", "wave to the " + animal_here(t) + "s",
                   "pick up all {pos} things", "wash {pos} hands", "have a drink of water"])
    t.say(f"Before {first}, {e.pro()} {inflect(last, 'past', e.pro('pos'))}.", "clause/before")


def m_while(t):                                         # While S was V-ing, an animal V.
    e = actor(t)
    first = conj(t, e, activity(t), "prog")
    animal = animal_here(t)
    did = t.pick(["watched", "sat down nearby", "ran past", "looked at " + e.pro("obj")])
    t.say(f"While {first}, {a(animal)} came and {did}.", "clause/while")


def m_until(t):                                         # S V until ...
    e = actor(t)
    grown_up = t.cast["parent"].nouns[0]
    end = t.pick(UNTIL_ENDS).format(he=e.pro(), his=e.pro("pos"), him=e.pro("obj"), parent=grown_up)
    t.say(f"{conj(t, e, activity(t), 'past')} until {end}.", "clause/until")


def m_if(t):                                            # "If we V, we can V," said S.
    e = actor(t)
    first, then = t.rng.sample(t.place["acts"].split("|"), 2)
    t.say(f'"If we {speak(first, True)}, we can {speak(then, True)} later," {t.said(e)}.', "dialogue/if")


def m_sequence(t):                                      # First ... Then ... After that ... Finally ...
    e = actor(t)
    acts = t.place["acts"].split("|")
    steps = [inflect(x, "past", e.pro("pos")) for x in t.rng.sample(acts, 3)]
    t.say(f"First, {t.ref(e)} {steps[0]}. Then {e.pro()} {steps[1]}. After that, {e.pro()} {steps[2]}.",
          "sequence")


def m_saw(t):                                           # S saw N animals V-ing.
    t.say(f"{conj(t, actor(t), seen_vp(t), 'past')}.", "perception")


def m_there_were(t):                                    # There were N animals PP.
    animal, n = animal_here(t), t.rng.randint(2, 9)
    t.say(f"There were {count_of(n, animal)} {where(t)}, and one of them was {t.pick(w.SIZES + w.ANIMAL_LOOKS)}.",
          "description/there-were")


def m_place(t):                                         # The place was ADJ and ADJ.
    adj1, adj2 = t.rng.sample(["quiet", "busy", "big", "sunny", "green", "pretty", "noisy", "peaceful",
                                "full of people", "cool", "bright", "lovely", "wet", "muddy"], 2)
    name = t.place.get("name", t.place_name)
    t.say(f"The {name} was {adj1} and {adj2}, and {t.pick(w.WEATHER_SENTENCES)}.", "description/place")


def m_spot(t):                                          # The spot was ADJ, with ...
    thing = new_thing(t, ("nature",))
    t.say(f"The {spot(t)} was {t.pick(w.PLACE_LOOKS)}, and there was {thing.np()} on the {t.place['ground']}.",
          "description/spot")


def m_weather(t):                                       # Time, weather and weather.
    one, two = t.rng.sample(w.WEATHER_SENTENCES, 2)
    t.say(f"{t.pick(w.TIME_OPENERS)}, {one} and {two}.", "description/weather")


def m_found(t):                                         # S found a thing PP. It was ADJ.
    e, thing = actor(t), loose_thing(t)
    t.say(f"{conj(t, e, 'find ' + thing.np(), 'past')} {where(t)}. It was {t.pick(w.DEGREE)} "
          f"{t.pick(w.THING_LOOKS)}.", "found+description")


def m_give(t):                                          # S gave X to S2.
    e = actor(t)
    them = other(t, e)
    what = t.pick([food_np(t), new_thing(t, ("toy", "nature")).np()])
    t.say(f"{conj(t, e, 'give ' + what, 'past')} to {t.ref(them, 'obj')}.", "give")


def m_pet(t):                                           # P did a trick PP.
    pet = pet_here(t)
    if not pet:
        return m_saw(t)
    trick = t.pick(w.PETS[pet.kind]["tricks"])
    t.say(f"{conj(t, pet, trick, 'past')} {where(t)}.", "pet/trick")


def m_pet_sound(t):                                     # P barked at the animal.
    pet = pet_here(t)
    if not pet:
        return m_heard(t)
    animal = animal_here(t)
    sound = inflect(w.PETS[pet.kind]["sound"], "past")
    who = t.ref(pet)
    then = t.pick(["ran away", "did not move", "looked back", "hid"])
    t.say(f"{who} {sound} at {a(animal)}, and the {animal} {then}.", "pet/sound")


def m_pet_move(t):                                      # P moved PP, and S followed.
    pet = pet_here(t)
    if not pet:
        return m_act(t)
    move = inflect(w.PETS[pet.kind]["move"], "past")
    who = t.ref(pet)
    t.say(f"{who} {move} {t.pick(w.MOTION_PREPOSITIONS)} the {spot(t)}, and {t.ref(actor(t))} "
          f"{t.pick(['followed', 'laughed', 'ran after', 'called after', 'watched'])} {pet.pro('obj')}.", "pet/move")


def m_heard(t):                                         # S heard an animal V-ing PP.
    animal = t.pick([x for x in t.place["animals"].split() if x in w.ANIMAL_SOUNDS] or ["bird"])
    sound = inflect(w.ANIMAL_SOUNDS.get(animal, "sing"), "ing")
    t.say(f"{conj(t, actor(t), 'hear ' + a(animal) + ' ' + sound, 'past')} {where(t)}.", "perception/heard")


def m_q_where(t):                                       # "Where are the ...?" asked S. "Over there," ...
    e = actor(t)
    animal = plural(animal_here(t))
    ask = f'"Where are the {animal}?" {t.said(e, "asked")}.'
    t.say(f'{ask} "Over there, {where(t)}," {t.said(other(t, e), "answered")}.', "question/where")


def m_q_what(t):                                        # "What is that?" whispered S.
    e = actor(t)
    ask = f'"What is that?" {t.said(e, "whispered")}.'
    answer = f'"It is just {a(t.pick(w.ANIMAL_LOOKS) + " " + animal_here(t))}," {t.said(other(t, e), "answered")}.'
    t.say(f"{ask} {answer}", "question/what")


def m_q_who(t):                                         # "Who left this here?" asked S.
    e, thing = actor(t), new_thing(t, ("toy", "clothes", "paper"))
    t.say(f'"Who left this {thing.noun} {where(t)}?" {t.said(e, "asked")}. Nobody knew.', "question/who")


def m_q_why(t):                                         # "Why is the ... ?" "Because ..."
    e = actor(t)
    animal = animal_here(t)
    act = t.pick(animal_action(animal))
    ask = f'"Why is the {animal} {act}?" {t.said(e, "asked")}.'
    because = t.pick(["it is hungry", "it is tired", "it likes the sun", "it is looking for its friends",
                      "it wants to play", "that is what it does every day"])
    t.say(f'{ask} "Because {because}," {t.said(other(t, e), "answered")}.', "question/why")


def m_q_how_many(t):                                    # "How many ... can you see?" "I can see N!"
    e = actor(t)
    animal = animal_here(t)
    ask = f'"How many {plural(animal)} can you see?" {t.said(e, "asked")}.'
    t.say(f'{ask} "I can see {w.NUMBERS[t.rng.randint(1, 11)]}!" {t.said(other(t, e), "answered")}.',
          "question/how-many")


def m_shout(t):                                         # "Watch out!" shouted S.
    t.say(f'"{t.pick(w.EXCLAMATIONS)}!" {t.said(actor(t), t.pick(["shouted", "cried", "called", "yelled"]))}.',
          "dialogue/shout")


def m_whisper(t):                                       # "..." whispered S to S2.
    e = actor(t)
    said = t.said(e, "whispered")
    t.say(f'"{t.pick(w.SECRETS)}," {said} to {t.ref(other(t, e), "obj")}.', "dialogue/whisper")


def m_will(t):                                          # "Tomorrow I will V," said S.
    e = actor(t)
    when = t.pick(["Tomorrow", "Next time", "One day", "When I am big", "After lunch"])
    t.say(f'"{when} I will {speak(activity(t))}," {t.said(e)}.', "dialogue/will")


def m_lets(t):                                          # "Let's V!" said S.
    e = actor(t)
    t.say(f'"Let\'s {speak(activity(t), True)}!" {t.said(e)}. "Yes, let\'s!" {t.said(other(t, e), "answered")}.',
          "dialogue/lets")


def m_want(t):                                          # "I want to V," said S. "Me too," ...
    e = actor(t)
    t.say(f'"I want to {speak(activity(t))}," {t.said(e)}.', "dialogue/want")


def m_like(t):                                          # "I like ducks. They are so funny," said S.
    e = actor(t)
    animal = plural(animal_here(t))
    t.say(f'"I like {animal}. They are so {t.pick(w.ANIMAL_LOOKS)}," {t.said(e)}.', "dialogue/present")


def m_pet_habit(t):                                     # "P loves bones," said S. "He ... every day."
    pet = pet_here(t)
    if not pet:
        return m_like(t)
    e, info = actor(t), w.PETS[pet.kind]
    habit = inflect(t.pick(info["tricks"]), "3s", pet.pro("pos"))
    best = t.pick(["softest", "shiniest", "nicest"])
    then = t.pick([f"{habit} every day", f"has the {best} {info['cover']} in the world",
                   f"{inflect(info['sound'], '3s')} when {pet.pro()} is happy"])
    t.say(f'"{t.name(pet)} loves {info["food"]}," {t.said(e)}. "And {pet.pro()} {then}."',
          "dialogue/present-habit")


def m_going_to(t):                                      # S was going to V when ...
    e = actor(t)
    first = conj(t, e, "be going to " + activity(t), "past")
    t.say(f"{first} when {a(animal_here(t))} {t.pick(['came along', 'appeared', 'came closer', 'got in the way'])}.",
          "clause/was-going-to")


def m_never(t):                                         # S had never seen such a ... before.
    e = actor(t)
    what = t.pick([t.pick(w.ANIMAL_LOOKS) + " " + animal_here(t), t.pick(w.THING_LOOKS) + " " + loose_thing(t).noun])
    t.say(f"{conj(t, e, 'have never seen such ' + a(what) + ' before', 'past')}.",
          "past-perfect")


def m_felt(t):                                          # S felt X and Y.
    e = actor(t)
    one, two = t.rng.sample(t.pick([w.GOOD_FEELINGS, w.BAD_FEELINGS]), 2)     # never "sad and cheerful"
    t.say(f"{conj(t, e, f'feel {one} and {two}', 'past')}.", "feeling")


def m_decide(t):                                        # S decided to V. S asked S2 to come too.
    e = actor(t)
    verb = t.pick(["decide", "want", "hope", "plan", "love", "like"])
    t.say(f"{conj(t, e, f'{verb} to {activity(t)}', 'past')}.", "infinitive")


def m_start(t):                                         # S started V-ing.
    e = actor(t)
    verb = t.pick(["start", "begin", "love", "keep", "stop", "enjoy"])
    t.say(f"{conj(t, e, f'{verb} ' + inflect(activity(t), 'ing', '{pos}'), 'past')}.", "gerund")


def m_compare(t):                                       # The animal was bigger than P.
    pet = pet_here(t)
    animals = t.place["animals"].split()
    animal = t.pick(animals)
    than = t.ref(pet, "obj") if pet else f"the {t.pick([x for x in animals if x != animal] or ['cat'])}"
    size = t.pick(["bigger", "smaller", "faster", "slower", "louder", "quieter", "taller", "older"])
    t.say(f"The {animal} was {size} than {than}.", "comparison")


def m_exclaim(t):                                       # What a ADJ day it was!
    day = a(t.pick(["lovely", "busy", "strange", "funny", "wonderful", "long"]))
    how = t.pick(["tall", "big", "small", "noisy", "funny", "quick"])
    what = t.pick([f"What {day} day it was!", f"How {how} the {plural(animal_here(t))} were!"])
    t.say(what, "exclamation")


def m_have_count(t):                                    # S had N things, and S2 had M.
    e = actor(t)
    them = other(t, e)
    thing = t.pick(THING_LISTS["nature"] + THING_LISTS["toy"])
    n, m = t.rng.sample(range(1, 13), 2)
    t.say(f"{conj(t, e, 'have ' + count_of(n, thing), 'past')}, and {t.ref(them)} had {w.NUMBERS[m - 1]}.",
          "counting")


def m_adverb(t):                                        # ADVERB, S V.
    adv = t.pick(w.ADVERBS).capitalize()
    t.say(f"{adv}, {conj(t, actor(t), t.pick([move_vp(t), activity(t)]), 'past')}.", "adverb+vp")


def m_point(t):                                         # S pointed at the X and laughed.
    e = actor(t)
    t.say(f"{conj(t, e, 'point at the ' + spot(t), 'past')} and {t.pick(['laughed', 'smiled', 'giggled', 'gasped'])}.",
          "svo+and")


def m_call(t):                                          # "Come here, P!" called S. P came running.
    pet = pet_here(t)
    e = actor(t)
    if not pet:
        return m_shout(t)
    call = f'"{t.pick(["Come here", "Look", "Where are you", "Good", "Wait"])}, {t.name(pet)}!" {t.said(e, "called")}.'
    move = inflect(w.PETS[pet.kind]["move"], "past")
    came = f"{t.name(pet)} {move}"
    t.say(f"{call} {came} {t.pick(['over', 'back', 'to ' + e.pro('obj'), 'across the ' + t.place['ground']])}.",
          "dialogue/call")


# more middle productions: the body, the family, seasons, choices, pretend play, small events

def m_body(t):                                          # S rubbed her eyes and smiled.
    e = actor(t)
    verb, part = t.pick(w.BODY_ACTIONS)
    t.say(f"{conj(t, e, f'{verb} {{pos}} {part}', 'past')}{t.pick(w.BODY_TAILS)}.", "body")


def m_family(t):                                        # Her brother was washing the dishes.
    e = actor(t)
    relative, _ = t.pick(w.RELATIVES)
    job = t.pick(w.HOUSE_JOBS)
    t.say(*t.pick([
        lambda: (f"{t.ref(e, 'pos')} {relative} was {inflect(job, 'ing')}.", "family/was-doing"),
        lambda: (f"{conj(t, e, 'help ' + '{pos} ' + relative + ' ' + job, 'past')}.", "family/helped"),
        lambda: (f"{t.np(e)} and {e.pro('pos')} parents {inflect(job, 'past', 'their')} together.", "family/parents"),
        lambda: (f"{t.ref(e, 'pos')} {relative} worked at the {t.pick(w.WORKPLACES)}.", "family/worked"),
    ])())


def m_season(t):                                        # It was spring, and ...
    season = t.pick(list(w.SEASON_SCENES))
    one, two = t.rng.sample(w.SEASON_SCENES[season], 2)
    t.say(f"It was {season}, and {one}. {cap(two)}.", "description/season")


def m_choice(t):                                        # "Do you want A or B?" "B, please."
    e = actor(t)
    helper = other(t, e)
    ask = f'"What do you want to eat?" {t.said(helper, "asked")}.'
    t.say(f'{ask} "Can I have {food_np(t)}, please?" {t.said(e, "answered")}.', "question/what-want")


def m_or(t):                                            # "Shall we A or B?" asked S.
    e = actor(t)
    first, second = t.rng.sample(t.place["acts"].split("|"), 2)
    t.say(f'"Shall we {speak(first, True)} or {speak(second, True)}?" {t.said(e, "asked")}.', "question/or")


def m_only(t):                                          # There was only one X left, so ...
    e = actor(t)
    food = t.pick(FOOD_LISTS["baked"] + FOOD_LISTS["fruit"])
    them = other(t, e)
    t.say(f"There was only one {food} left, so {conj(t, e, 'share it with ', 'past')}{t.ref(them, 'obj')}.",
          "clause/only-so")


def m_still(t):                                         # S was still X, but ...
    e = actor(t)
    t.say(f"{conj(t, e, 'be still ' + t.pick(w.FEELINGS), 'past')}, but {e.pro()} did not say anything.",
          "clause/still-but")


def m_instead(t):                                       # S wanted to A, but ..., so S B instead.
    e = actor(t)
    first, second = t.rng.sample(t.place["acts"].split("|"), 2)
    why = t.pick(["it was raining", "it was too late", "it was too cold", "the others were busy",
                  "it was getting dark"])
    t.say(f"{conj(t, e, 'want to ' + first, 'past')}, but {why}, so {e.pro()} "
          f"{inflect(second, 'past', e.pro('pos'))} instead.", "clause/instead")


def m_nearly(t):                                        # S nearly fell over the log, but ...
    e = actor(t)
    what = t.pick([f"fall over the {spot(t)}", "slip on a wet leaf", "drop {pos} lunch", "lose {pos} hat",
                   "trip over a root", f"bump into the {spot(t)}", "miss the bus"])
    t.say(f"{conj(t, e, 'nearly ' + what, 'past')}, but {t.pick(['just in time', 'luckily'])} {e.pro()} "
          f"{t.pick(['stopped', 'held on', 'jumped back'])}.", "adverb/nearly")


def m_help_me(t):                                       # "Can you help me fix my bike?" "Of course."
    e = actor(t)
    helper = other(t, e)
    ask = f'"Can you help me {t.pick(w.HELP_REQUESTS)}?" {t.said(e, "asked")}.'
    t.say(f'{ask} "{t.pick(["Of course", "Sure", "Yes, I can"])}," {t.said(helper, "answered")}.', "question/help")


def m_pretend(t):                                       # They played pretend: A was a king, B was a dragon.
    e = actor(t)
    them = other(t, e)
    one, two = t.rng.sample(w.ROLES, 2)
    t.say(f"{t.np(e)} and {t.np(them)} played a game of pretend. {cap(e.pro())} was {a(one)}, "
          f"and {t.np(them)} was {a(two)}.", "pretend")


def m_superlative(t):                                   # It was the biggest X she had ever seen.
    e = actor(t)
    animal = animal_here(t)
    t.say(f"{conj(t, e, f'see {a(animal)}', 'past')}. It was the {t.pick(w.SUPERLATIVES)} {animal} "
          f"{e.pro()} had ever seen.", "superlative")


def m_someones(t):                                      # S found the farmer's hat and gave it back.
    e = actor(t)
    owner = t.pick(["farmer", "baker", "teacher", "little boy", "old man", "lady", "postman", "gardener"])
    thing = t.pick(THING_LISTS["clothes"] + THING_LISTS["paper"])
    t.say(f"{conj(t, e, f'find the {owner}' + chr(39) + f's {thing} {where(t)}', 'past')} and gave it back.",
          "possessive")


def m_hear(t):                                          # "Can you hear that?" "It's a cow mooing."
    e = actor(t)
    animal = t.pick([x for x in t.place["animals"].split() if x in w.ANIMAL_SOUNDS] or ["bird"])
    ask = f'"Can you hear that?" {t.said(e, "asked")}.'
    t.say(f'{ask} "It is {a(animal)} {inflect(w.ANIMAL_SOUNDS.get(animal, "sing"), "ing")}," '
          f'{t.said(other(t, e), "answered")}.', "question/hear")


def m_grow_up(t):                                       # "When I grow up, I want to be a vet," said S.
    e = actor(t)
    t.say(f'"When I grow up, I want to be {a(t.pick(w.JOBS))}," {t.said(e)}.', "dialogue/grow-up")


def m_now(t):                                           # "Now we can ...," said S.
    e = actor(t)
    t.say(f'"Now we can {speak(activity(t), True)}," {t.said(e)}, and {e.pro()} '
          f'{t.pick(["smiled", "clapped", "laughed", "jumped up"])}.', "dialogue/now")


def m_these(t):                                         # "Are these your X?" "Yes, they are."
    e = actor(t)
    thing = plural(t.pick(THING_LISTS["clothes"] + THING_LISTS["toy"] + ["key", "glove", "coin"]))
    ask = f'"Are these your {thing}?" {t.said(e, "asked")}.'
    t.say(f'{ask} "Yes, they are. Thank you very much!" {t.said(other(t, e), "answered")}.', "question/these")


def m_rained(t):                                        # It rained all morning, and ...
    verb = t.pick(list(AFTER_WEATHER))
    t.say(f"It {_verb_form(verb, 'past')} all {t.pick(['morning', 'afternoon', 'night', 'day'])}, and "
          f"{t.pick(AFTER_WEATHER[verb])}.", "description/rained")


AFTER_WEATHER = {"rain": ["the puddles grew bigger and bigger", "the grass was wet", "everyone stayed inside"],
                 "snow": ["the ground was white", "the roofs were white", "the roads were quiet"],
                 "pour": ["the river was full", "the garden turned to mud", "the gutters overflowed"],
                 "drizzle": ["the windows were wet", "the air smelled fresh", "the path was shiny"]}


def m_talk(t):                                          # A and B talked about ... for a long time.
    e = actor(t)
    them = other(t, e)
    t.say(f"{t.np(e)} and {t.np(them)} talked about {t.pick(w.TOPICS)} {t.pick(w.TALK_AFTER)}.", "talk")


def m_event(t):                                         # Opener, a leaf floated down the stream.
    hero = t.cast["hero"]
    event = t.pick(w.SMALL_EVENTS).format(pos=t.ref(hero, "pos"))
    t.say(f"{t.pick(w.TIME_OPENERS)}, {event}.", "event")


def m_vehicle(t):                                       # S watched a red bus go by, and waved.
    e = actor(t)
    vehicle = a(t.pick(w.COLOURS) + " " + t.pick(w.VEHICLES))
    t.say(f"{conj(t, e, f'watch {vehicle} go by', 'past')}, and "
          f"{e.pro()} waved at the driver.", "svo+and/vehicle")


def m_lives(t):                                         # "An owl lives in that tree," said S.
    e = actor(t)
    animal = animal_here(t)
    t.say(f'"{cap(a(animal))} lives {where(t)}," {t.said(e)}. "I see it every day."', "dialogue/lives")


def m_meal(t):                                          # After lunch, S V.
    e = actor(t)
    t.say(f"After {t.pick(w.MEALS)}, {conj(t, e, person_vp(t), 'past')}.", "clause/after-meal")


def m_first_time(t):                                    # It was the first time she had flown a kite.
    e = actor(t)
    nth = t.pick(w.ORDINALS[:5])
    t.say(f"It was the {nth} time that {conj(t, e, 'have ' + inflect(activity(t), 'pp', '{pos}'), 'past')}.",
          "past-perfect/first-time")


# every middle production, in the order the story's deck is drawn from (the order is part of the
# corpus: changing it changes every story)
MIDDLE = [m_act, m_time_act, m_team, m_because, m_because_act, m_so, m_when, m_but, m_then, m_after,
          m_before, m_while, m_until, m_if, m_sequence, m_saw, m_there_were, m_place, m_spot, m_weather,
          m_found, m_give, m_pet, m_pet_sound, m_pet_move, m_heard, m_q_where, m_q_what, m_q_who, m_q_why,
          m_q_how_many, m_shout, m_whisper, m_will, m_lets, m_want, m_like, m_pet_habit, m_going_to,
          m_never, m_felt, m_decide, m_start, m_compare, m_exclaim, m_have_count, m_adverb, m_point,
          m_call, m_body, m_family, m_season, m_choice, m_or, m_only, m_still, m_instead, m_nearly,
          m_help_me, m_pretend, m_superlative, m_someones, m_hear, m_grow_up, m_now, m_these, m_rained,
          m_talk, m_event, m_vehicle, m_lives, m_meal, m_first_time]


def middle(t: Teller, until: int):
    """Sentences of the middle until position `until`, or until only the ending's room is left."""
    until = min(until, MAX_TOKENS - ENDING_RESERVE)
    while t.pos < until:
        if not t.deck:
            t.deck = t.rng.sample(MIDDLE, len(MIDDLE))
        t.deck.pop()(t)


# ----------------------------------------------------------------------------------------------
# the opening: hero, pet, family, friend
# ----------------------------------------------------------------------------------------------

def new_child(t: Teller, role: str) -> Entity:
    girl = t.chance(0.5)
    name = t.pick([n for n in (w.GIRL_NAMES if girl else w.BOY_NAMES) if n not in t.names()])
    return Entity(name, "girl" if girl else "boy", "she" if girl else "he", [], role=role)


def set_place(t: Teller, options):
    t.place_name = t.pick(options)
    t.place = w.PLACES[t.place_name]


def opening(t: Teller) -> tuple[Entity, Entity, Entity]:
    """Introduce the hero, the family grown-up and the pet; returns (hero, pet, parent)."""
    hero = t.add(new_child(t, "hero"))
    hero.p_near = 0.1
    grown, pronoun = t.pick(w.FAMILY)
    parent = t.add(Entity(None, grown.lower(), pronoun, [grown], role="parent"))
    kind = t.pick(list(w.PETS))
    pet = t.add(Entity(t.pick(w.PET_NAMES), kind, t.pick(["he", "she"]),
                       [f"{hero.pro('pos')} {kind}", f"the {kind}"], role="pet", p_near=0.3))
    intro_hero(t, hero)
    intro_pet(t, hero, pet, parent)
    if t.chance(0.5):
        describe_pet(t, pet)
    if t.chance(0.5):
        intro_neighbour(t)
    return hero, pet, parent


NEIGHBOURS = [("old man", "he"), ("old woman", "she"), ("tall man", "he"), ("kind lady", "she"),
              ("baker", "he"), ("painter", "she"), ("farmer", "he"), ("nurse", "she")]
NEIGHBOUR_HABITS = ["grew the biggest pumpkins in town", "had a garden full of roses", "always wore a yellow hat",
                    "made the best apple pie", "kept bees behind the house", "played the fiddle every evening",
                    "told wonderful stories", "had a little red boat"]


def intro_neighbour(t: Teller):
    """A grown-up next door, named once at the start and not again until the end (a far mention)."""
    who, pronoun = t.pick(NEIGHBOURS)
    name = t.pick([n for n in (w.GIRL_NAMES if pronoun == "she" else w.BOY_NAMES) if n not in t.names()])
    e = t.add(Entity(name, "adult", pronoun, [f"the {who} next door"], role="neighbour"))
    t.say(f"Next door lived {a(who)} named {t.name(e)}, who {t.pick(NEIGHBOUR_HABITS)}.", "neighbour/intro")
    t.leave(e)


def neighbour_back(t: Teller, hero: Entity):
    e = t.cast["neighbour"]
    t.back(e)
    t.say(*t.pick([
        lambda: (f"On the way home, {t.ref(hero)} waved to {t.ref(e)}, who was sitting in front of "
                 f"{e.pro('pos')} house.", "neighbour/waved"),
        lambda: (f"{t.ref(e)} from next door came to see what all the noise was about.", "neighbour/noise"),
        lambda: (f"Later, {t.ref(e)} brought round a basket of {plural(t.pick(['apple', 'plum', 'pear', 'cherry']))}.",
                 "neighbour/basket"),
    ])())


def intro_hero(t: Teller, hero: Entity):
    size = t.pick(["little", "young", "small", "kind", "clever", "cheerful", "curious", "brave", "happy"])
    age = t.pick(w.NUMBERS[3:9])
    t.say(*t.pick([
        lambda: (f"Once upon a time, there was {a(size + ' ' + hero.kind)} named {t.name(hero)}.", "open/once"),
        lambda: (f"{t.name(hero)} was {a(age + '-year-old ' + hero.kind)} who lived in {a(t.pick(w.PLACE_LOOKS))} "
                 f"house near the {t.pick([p for p in w.PLACES if p != 'home'])}.", "open/age"),
        lambda: (f"In {a(t.pick(w.PLACE_LOOKS))} little {t.pick(['town', 'village'])} by the "
                 f"{t.pick(['sea', 'river', 'hills', 'forest', 'lake'])}, there lived {a(hero.kind)} called "
                 f"{t.name(hero)}.", "open/lived"),
        lambda: (f"{t.name(hero)} was {a(size + ' ' + hero.kind)} who loved to "
                 f"{inflect(activity(t), 'base', hero.pro('pos'))}.", "open/loved"),
        lambda: (f"One {t.pick(w.WEATHER_ADJECTIVES)} morning, {a(hero.kind)} named "
                 f"{t.name(hero)} woke up early.", "open/woke"),
    ])())


def intro_pet(t: Teller, hero: Entity, pet: Entity, parent: Entity):
    look = t.pick(w.PET_LOOKS)
    t.say(*t.pick([
        lambda: (f"{t.ref(hero)} had {a(look + ' ' + pet.kind)} named {t.name(pet)}.", "pet/had"),
        lambda: (f"{t.ref(hero, 'pos')} best friend was {a(pet.kind)} called {t.name(pet)}.", "pet/best-friend"),
        lambda: (f"{t.ref(hero)} lived with {parent.nouns[0]} and {a(look + ' ' + pet.kind)} named {t.name(pet)}.",
                 "pet/lived-with"),
    ])())


MASS_COVERS = {"fur", "wool", "feathers", "spines", "whiskers"}


def describe_pet(t: Teller, pet: Entity):
    info = w.PETS[pet.kind]
    cover = f"{t.pick(['soft', 'thick', 'shiny', 'smooth', 'fluffy', 'warm'])} {info['cover']}"
    part = f"{t.pick(['long', 'short', 'little', 'funny', 'pink', 'tiny', 'big'])} {info['part']}"
    cover = cover if info["cover"] in MASS_COVERS else a(cover)
    part = part if info["part"].endswith("s") else a(part)
    t.say(f"{conj(t, pet, f'have {cover} and {part}', 'past')}.", "description/pet")


FRIEND_AWAY = ["was visiting {his} grandmother", "had gone to the seaside with {his} family",
               "was ill in bed with a cold", "had to stay at home", "was at {his} cousin's house",
               "was away on holiday", "had a piano lesson", "was helping {his} dad in the shop"]


def intro_friend(t: Teller, hero: Entity, away: bool) -> Entity:
    friend = new_child(t, "friend")
    rel = t.pick(w.RELATIONS)
    friend.nouns = [f"{hero.pro('pos')} {rel}"] + ([f"the {friend.kind}"] if friend.kind != hero.kind else [])
    friend.p_near = 0.3
    t.add(friend)
    t.say(*t.pick([
        lambda: (f"{t.ref(hero, 'pos')} {rel} was {a(friend.kind)} named {t.name(friend)}.", "friend/was"),
        lambda: (f"{t.ref(hero)} often played with {t.name(friend)}, {a(t.pick(w.PERSON_LOOKS) + ' ' + friend.kind)} "
                 f"from {t.pick(['the same street', hero.pro('pos') + ' class', 'down the road'])}.", "friend/played"),
        lambda: (f"{t.name(friend)} was {t.ref(hero, 'pos')} {rel}, and the two of them "
                 f"{inflect(activity(t), 'past', 'their')} every {t.pick(w.DAYS)}.", "friend/two-of-them"),
    ])())
    if away:
        why = t.pick(FRIEND_AWAY).format(his=friend.pro("pos"))
        t.say(f"But that {t.pick(['day', 'week', 'morning'])}, {t.name(friend)} {why}.", "friend/away")
        t.leave(friend)
    return friend


def stretch(t: Teller, share: float = 1.0):
    """Fill the middle towards the length goal, and past the reach for anyone named who is away."""
    goal = t.pos + int(share * (t.budget - ENDING_GUESS - t.pos))
    for e in t.cast.values():
        if e.away and e.name:
            goal = max(goal, e.last + t.reach + t.rng.randint(3, 24))
    middle(t, goal)


def friend_back(t: Teller, friend: Entity, hero: Entity):
    t.back(friend)
    t.say(*t.pick([
        lambda: (f"The next day, {t.ref(friend)} came over to play, and {t.ref(hero)} told "
                 f"{friend.pro('obj')} the whole story.", "friend/back-told"),
        lambda: (f"Just then, {t.ref(friend)} came running {t.pick(['across the', 'along the', 'up the'])} "
                 f"{t.place['ground'] if t.place['ground'] != 'floor' else 'path'}.", "friend/back-running"),
        lambda: (f"When {t.ref(friend)} came back, {t.ref(hero)} could not wait to tell {friend.pro('obj')} "
                 f"everything.", "friend/back-tell"),
    ])())


def ending(t: Teller, hero: Entity, habits: list[str], lessons: list[str]):
    """The neighbour comes back if there is one, a moral (usually) and a closing sentence."""
    if "neighbour" in t.cast:
        stretch(t, share=0.0)
        neighbour_back(t, hero)
    if t.chance(0.8):
        t.say(*t.pick([
            lambda: (f"From that day on, {t.ref(hero)} always "
                 f"{inflect(t.pick(habits), 'past', hero.pro('pos'))}.", "moral/from-that-day"),
            lambda: (f"{t.ref(hero)} learned that {t.pick(lessons)}.", "moral/learned"),
            lambda: (f"{t.ref(hero)} never forgot that {t.pick(['day', 'morning', 'afternoon'])}.",
                     "moral/never-forgot"),
        ])())
    t.say(*t.pick([
        lambda: (f"That night, {t.ref(hero)} fell asleep with a smile on {hero.pro('pos')} face.", "end/asleep"),
        lambda: ("It had been the best day ever.", "end/best-day"),
        lambda: (f"When the sun went down, {t.ref(hero)} went home and had {t.pick(w.TREATS)}.", "end/home"),
        lambda: (f"{t.ref(hero)} was {t.pick(['tired', 'happy', 'sleepy', 'proud'])}, but it had been "
                 f"{a(t.pick(['wonderful', 'great', 'lovely', 'busy']))} day.", "end/but"),
    ])())
    if t.chance(0.4):
        t.say("The end.", "end/the-end")


# ----------------------------------------------------------------------------------------------
# the plots: beats in order, the middle stretched between them
# ----------------------------------------------------------------------------------------------

def plot_lost(t: Teller):
    """A treasured thing is lost at a place, searched for, and found; a friend who was away comes back."""
    set_place(t, ["park", "beach", "playground", "school", "library", "forest", "meadow", "lake", "garden"])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=t.chance(0.75))
    if t.chance(0.3):
        t.say(f"{t.ref(pet)} stayed at home that day.", "lost/pet-home")
        t.leave(pet)
    thing = new_thing(t, ("toy", "clothes", "paper", "little"))
    his = hero.pro("pos")
    t.add(Entity(None, thing.noun, "it", [f"the {thing.noun}", f"{his} {thing.noun}"], role="object"))
    t.say(f"{t.ref(hero, 'pos')} favourite thing was {thing.np()} from {parent.nouns[0]}.", "lost/treasure")
    t.say(f"One {t.pick(w.DAYS)}, {conj(t, hero, f'take {his} {thing.noun} to the {t.place_name}', 'past')}.",
          "lost/go")
    middle(t, t.pos + t.rng.randint(20, 50))
    lose_thing(t, hero, thing)
    stretch(t, share=0.5)
    helper = t.add(person_here(t))
    ask = f'"Have you seen my {thing.adj} {thing.noun}?" {t.ref(hero)} asked {helper.nouns[0]}.'
    t.say(f'{ask} "No, I am sorry," {t.said(helper, "answered")}.', "lost/ask")
    helper.away = True
    stretch(t)
    find_thing(t, hero, pet, thing)
    if friend.away:
        friend_back(t, friend, hero)
    if pet.away:
        t.back(pet)
        t.say(f"At home, {t.ref(pet)} was so happy to see the {thing.noun} again.", "lost/pet-home-again")
    ending(t, hero, [f"put {{pos}} {thing.noun} away", "look after {pos} things", "keep {pos} toys in a safe place"],
           ["it is good to ask for help", "looking carefully is better than crying",
            "friends can help you find what you have lost", "you should always put your things away"])


def lose_thing(t: Teller, hero: Entity, thing: Thing):
    his = hero.pro("pos")
    t.say(*t.pick([
        lambda: (f"{conj(t, hero, f'put {his} {thing.noun} down {where(t)}', 'past')} "
                 f"and went to {inflect(activity(t), 'base', his)}. When {hero.pro()} came back, the {thing.noun} "
                 f"was gone!", "lost/gone"),
        lambda: (f"When it was time to go home, {t.ref(hero)} could not find {hero.pro('pos')} {thing.noun} "
                 f"anywhere.", "lost/could-not-find"),
    ])())
    t.say(f'"Where is my {thing.noun}?" {t.said(hero, t.pick(["cried", "asked", "shouted"]))}. '
          f'"I can\'t find it!"', "lost/where-is")
    spots = t.rng.sample(t.place["spots"].split("|"), 3)
    looks = [f"{t.pick(['under', 'behind', 'near', 'around', 'next to', 'by'])} the {x}" for x in spots]
    t.say(f"{conj(t, hero, f'look {looks[0]}, {looks[1]} and {looks[2]}', 'past')}, but it was not there.",
          "lost/search")


def find_thing(t: Teller, hero: Entity, pet: Entity, thing: Thing):
    if not pet.away and pet.kind in ("dog", "puppy") and t.chance(0.7):
        sniff = f"{t.ref(pet)} sniffed the {t.place['ground']} and ran to the {spot(t)}."
        t.say(f"{sniff} {cap(pet.pro())} came back with the {thing.adj} {thing.noun} in {pet.pro('pos')} mouth!",
              "lost/found-by-pet")
        t.say(f'"Good {t.pick(["dog", "boy", "girl"]) if pet.kind == "dog" else "puppy"}, {t.name(pet)}!" '
              f'{t.said(hero, "laughed")}.', "lost/good-pet")
    else:
        found = f"find {hero.pro('pos')} {thing.adj} {thing.noun} {where(t)}"
        t.say(f"At last, {conj(t, hero, found, 'past')}!",
              "lost/found")
        t.say(f"{cap(hero.pro())} hugged it {t.pick(['tightly', 'happily', 'and laughed', 'and danced around'])}.",
              "lost/hug")


def plot_trip(t: Teller):
    """A trip with a grown-up; the pet stays at home and is waiting at the door at the end."""
    set_place(t, ["beach", "zoo", "farm", "market", "lake", "forest", "town", "hill", "river"])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=True) if t.chance(0.6) else None
    ask = f'"Can we go to the {t.place_name} today?" {t.said(hero, "asked")}.'
    t.say(f'{ask} "Yes, we can," {t.said(parent, "answered")}.', "trip/ask")
    t.say(f"{t.ref(pet)} wanted to come too, but {plural(pet.kind)} could not go to the {t.place_name}, "
          f"so {pet.pro()} stayed at home.", "trip/pet-stays")
    t.leave(pet)
    how = t.pick(["by bus", "by car", "on their bikes", "by train", "on foot", "in Grandpa's old car"])
    t.say(f"{conj(t, team(t), f'go to the {t.place_name} {how}', 'past')}.", "trip/travel")
    stretch(t, share=0.7)
    food = w.PETS[pet.kind]["food"]
    t.say(f"Before they left, {t.ref(hero)} bought some {food} for {hero.pro('pos')} {pet.kind}.", "trip/gift")
    t.say(f"When the sun began to set, {conj(t, team(t), 'go home', 'past')}.", "trip/home")
    stretch(t, share=0.0)
    t.back(pet)
    info = w.PETS[pet.kind]
    t.say(f"{t.ref(pet)} was waiting by the door. {cap(pet.pro())} {inflect(info['sound'], 'past')} and "
          f"{inflect(info['move'], 'past')} in circles.", "trip/pet-waiting")
    t.say(f"{conj(t, hero, 'give ' + t.ref(pet, 'obj') + ' the ' + food, 'past')}, and "
          f"{t.ref(pet)} {'drank' if food == 'milk' else 'ate'} every last bit.", "trip/pet-fed")
    if friend:
        friend_back(t, friend, hero)
    ending(t, hero, ["take {pos} pet for a walk after school", "tell {pos} pet about {pos} day"],
           ["there is no place like home", "new places can be fun", "it is nice to come home to someone you love"])


HELP_PROBLEMS = ["bird", "apples", "kitten", "duckling"]


def plot_help(t: Teller):
    """The hero and the pet help someone in trouble; a friend who was away hears about it."""
    set_place(t, ["park", "forest", "garden", "town", "river", "meadow", "lake"])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=t.chance(0.8))
    when = t.pick(w.TIMES_OF_DAY[:3])
    t.say(f"One {when}, {conj(t, team(t, ('hero', 'pet', 'friend')), 'go to the ' + t.place_name, 'past')}.",
          "help/go")
    middle(t, t.pos + t.rng.randint(15, 45))
    problem = t.pick(HELP_PROBLEMS)
    HELP[problem](t, hero)
    stretch(t)
    if friend.away:
        friend_back(t, friend, hero)
    ending(t, hero, ["help anyone who needed it", "look out for animals in trouble"],
           ["being kind makes everyone happy", "even small helpers can do big things", "helping others feels good"])


def help_bird(t: Teller, hero: Entity):
    t.say(f"{conj(t, hero, f'hear a small cry {where(t)}', 'past')}. A baby bird had fallen out of its nest.",
          "help/bird-found")
    t.say(f"{conj(t, hero, 'pick up the bird very gently', 'past')}, and {hero.pro()} put it back in the nest.",
          "help/bird-saved")
    t.say("The mother bird sang a happy song.", "help/bird-thanks")


def help_apples(t: Teller, hero: Entity):
    woman = t.add(Entity(None, "woman", "she", ["the old woman"], role="helper"))
    t.say(f"An old woman had dropped {woman.pro('pos')} bag, and apples were rolling everywhere.", "help/apples")
    t.say(f"{conj(t, hero, 'run to help ' + t.ref(woman, 'obj'), 'past')}, and soon all the apples were back "
          f"in the bag.", "help/apples-picked")
    t.say(f'"Thank you, dear," {t.said(woman)}, and {t.ref(woman)} gave {t.ref(hero, "obj")} the biggest apple.',
          "help/apples-thanks")


def help_kitten(t: Teller, hero: Entity):
    t.say(f"A little kitten was stuck high up in a tree, and it was mewing {t.pick(['sadly', 'loudly'])}.",
          "help/kitten")
    t.say(f"{conj(t, hero, 'run to get a ladder', 'past')}. Slowly and carefully, the kitten climbed down.",
          "help/kitten-saved")


def help_duckling(t: Teller, hero: Entity):
    t.say(f"{conj(t, hero, 'see a little duckling that could not find its mother', 'past')}.", "help/duckling")
    t.say(f"{cap(hero.pro())} walked it all the way to the water, where the mother duck was waiting.",
          "help/duckling-saved")
    t.say('"Quack, quack!" said the mother duck.', "help/duckling-thanks")


HELP = {"bird": help_bird, "apples": help_apples, "kitten": help_kitten, "duckling": help_duckling}

# what to make: where, the steps (base forms) and what the pet does when it sees the result
PROJECTS = {
    "cake": ("home", ["get out a big bowl", "mix the flour, eggs and sugar", "pour the mixture into a tin",
                      "bake the cake in the oven", "spread pink icing on top"]),
    "sandcastle": ("beach", ["fill a bucket with wet sand", "tip the bucket over", "dig a moat around the castle",
                             "decorate the castle with shells", "put a feather on the top tower"]),
    "snowman": ("garden", ["roll a big ball of snow", "put a smaller ball on top", "give the snowman a carrot nose",
                           "wrap a scarf around its neck", "find two stones for its eyes"]),
    "birdhouse": ("garden", ["find some pieces of wood", "nail the pieces together", "paint the roof red",
                             "hang the birdhouse in the apple tree"]),
    "den": ("home", ["pull the cushions off the sofa", "put a big blanket over two chairs",
                     "bring in a torch and some books", "hang a sign on the door"]),
    "vegetable patch": ("garden", ["dig the soil", "plant the seeds in neat rows", "water the seeds",
                                   "put up a little fence"]),
    "kite": ("meadow", ["cut out a paper diamond", "tie two sticks across the back", "add a long tail of ribbons",
                        "tie on a long string"]),
}


def plot_make(t: Teller):
    """Hero and friend make something step by step; the pet, asleep at first, comes to see it."""
    project = t.pick(list(PROJECTS))
    place, steps = PROJECTS[project]
    set_place(t, [place])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=False)
    t.say(f"{t.ref(pet)} was fast asleep in {pet.pro('pos')} {w.PETS[pet.kind]['bed']}.", "make/pet-asleep")
    t.leave(pet)
    ask = f'"Let\'s make {a(project)}!" {t.said(hero)}.'
    t.say(f'{ask} "What a good idea," {t.said(friend, "answered")}.', "make/idea")
    stretch(t, share=0.35)
    s = [inflect(x, "past", "their") for x in steps]
    t.say(f"First, {conj(t, team(t, ('hero', 'friend')), steps[0], 'past')}. Then they {s[1]}. "
          f"After that, they {s[2]}. Finally, they {s[-1]}.", "make/steps")
    stretch(t, share=0.6)
    looks = t.pick(["beautiful", "perfect", "wonderful", "a bit wobbly"])
    t.say(f"At last, the {project} was ready, and it was {looks}.", "make/ready")
    stretch(t, share=0.0)
    t.back(pet)
    trick = inflect(t.pick(w.PETS[pet.kind]["tricks"]), "past", pet.pro("pos"))
    t.say(f"Just then, {t.ref(pet)} woke up and came to see the {project}. {cap(pet.pro())} {trick}.",
          "make/pet-sees")
    ending(t, hero, ["make things with {pos} friends", "finish what {pos} friends started"],
           ["working together makes hard jobs easy", "good things take time", "it is fine to make mistakes"])


FEARS = [   # what scares the hero, where, what to try, how it ends
    ("the big slide", "playground", "climb up the ladder", "slid all the way down and laughed"),
    ("deep water", "lake", "put {pos} face in the water", "swam all the way to the big stone"),
    ("the dark", "home", "turn off the light", "saw the stars through the window and fell asleep"),
    ("thunder", "home", "count slowly after each flash", "heard the storm go away over the hills"),
    ("the big dog next door", "town", "hold out {pos} hand", "felt the dog lick {pos} fingers"),
    ("riding {pos} bike", "park", "push the pedals", "rode all the way round the pond"),
    ("the tall tree", "garden", "climb up to the first branch", "sat on the branch and waved"),
]


def plot_brave(t: Teller):
    """The hero is scared of something, a grown-up helps, the hero tries and does it."""
    fear, place, attempt, success = t.pick(FEARS)
    set_place(t, [place])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=True)
    his = hero.pro("pos")
    t.say(f"{conj(t, hero, f'be scared of {fear}', 'past')}.".format(pos=his), "brave/fear")
    if t.chance(0.5):
        t.say(f"{t.ref(pet)} was asleep in {pet.pro('pos')} {w.PETS[pet.kind]['bed']}.", "brave/pet-asleep")
        t.leave(pet)
    stretch(t, share=0.3)
    t.say(f'"I can\'t do it," {t.said(hero, "whispered")}. "Yes, you can," {t.said(parent, "answered")}. '
          f'"I will be right here."', "brave/encourage")
    t.say(f"{conj(t, hero, 'take a deep breath', 'past')} and counted to three.", "brave/breath")
    t.say(f"Then {conj(t, hero, attempt, 'past')}, and {hero.pro()} {success}.".format(pos=his), "brave/try")
    stretch(t)
    if friend.away:
        friend_back(t, friend, hero)
    if pet.away:
        t.back(pet)
        t.say(f"{t.ref(pet)} {inflect(w.PETS[pet.kind]['move'], 'past')} over, as if {pet.pro()} knew.",
              "brave/pet-back")
    ending(t, hero, ["remember to take a deep breath", "try new things"],
           ["being brave does not mean you are not scared", "trying new things can be fun",
            "it helps to have someone you love nearby"])


def plot_share(t: Teller):
    """Hero and friend both want the same new toy, quarrel, and learn to take turns."""
    set_place(t, ["home", "park", "playground", "garden", "school"])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=False)
    if t.chance(0.8):
        t.say(f"{t.ref(pet)} was sleeping in the sun.", "share/pet-asleep")
        t.leave(pet)
    toy = new_thing(t, ("toy",))
    t.say(f"One {t.pick(w.DAYS)}, {conj(t, hero, f'get {toy.np()} as a present', 'past')}.", "share/present")
    stretch(t, share=0.3)
    t.say(f"Both {t.np(hero)} and {t.np(friend)} wanted to play with the {toy.noun}.", "share/both-want")
    t.say(f'"It\'s my turn!" {t.said(friend, "shouted")}. "No, it\'s mine!" {t.said(hero, "shouted")}.',
          "share/quarrel")
    t.say(f'"Why don\'t you take turns?" {t.said(parent, "asked")}.', "share/advice")
    t.say(f"So {conj(t, team(t, ('hero', 'friend')), f'take turns with the {toy.noun}', 'past')}, "
          f"and soon they were laughing.", "share/turns")
    stretch(t)
    if pet.away:
        t.back(pet)
        t.say(f"Then {t.ref(pet)} woke up and wanted to play too.", "share/pet-wakes")
    ending(t, hero, ["share {pos} toys with {pos} friends", "take turns"],
           ["sharing is more fun than keeping things to yourself", "taking turns is fair"])


def plot_birthday(t: Teller):
    """The friend's birthday: the hero makes a present in secret and gives it at the party."""
    set_place(t, ["home", "garden", "park"])
    hero, pet, parent = opening(t)
    friend = intro_friend(t, hero, away=False)
    t.say(f"It was almost {t.name(friend, 'pos')} birthday.", "birthday/soon")
    t.leave(friend)
    gift = t.pick(["a card with a big red heart", "a bracelet of blue beads", "a picture of the sea",
                   "a little cake with six candles", "a paper crown with gold stars"])
    t.say(f"{conj(t, hero, f'want to make {gift} for {{pos}} friend', 'past')}, "
          f"but it was a secret.", "birthday/secret")
    stretch(t, share=0.5)
    t.say(f"{conj(t, hero, 'wrap the present in shiny paper', 'past')} and hid it {home_where(t)}.",
          "birthday/wrap")
    stretch(t)
    t.back(friend)
    t.say(f"On the day of the party, {t.ref(friend)} opened the present and smiled.", "birthday/party")
    t.say(f'"Thank you! It\'s the best present ever," {t.said(friend)}.', "birthday/thanks")
    ending(t, hero, ["make presents by hand", "remember {pos} friends' birthdays"],
           ["the best presents come from the heart", "a surprise made with love is the best"])


PLOTS = {"lost": plot_lost, "trip": plot_trip, "help": plot_help, "make": plot_make, "brave": plot_brave,
         "share": plot_share, "birthday": plot_birthday}
