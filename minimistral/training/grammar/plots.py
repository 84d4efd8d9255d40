"""The plots: beats in order, the middle stretched between them. PLOTS maps a plot's name to
its function; corpus.py draws one per story."""

from __future__ import annotations

from .. import words as w
from .beats import ending, friend_back, intro_friend, opening, set_place
from .deck import middle, stretch
from .english import a, cap, inflect, plural
from .phrases import (
    Thing,
    activity,
    conj,
    home_where,
    new_thing,
    person_here,
    spot,
    team,
    where,
)
from .teller import Entity, Teller


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
