"""English morphology, just enough for the word lists: verb forms (go -> went, gone, going, goes),
verb phrases inflected on their first word, plurals, 'a' or 'an', capitals and counts."""

from __future__ import annotations

import re

from .. import words as w

IRREGULAR = {b: (p, pp) for b, p, pp in (x.split() for x in w.IRREGULAR_VERBS.split(";"))}
VOWELS = "aeiou"


def verb_form(verb: str, form: str) -> str:
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
    head = first if form == "base" else verb_form(first, form)
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
