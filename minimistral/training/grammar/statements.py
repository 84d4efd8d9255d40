"""Middle productions told in one clause: actions, descriptions, perception, the pet, feelings,
counting and comparing. Each m_... writes one sentence shape (its name is the second argument of
Teller.say); the comment on its first line shows the shape."""

from __future__ import annotations

from .. import words as w
from .english import a, cap, count_of, has_place, inflect, plural, verb_form
from .phrases import (
    THING_LISTS,
    activity,
    actor,
    animal_here,
    conj,
    food_np,
    loose_thing,
    move_vp,
    new_thing,
    other,
    person_vp,
    pet_here,
    seen_vp,
    spot,
    team,
    where,
)


def m_act(t):                                           # S V O PP.
    vp = person_vp(t)
    t.say(f"{conj(t, actor(t), vp, 'past')}{'' if has_place(vp) else ' ' + where(t)}.", "svo+place")


def m_time_act(t):                                      # Time, S V O.
    t.say(f"{t.pick(w.TIME_OPENERS)}, {conj(t, actor(t), person_vp(t), 'past')}.", "time+svo")


def m_team(t):                                          # A and B V O together.
    how = t.pick(["together", "for a while", "all morning", "for a long time", "again and again", "happily"])
    t.say(f"{conj(t, team(t), activity(t), 'past')} {how}.", "group+vp")


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


def m_nearly(t):                                        # S nearly fell over the log, but ...
    e = actor(t)
    what = t.pick([f"fall over the {spot(t)}", "slip on a wet leaf", "drop {pos} lunch", "lose {pos} hat",
                   "trip over a root", f"bump into the {spot(t)}", "miss the bus"])
    t.say(f"{conj(t, e, 'nearly ' + what, 'past')}, but {t.pick(['just in time', 'luckily'])} {e.pro()} "
          f"{t.pick(['stopped', 'held on', 'jumped back'])}.", "adverb/nearly")


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


def m_rained(t):                                        # It rained all morning, and ...
    verb = t.pick(list(AFTER_WEATHER))
    t.say(f"It {verb_form(verb, 'past')} all {t.pick(['morning', 'afternoon', 'night', 'day'])}, and "
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


def m_first_time(t):                                    # It was the first time she had flown a kite.
    e = actor(t)
    nth = t.pick(w.ORDINALS[:5])
    t.say(f"It was the {nth} time that {conj(t, e, 'have ' + inflect(activity(t), 'pp', '{pos}'), 'past')}.",
          "past-perfect/first-time")
