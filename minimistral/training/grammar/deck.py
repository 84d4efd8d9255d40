"""The middle of a story: every production in one list, the deck, drawn in a shuffled order until
the story reaches its next beat or its length goal."""

from __future__ import annotations

from .clauses import (
    m_after,
    m_because,
    m_because_act,
    m_before,
    m_but,
    m_going_to,
    m_instead,
    m_meal,
    m_only,
    m_so,
    m_still,
    m_then,
    m_until,
    m_when,
    m_while,
)
from .dialogue import (
    m_call,
    m_choice,
    m_grow_up,
    m_hear,
    m_help_me,
    m_if,
    m_lets,
    m_like,
    m_lives,
    m_now,
    m_or,
    m_pet_habit,
    m_q_how_many,
    m_q_what,
    m_q_where,
    m_q_who,
    m_q_why,
    m_shout,
    m_these,
    m_want,
    m_whisper,
    m_will,
)
from .loose import LOOSE
from .statements import (
    m_act,
    m_adverb,
    m_body,
    m_compare,
    m_decide,
    m_event,
    m_exclaim,
    m_family,
    m_felt,
    m_first_time,
    m_found,
    m_give,
    m_have_count,
    m_heard,
    m_nearly,
    m_never,
    m_pet,
    m_pet_move,
    m_pet_sound,
    m_place,
    m_point,
    m_pretend,
    m_rained,
    m_saw,
    m_season,
    m_sequence,
    m_someones,
    m_spot,
    m_start,
    m_superlative,
    m_talk,
    m_team,
    m_there_were,
    m_time_act,
    m_vehicle,
    m_weather,
)
from .teller import MAX_TOKENS, Teller

ENDING_RESERVE = 110         # tokens kept free for the last beats while the middle is filled
ENDING_GUESS = 75            # tokens the last beats usually take, for aiming at a story's length


# every middle production (the loose ones four times over, so that about a quarter of the middle
# is loose English), in the order the story's deck is drawn from (the order is part of the
# corpus: changing it changes every story)
MIDDLE = [m_act, m_time_act, m_team, m_because, m_because_act, m_so, m_when, m_but, m_then, m_after,
          m_before, m_while, m_until, m_if, m_sequence, m_saw, m_there_were, m_place, m_spot, m_weather,
          m_found, m_give, m_pet, m_pet_sound, m_pet_move, m_heard, m_q_where, m_q_what, m_q_who, m_q_why,
          m_q_how_many, m_shout, m_whisper, m_will, m_lets, m_want, m_like, m_pet_habit, m_going_to,
          m_never, m_felt, m_decide, m_start, m_compare, m_exclaim, m_have_count, m_adverb, m_point,
          m_call, m_body, m_family, m_season, m_choice, m_or, m_only, m_still, m_instead, m_nearly,
          m_help_me, m_pretend, m_superlative, m_someones, m_hear, m_grow_up, m_now, m_these, m_rained,
          m_talk, m_event, m_vehicle, m_lives, m_meal, m_first_time] + 4 * LOOSE


def middle(t: Teller, until: int):
    """Sentences of the middle until position `until`, or until only the ending's room is left."""
    until = min(until, MAX_TOKENS - ENDING_RESERVE)
    while t.pos < until:
        if not t.deck:
            t.deck = t.rng.sample(MIDDLE, len(MIDDLE))
        t.deck.pop()(t)


def stretch(t: Teller, share: float = 1.0):
    """Fill the middle towards the length goal, and past the reach for anyone named who is away."""
    goal = t.pos + int(share * (t.budget - ENDING_GUESS - t.pos))
    for e in t.cast.values():
        if e.away and e.name:
            goal = max(goal, e.last + t.reach + t.rng.randint(3, 24))
    middle(t, goal)
