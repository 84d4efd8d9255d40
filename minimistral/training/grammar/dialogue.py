"""Middle productions in quotes: questions and answers, and what the characters say (said /
asked / shouted / whispered / answered). Each m_... writes one sentence shape; the comment on its
first line shows it."""

from __future__ import annotations

from .. import words as w
from .english import a, cap, inflect, plural, speak
from .phrases import (
    THING_LISTS,
    activity,
    actor,
    animal_action,
    animal_here,
    food_np,
    new_thing,
    other,
    pet_here,
    where,
)


def m_if(t):                                            # "If we V, we can V," said S.
    e = actor(t)
    first, then = t.rng.sample(t.place["acts"].split("|"), 2)
    t.say(f'"If we {speak(first, True)}, we can {speak(then, True)} later," {t.said(e)}.', "dialogue/if")


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


def m_choice(t):                                        # "Do you want A or B?" "B, please."
    e = actor(t)
    helper = other(t, e)
    ask = f'"What do you want to eat?" {t.said(helper, "asked")}.'
    t.say(f'{ask} "Can I have {food_np(t)}, please?" {t.said(e, "answered")}.', "question/what-want")


def m_or(t):                                            # "Shall we A or B?" asked S.
    e = actor(t)
    first, second = t.rng.sample(t.place["acts"].split("|"), 2)
    t.say(f'"Shall we {speak(first, True)} or {speak(second, True)}?" {t.said(e, "asked")}.', "question/or")


def m_help_me(t):                                       # "Can you help me fix my bike?" "Of course."
    e = actor(t)
    helper = other(t, e)
    ask = f'"Can you help me {t.pick(w.HELP_REQUESTS)}?" {t.said(e, "asked")}.'
    t.say(f'{ask} "{t.pick(["Of course", "Sure", "Yes, I can"])}," {t.said(helper, "answered")}.', "question/help")


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


def m_lives(t):                                         # "An owl lives in that tree," said S.
    e = actor(t)
    animal = animal_here(t)
    t.say(f'"{cap(a(animal))} lives {where(t)}," {t.said(e)}. "I see it every day."', "dialogue/lives")
