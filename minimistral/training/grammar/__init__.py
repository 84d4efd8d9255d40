"""How a story is written: the teller, the phrases, the sentence productions and the plots.

corpus.py is the interface (story, the split, token streams, name mentions, statistics); this
package makes the sentences. A Teller keeps the story's position in tokens and decides, each time
a character is referred to, whether to say the name, a pronoun or a description; productions
(m_...) each write one sentence shape from the word lists in words.py; plots (plot_...) put
beats in order and fill the middle with productions.

The modules, in reading order (each imports only the ones above it):

    english.py      verb forms, plurals, 'a' or 'an': just enough English for the word lists
    teller.py       Entity, Sentence, Plan and the Teller: names, pronouns, token positions
    phrases.py      things, food, places, verb phrases and who does them
    statements.py   middle productions of one clause: actions, descriptions, the pet ...
    clauses.py      middle productions of two clauses: because, so, when, but, until ...
    dialogue.py     middle productions in quotes: questions, answers, said / asked / shouted
    deck.py         the middle: every production in the order the deck is drawn from
    beats.py        the opening, the friend who comes back, the ending
    plots.py        the seven plots and PLOTS, the table corpus.py draws from
"""

from .deck import MIDDLE
from .plots import PLOTS
from .teller import MAX_TOKENS, MIN_TOKENS, NAMES, Plan, Teller

__all__ = ["MAX_TOKENS", "MIDDLE", "MIN_TOKENS", "NAMES", "PLOTS", "Plan", "Teller"]
