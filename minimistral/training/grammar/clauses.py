"""Middle productions of two clauses joined by because / so / when / but / then / after / before /
while / until. Each m_... writes one sentence shape; the comment on its first line shows it."""

from __future__ import annotations

from .. import words as w
from .english import a, inflect
from .phrases import (
    FOOD_LISTS,
    activity,
    actor,
    animal_here,
    conj,
    food_vp,
    move_vp,
    other,
    person_vp,
    reason,
    seen_vp,
    spot,
)

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


def m_going_to(t):                                      # S was going to V when ...
    e = actor(t)
    first = conj(t, e, "be going to " + activity(t), "past")
    t.say(f"{first} when {a(animal_here(t))} {t.pick(['came along', 'appeared', 'came closer', 'got in the way'])}.",
          "clause/was-going-to")


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


def m_meal(t):                                          # After lunch, S V.
    e = actor(t)
    t.say(f"After {t.pick(w.MEALS)}, {conj(t, e, person_vp(t), 'past')}.", "clause/after-meal")
