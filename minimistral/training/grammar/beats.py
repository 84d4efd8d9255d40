"""The beats every plot shares: the opening (hero, family grown-up, pet, sometimes a neighbour),
the friend who may be away and come back, and the ending (the neighbour again, a moral, a last
sentence)."""

from __future__ import annotations

from .. import words as w
from .deck import stretch
from .english import a, inflect, plural
from .loose import prelude
from .phrases import activity, conj
from .teller import Entity, Teller


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
    if t.chance(0.3):
        prelude(t)
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
