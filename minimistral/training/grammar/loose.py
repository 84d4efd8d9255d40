"""Loose sentences: everyday English built freely from the common word lists, so that the
model learns how English goes rather than only the plots' sentence shapes.

The other productions say one thing each in a fixed way ('She had a lazy duck named Zorro.');
these combine parts at random: a subject (someone of the story or anyone: 'the old man', 'we',
'my sister'), a verb in one of a dozen forms (past, present, 'was running', 'could not open',
'wanted to find', 'had lost', 'will see'), an object with its own determiner and adjectives, a
place, an adverb, and often a second clause joined by because / so / but / when / after ... .
Questions, answers, commands and general truths ('Cats like milk.') come in too. The results are
grammatical but not always sensible ('The baker kicked a green spoon'), which is what teaches
a small model that a word's neighbours can be almost anything of the right kind.
"""

from __future__ import annotations

from .. import words as w
from .english import inflect, plural
from .phrases import THING_LISTS, actor
from .teller import Teller

NOUNS = sorted(set(w.COMMON_NOUNS) | {n for nouns in THING_LISTS.values() for n in nouns})
PEOPLE = w.COMMON_PEOPLE + w.JOBS[:12]
ADJECTIVES = w.COMMON_ADJECTIVES + w.THING_LOOKS + w.PERSON_LOOKS
TRANSITIVE = w.COMMON_TRANSITIVE
INTRANSITIVE = w.COMMON_INTRANSITIVE
OWNERS = ["their", "my", "our", "your"]          # his / her would point at nobody
CONNECT = ["because", "so", "but", "and then", "when", "after", "before", "while", "until", "and",
           "although", "as soon as", "if"]
MODALS = ["could", "would", "can", "will", "must", "should", "might"]
STARTS = ["wanted to", "tried to", "liked to", "had to", "began to", "forgot to", "decided to",
          "did not want to", "loved to", "was going to"]
# no he / she / him / her here: those always mean someone of the story (Teller.ref decides), so a
# pronoun never points at nobody
OBJECT_PRONOUNS = ["them", "me", "us", "you", "everyone", "something", "nothing", "everything"]
PERSONAL = {"I": "1s", "we": "pl", "you": "pl", "they": "pl", "everyone": "3s", "nobody": "3s"}


def noun_phrase(t: Teller, people: bool = False) -> tuple[str, str]:
    """('the big red ball', '3s') or ('two little cats', 'pl'): a determiner, 0-2 adjectives, a noun."""
    noun = t.pick(PEOPLE if people else NOUNS)
    adjs = [t.pick(ADJECTIVES) for _ in range(t.pick([0, 0, 1, 1, 1, 2]))]
    if adjs and len(adjs) == 2 and adjs[0] == adjs[1]:
        adjs = adjs[:1]
    r = t.rng.random()
    if r < 0.22:
        det, n = t.pick(["some", "two", "three", "many", "all the", "the", "lots of", "a few", "these",
                         "those", t.pick(w.NUMBERS[1:9])]), "pl"
    elif r < 0.5:
        det, n = "the", "3s"
    elif r < 0.72:
        det, n = "a", "3s"
    elif r < 0.9:
        det, n = t.pick(OWNERS), t.pick(["3s", "3s", "pl"])
    else:
        det, n = t.pick(["this", "that", "every", "another", "one", "each"]), "3s"
    word = plural(noun) if n == "pl" else noun
    return " ".join([det] + adjs + [word]), n


def subject(t: Teller, cast: bool = True) -> tuple[str, str]:
    """Someone of the story (by name or pronoun), a pronoun, or anybody (cast=False: not the story's)."""
    r = t.rng.random()
    if r < 0.35 and cast:
        e = actor(t)
        return t.ref(e), "pl" if e.pronoun == "they" else "3s"
    if r < 0.6:
        p = t.pick(list(PERSONAL))
        return p, PERSONAL[p]
    if r < 0.85:
        return noun_phrase(t, people=True)
    return noun_phrase(t)


