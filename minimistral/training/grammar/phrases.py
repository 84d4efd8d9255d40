"""Phrases for the productions to fill in: things, food, places, verb phrases, and who does
them (actor, team, other), drawn from the word lists and the current scene."""

from __future__ import annotations

from dataclasses import dataclass

from .. import words as w
from .english import a, count_of, inflect, plural
from .teller import PRONOUNS, Entity, Teller


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