def be(agr: str, tense: str) -> str:
    if tense == "past":
        return "were" if agr == "pl" else "was"
    return {"1s": "am", "3s": "is", "pl": "are"}[agr]


def verb(t: Teller, vp: str, agr: str, tense: str = "past") -> str:
    """The verb phrase vp ('open the box') in a form drawn for the tense ('past' or 'present')."""
    r = t.rng.random()
    if tense == "present":
        if r < 0.6:
            return inflect(vp, "3s") if agr == "3s" else vp
        if r < 0.8:
            return f"{be(agr, 'present')} {inflect(vp, 'ing')}"
        if r < 0.9:
            return f"{'does' if agr == '3s' else 'do'} not {vp}"
        return f"{t.pick(MODALS)} {vp}"
    if r < 0.5:
        return inflect(vp, "past")
    if r < 0.6:
        return f"{be(agr, 'past')} {inflect(vp, 'ing')}"
    if r < 0.7:
        return f"{t.pick(STARTS)} {vp}"
    if r < 0.78:
        neg = t.pick(["did not", "could not", "would not", "never"])
        return f"{neg} {inflect(vp, 'past') if neg == 'never' else vp}"
    if r < 0.86:
        return f"{t.pick(['could', 'would', 'might', 'should'])} {vp}"
    if r < 0.93:
        return f"had {t.pick(['', '', 'just ', 'never ', 'already '])}{inflect(vp, 'pp')}"
    return f"{be(agr, 'past')} going to {vp}"


def predicate(t: Teller) -> str:
    """A base-form verb phrase: transitive with an object, intransitive with a place or an adverb."""
    if t.chance(0.55):
        obj = t.pick(OBJECT_PRONOUNS) if t.chance(0.2) else noun_phrase(t, people=t.chance(0.2))[0]
        vp = f"{t.pick(TRANSITIVE)} {obj}"
        if t.chance(0.3):
            vp += f" {t.pick(w.PREPOSITIONS)} {t.pick(w.COMMON_PLACES)}"
    else:
        vp = t.pick(INTRANSITIVE)
        r = t.rng.random()
        if r < 0.35:
            vp += f" {t.pick(w.MOTION_PREPOSITIONS + w.PREPOSITIONS)} {noun_phrase(t)[0]}"
        elif r < 0.6:
            vp += f" {t.pick(['in', 'at', 'to', 'near', 'behind', 'by'])} {t.pick(w.COMMON_PLACES)}"
    if t.chance(0.2):
        vp += " " + t.pick(w.ADVERBS + ["again", "all day", "for a long time", "at once", "too",
                                        "together", "every day", "very fast", "there", "here"])
    return vp


def clause(t: Teller, tense: str = "past", cast: bool = True) -> str:
    subj, agr = subject(t, cast)
    if t.chance(0.15):                                   # a description: S was (very) ADJ
        deg = t.pick(["", "", "very ", "so ", "too ", "quite ", "not "])
        return f"{subj} {be(agr, tense)} {deg}{t.pick(ADJECTIVES)}"
    return f"{subj} {verb(t, predicate(t), agr, tense)}"


def m_loose(t: Teller):                                  # S V O PP (CONJ S V O).
    tense = "present" if t.chance(0.15) else "past"
    text = clause(t, tense)
    if t.chance(0.45):
        text += f"{',' if t.chance(0.3) else ''} {t.pick(CONNECT)} {clause(t, tense)}"
    t.say(text + ".", "loose/clause")


def m_loose_front(t: Teller):                            # Time, S V O. / When S V, S V.
    if t.chance(0.5):
        text = f"{t.pick(w.COMMON_TIMES)}, {clause(t)}"
    else:
        text = f"{t.pick(['When', 'After', 'Before', 'Because', 'While', 'As soon as', 'If'])} {clause(t)}, {clause(t)}"
    t.say(text + ".", "loose/fronted")


def m_loose_there(t: Teller):                            # There was a N PP. / It was ADJ.
    np, agr = noun_phrase(t)
    if t.chance(0.6):
        text = f"There {be(agr, 'past')} {np} {t.pick(w.PREPOSITIONS)} {t.pick(w.COMMON_PLACES)}"
    else:
        deg = t.pick(["", "", "very ", "so ", "really "])
        text = (f"It was {deg}{t.pick(ADJECTIVES)}" if t.chance(0.4) else
                f"It was a {deg}{t.pick(ADJECTIVES)} {t.pick(['day', 'night', 'morning', 'place', 'house', 'time'])}")
    t.say(text + ".", "loose/there")


def m_loose_quote(t: Teller):                            # "Question?" asked S. / "Do it!" shouted S.
    speaker = actor(t)
    r = t.rng.random()
    np = noun_phrase(t)[0]
    if r < 0.3:
        q = t.pick(["Where is", "What is", "Who has", "Why is", "Can I have", "Have you seen", "Is that",
                    "Where did you put", "Who took", "Do you want"])
        text, how = f'"{q} {np}?"', t.pick(["asked", "asked", "said", "cried"])
    elif r < 0.55:
        text, how = f'"{inflect(predicate(t), "base", "my").capitalize()}!"', t.pick(["shouted", "said", "called", "cried"])
    elif r < 0.8:
        subj, agr = t.pick([("I", "1s"), ("we", "pl"), ("you", "pl")])
        text, how = f'"{subj.capitalize()} {verb(t, predicate(t), agr, t.pick(["past", "present"]))}."', t.pick(["said", "whispered", "answered"])
    else:
        text, how = f'"{t.pick(["Yes", "No", "Oh", "Well", "Look", "Please", "Thank you", "Oh dear"])}, {clause(t, "present")}."', "said"
    t.say(f"{text} {t.said(speaker, how)}.", "loose/quote")


def m_loose_truth(t: Teller):                            # Cats like milk. Every dog needs a bed.
    noun = t.pick(NOUNS)
    vp = predicate(t)
    if t.chance(0.5):
        text = f"{plural(noun).capitalize()} {t.pick(['', '', 'do not ', 'can ', 'cannot ', 'always ', 'never '])}{vp}"
    else:
        text = f"{t.pick(['Every', 'A', 'The'])} {noun} {inflect(vp, '3s')}"
    t.say(text + ".", "loose/general")


WONDER = {"Where": ["go", "hide", "sleep", "come from", "be"], "Why": ["cry", "laugh", "stop", "run away", "hide"],
          "How": ["get there", "know", "get out", "get so big"], "When": ["come back", "wake up", "leave", "stop"],
          "What": ["want", "need", "see", "find", "say"]}


def m_loose_wonder(t: Teller):                           # Where had the cat gone? What a mess it was!
    np, agr = noun_phrase(t)
    r = t.rng.random()
    if r < 0.6:
        q, verbs = t.pick(list(WONDER.items()))
        text = f"{q} {t.pick(['did', 'could', 'would'])} {np} {t.pick(verbs)}?"
        if t.chance(0.4):
            text = f"{t.pick(['Who', 'What'])} {t.pick(['was', 'had', 'could'])} {t.pick(['in', 'under', 'behind', 'on'])} {np}?"
    elif r < 0.8:
        text = f"What {'a ' if agr == '3s' else ''}{t.pick(ADJECTIVES)} {np.split()[-1]} {t.pick(['it was', 'that was', 'they were'])}!"
    else:
        text = f"{clause(t)}!"
    t.say(text, "loose/wonder")


def prelude(t: Teller):
    """One or two loose sentences before anyone of the story is named: a story, like a sentence a
    learner types, can begin with anything."""
    for _ in range(t.pick([1, 1, 2])):
        text = clause(t, "present" if t.chance(0.15) else "past", cast=False)
        if t.chance(0.3):
            text = f"{t.pick(w.COMMON_TIMES)}, {text}"
        t.say(text + ".", "loose/prelude")


LOOSE = [m_loose, m_loose, m_loose, m_loose_front, m_loose_there, m_loose_quote, m_loose_truth, m_loose_wonder]
