"""The word lists of the story generator (corpus.py): data only, every word written for this project.
It is long because it holds only data (word lists), no logic; the code that uses them is in
grammar/.

Conventions, so corpus.py can inflect and combine them:

* a verb phrase (VP) is a string in the base form, "dig a big hole"; corpus.py inflects its first
  word ("dug a big hole", "digging a big hole", "digs a big hole"). ``{pos}`` stands for the
  subject's possessive ("his", "her", "their") and ``{self}`` for the reflexive ("herself").
* a noun with a space ("teddy bear") is one noun; its plural changes the last word.
* nothing here is a person's or a pet's name except the three name lists, and no name is also an
  ordinary word of the lists (a capital letter alone tells a name apart; tests check it).
"""

# ----------------------------------------------------------------------------------------------
# names: many, so a model must copy a name from the story instead of remembering a few
# ----------------------------------------------------------------------------------------------

GIRL_NAMES = """
Lily Mia Anna Lucy Emma Sara Zoe Ella Ruby Nora Amy Kate Grace Alice Maya Julia Eva Hannah Chloe
Sophie Olivia Ava Isla Freya Molly Jasmine Amelia Charlotte Emily Isabel Layla Leah Megan Naomi
Paula Rachel Tara Vera Wendy Yara Zara Clara Elsie Fiona Gemma Heidi Jenny Kira Lena Maria Nina
Olga Pia Rita Sally Tina Ursula Willa Abby Beth Cora Dora Edith Flora Greta Ingrid Katie Lola
Mabel Nell Quinn Rosa Stella Thea Una Yasmin Zelda Ada Bonnie Carla Dina Elena Fatima Gloria Helen
Irene Lara Maeve Nadia Priya Rina Sofia Tessa Uma Valerie Alma Bianca Celia Delia Esme Frida Ines
Jana Lottie Mira Noor Petra Rhea Sana Talia Vicky Ayla Aisha Mei Keiko Leila
""".split()

BOY_NAMES = """
Tom Ben Sam Max Leo Tim Noah Finn Luke Oscar Adam Jake Henry Peter Paul Daniel Oliver Hugo Felix
Alex Arlo David Eli Ethan George Harry Isaac Jacob Kai Liam Mason Nathan Omar Pablo Quentin Ryan
Simon Theo Umar Victor William Xavier Yusuf Zack Aaron Billy Caleb Dylan Edward Fred Gabriel
Harvey Ivan Joel Kevin Lewis Marcus Ned Otto Patrick Rory Stefan Vincent Walter Arthur Carlos
Dominic Elliot Freddie Gus Hamid Igor Jonah Karl Louis Mateo Nico Owen Ravi Seth Tariq Wesley
Yuri Zane Archie Bobby Colin Dev Emil Erik Hassan Jamal Kofi Lars Malik Neil Ollie Raj Sami Timo
Anton Bruno Cyril Dario Ezra Idris Jonas Kenji Milan Rafael
""".split()

PET_NAMES = """
Biscuit Coco Buddy Luna Oreo Milo Pip Bella Charlie Toby Bingo Barney Dotty Fido Goldie
Hopper Jasper Kiki Pickles Rex Scout Smudge Sparky Speedy Squeaky Trixie Waffles Ziggy
Zeus Nala Simba Cinnamon Dusty Fudge Gizmo Inky Jellybean Juno Kip Marley Noodle Pixie Quincy
Rufus Sasha Sox Taffy Tilly Tofu Wiggles Bandit Benji Buster Caramel Chester Dexter Domino
Harley Jax Loki Louie Mocha Momo Nugget Oakley Paddy Pogo Rascal Rolo Scamp Skippy Snickers
Sprinkles Tigger Tuffy Waldo Wally Zorro Angus Bambi Bramble Dipsy Elmo Fizz Flopsy Izzy Jingles
Kermit Nemo Reggie Thumper Tux Winnie Zippy Patches
""".split()

# ----------------------------------------------------------------------------------------------
# verbs: irregular forms (base past participle); all other verbs are inflected by rule
# ----------------------------------------------------------------------------------------------

IRREGULAR_VERBS = """
be was been; have had had; do did done; go went gone; come came come; see saw seen;
eat ate eaten; sink sank sunk; drink drank drunk; run ran run; swim swam swum; fly flew flown; sit sat sat;
stand stood stood; find found found; lose lost lost; give gave given; take took taken;
make made made; get got got; put put put; say said said; tell told told; think thought thought;
bring brought brought; buy bought bought; catch caught caught; teach taught taught;
build built built; fall fell fallen; feel felt felt; hold held held; keep kept kept;
know knew known; leave left left; meet met met; read read read; ride rode ridden;
ring rang rung; sing sang sung; sleep slept slept; throw threw thrown; wake woke woken;
wear wore worn; write wrote written; draw drew drawn; grow grew grown; hide hid hidden;
hear heard heard; blow blew blown; break broke broken; choose chose chosen; dig dug dug;
hang hung hung; lie lay lain; shake shook shaken; shine shone shone; sweep swept swept;
win won won; begin began begun; bite bit bitten; cut cut cut; fight fought fought;
forget forgot forgotten; freeze froze frozen; let let let; light lit lit; mean meant meant;
pay paid paid; sell sold sold; send sent sent; set set set; shut shut shut; slide slid slid;
speak spoke spoken; spend spent spent; spin spun spun; steal stole stolen; stick stuck stuck;
swing swung swung; tear tore torn; understand understood understood; feed fed fed;
lead led led; bend bent bent; creep crept crept; kneel knelt knelt; leap leapt leapt;
spill spilled spilled; spread spread spread; climb climbed climbed; become became become;
hurt hurt hurt; split split split; wind wound wound; weep wept wept; rise rose risen;
can could could; will would would
"""

# short verbs that double their last consonant: stop -> stopped, stopping
DOUBLING_VERBS = set("""
stop hop skip drop clap hug jog nod pat pet plan rub shop slip step tap trip wag grab beg chat
drip hum nap pop scrub shrug spot sob tug wrap zip chop flap grin mop stir knit fit rip sip slam
snap swap trap trot whip dab bob dip jam plop skid spin swim run sit dig win begin cut get set let
put hit shut
""".split())

# ----------------------------------------------------------------------------------------------
# nouns
# ----------------------------------------------------------------------------------------------

IRREGULAR_PLURALS = dict(pair.split() for pair in """
mouse mice; sheep sheep; fish fish; deer deer; child children; foot feet; tooth teeth;
goose geese; man men; woman women; leaf leaves; loaf loaves; knife knives; wolf wolves;
shelf shelves; calf calves; half halves; scarf scarves; potato potatoes; tomato tomatoes;
person people; hoof hooves; moose moose; mango mangoes; echo echoes; hero heroes;
volcano volcanoes; buffalo buffaloes; goldfish goldfish; grass grass; wheat wheat; corn corn; hay hay
""".strip().strip(";").split(";"))

# pets: what each kind of animal is, sounds like and does, so a pet stays one animal all story
PETS = {
    "dog": dict(cover="fur", part="tail", sound="bark", move="run", food="bones", bed="basket",
                tricks=["wag {pos} tail", "fetch a stick", "chase {pos} tail", "roll over", "bury a bone",
                        "dig a hole", "sniff the ground", "jump up and down", "lick {pos} nose"]),
    "puppy": dict(cover="fur", part="tail", sound="yap", move="run", food="biscuits for puppies",
                  bed="basket", tricks=["wag {pos} tail", "chew an old sock", "chase {pos} tail",
                                        "tumble over {pos} own paws", "sniff every flower", "chew a bone"]),
    "cat": dict(cover="fur", part="tail", sound="meow", move="trot", food="fish", bed="cushion",
                tricks=["purr loudly", "wash {pos} face", "stretch {pos} legs", "curl up in a ball",
                        "chase a piece of string", "chase a butterfly"]),
    "kitten": dict(cover="fur", part="tail", sound="mew", move="scamper", food="milk", bed="box",
                   tricks=["play with a ball of wool", "pounce on a leaf", "purr softly",
                           "chase {pos} own shadow", "roll on {pos} back"]),
    "rabbit": dict(cover="fur", part="ears", sound="squeak", move="hop", food="carrots", bed="hutch",
                   tricks=["twitch {pos} nose", "nibble a leaf", "thump {pos} back foot",
                           "hop in a circle", "wash {pos} long ears"]),
    "hamster": dict(cover="fur", part="cheeks", sound="squeak", move="scurry", food="seeds",
                    bed="cage", tricks=["run in {pos} wheel", "stuff {pos} cheeks with seeds",
                                        "wash {pos} face", "curl up and sleep"]),
    "parrot": dict(cover="feathers", part="wings", sound="squawk", move="fly", food="seeds",
                   bed="cage", tricks=["flap {pos} wings", "say hello", "whistle a tune",
                                       "sit on a branch", "copy every word"]),
    "pony": dict(cover="mane", part="tail", sound="neigh", move="trot", food="hay", bed="stable",
                 tricks=["toss {pos} head", "swish {pos} tail", "eat an apple", "stamp {pos} hoof",
                         "roll in the grass"]),
    "goat": dict(cover="beard", part="horns", sound="bleat", move="trot", food="hay", bed="shed",
                 tricks=["nibble a sleeve", "climb onto a box", "jump over a log",
                         "eat a carrot"]),
    "duck": dict(cover="feathers", part="beak", sound="quack", move="waddle", food="bread crumbs",
                 bed="box", tricks=["splash in a puddle", "flap {pos} wings", "shake the water off",
                                    "follow everyone around"]),
    "tortoise": dict(cover="shell", part="shell", sound="hiss", move="crawl", food="lettuce",
                     bed="box", tricks=["hide in {pos} shell", "munch a leaf", "sit in the sun",
                                        "walk very slowly"]),
    "mouse": dict(cover="fur", part="whiskers", sound="squeak", move="scurry", food="cheese",
                  bed="box", tricks=["twitch {pos} whiskers", "nibble a crumb", "sit up on {pos} back legs",
                                     "clean {pos} paws"]),
    "hedgehog": dict(cover="spines", part="nose", sound="sniff", move="shuffle", food="worms",
                     bed="box", tricks=["roll into a ball", "sniff the leaves", "snuffle in the grass"]),
    "lamb": dict(cover="wool", part="tail", sound="baa", move="skip", food="grass", bed="pen",
                 tricks=["skip across the grass", "wag {pos} little tail", "follow {pos} friends"]),
}

# wild and farm animals met on the way: (singular, group) ; groups choose actions and sounds
ANIMALS = dict(pair.split(":") for pair in """
fly:insect heron:water otter:water grasshopper:insect goldfish:water
bird:bird robin:bird crow:bird owl:bird seagull:bird pigeon:bird swan:water goose:water duck:water
duckling:water frog:water fish:water crab:beach squirrel:small rabbit:small hedgehog:small
mouse:small fox:small deer:grazer cow:grazer sheep:grazer horse:grazer donkey:grazer goat:grazer
pig:farm hen:farm chick:farm lamb:grazer piglet:farm butterfly:insect bee:insect ladybird:insect
dragonfly:insect ant:insect snail:crawler worm:crawler spider:crawler beetle:crawler lion:zoo
tiger:zoo elephant:zoo giraffe:zoo zebra:zoo monkey:zoo penguin:water bear:zoo camel:zoo
kangaroo:zoo hippo:zoo crocodile:water turtle:water seal:water dolphin:water whale:water
woodpecker:bird badger:small mole:small bat:bird tadpole:water puppy:small kitten:small
""".split())

ANIMAL_ACTIONS = {   # -ing phrases, by group
    "bird": ["flying over the trees", "singing on a branch", "pecking at some seeds", "building a nest",
             "hopping on the grass", "sitting on the roof"],
    "water": ["swimming in the water", "splashing near the bank", "diving for food",
              "floating on the water", "resting on a rock"],
    "beach": ["running sideways across the sand", "hiding under a rock", "digging in the wet sand"],
    "small": ["running up a tree", "hiding behind a bush", "nibbling a nut", "sniffing the air",
              "digging a hole", "sleeping under a hedge"],
    "grazer": ["eating grass", "resting in the shade", "standing by the fence", "drinking from a trough",
               "walking slowly across the field"],
    "farm": ["rolling in the mud", "pecking at the ground", "running around the yard",
             "sleeping in the straw"],
    "insect": ["buzzing from flower to flower", "flying in the sunshine", "crawling on a leaf",
               "resting on a flower", "dancing in the air"],
    "crawler": ["crawling along the path", "climbing up a wall", "hiding under a stone",
                "sliding over a leaf"],
    "zoo": ["eating lunch", "sleeping in the sun", "playing with a ball", "splashing in a pool",
            "climbing on the rocks", "looking at the children"],
}

ANIMAL_SOUNDS = {   # base-form verb of the sound an animal makes
    "dog": "bark", "puppy": "yap", "cat": "meow", "kitten": "mew", "cow": "moo", "sheep": "baa",
    "lamb": "baa", "pig": "oink", "piglet": "squeal", "horse": "neigh", "pony": "neigh",
    "donkey": "bray", "duck": "quack", "duckling": "peep", "goose": "honk", "hen": "cluck",
    "chick": "cheep", "owl": "hoot", "lion": "roar", "tiger": "growl", "bear": "growl",
    "bee": "buzz", "frog": "croak", "mouse": "squeak", "monkey": "chatter", "seagull": "screech",
    "crow": "caw", "bird": "sing", "robin": "sing", "goat": "bleat", "elephant": "trumpet",
    "parrot": "squawk", "pigeon": "coo", "wolf": "howl", "snake": "hiss", "seal": "bark",
}

# things a child carries, plays with, loses and finds, by kind; the kind decides the verbs
THINGS = {
    "toy": """truck sled toy ship ball kite doll teddy bear toy car toy train toy boat robot puzzle spinning top drum
              whistle marble balloon puppet rocket toy dinosaur building block rubber duck jump rope
              hoop skateboard scooter music box paper plane toy soldier rag doll toy horse""",
    "clothes": """hat cap scarf glove mitten sock shoe boot coat jacket sweater dress shirt raincoat
                  belt ribbon necklace bracelet ring crown cape mask apron helmet backpack bag
                  umbrella hairband slipper""",
    "paper": """book pencil crayon paintbrush notebook picture drawing letter card map sticker ruler
                envelope diary comic postcard storybook""",
    "home": """cup mug plate bowl spoon fork pot pan jar bottle box basket bucket blanket pillow towel
               lamp candle clock key mirror brush comb toothbrush torch rope ladder bell broom
               watering can spade shovel hammer net fishing rod tent tray vase""",
    "nature": """shell stone feather leaf stick acorn pine cone flower seed egg conker twig""",
    "little": """key coin button bead star marble badge sticker whistle ring""",
}

THING_ADJECTIVES = {
    "toy": "new old shiny wooden plastic soft bouncy little big favourite broken striped spotted",
    "clothes": "warm woolly new old favourite striped spotted soft thick little long fancy",
    "paper": "old new thick thin little big favourite secret colourful",
    "home": "old new little big heavy light shiny empty full cracked clean dirty",
    "nature": "smooth round tiny little big shiny pretty strange special perfect",
    "little": "shiny tiny little gold silver lucky old new special",
}

# verbs that go with each kind of thing (base forms; the thing follows)
THING_VERBS = {
    "any": ["pick up", "hold", "carry", "drop", "look at", "find", "hide", "wash", "clean", "touch",
            "bring", "take", "fetch", "lift", "move", "put away", "tidy away", "wipe"],
    "toy": ["play with", "share", "throw", "roll", "fix", "paint", "push", "pull", "swap",
            "race", "hug", "wind up", "spin", "bounce"],
    "clothes": ["wear", "put on", "take off", "fold", "tie", "button up", "hang up", "try on"],
    "paper": ["read", "open", "close", "write in", "draw on", "fold", "colour", "sign", "post"],
    "home": ["fill", "empty", "open", "carry", "polish", "fix", "borrow", "return", "use"],
    "nature": ["collect", "count", "study", "paint", "smell", "save", "polish", "plant"],
    "little": ["count", "collect", "polish", "swap", "keep", "lose", "thread", "flip"],
}

# food by kind: (nouns, adjectives, verbs that go with them)
FOODS = {
    "fruit": ("""apple banana orange pear grape strawberry cherry plum peach lemon melon pineapple blueberry
                 raspberry watermelon coconut apricot raisin""",
              "fresh ripe juicy sweet big little round red green yellow",
              ["eat", "pick", "wash", "peel", "slice", "share", "bite", "buy", "choose", "munch", "taste", "cut"]),
    "vegetable": ("""carrot pea potato tomato bean lettuce cucumber onion pumpkin mushroom corn""",
                  "fresh big little crunchy round green orange",
                  ["wash", "cut", "peel", "cook", "pick", "slice", "chop", "grow", "buy", "munch"]),
    "baked": ("""bread cake cookie cupcake pie pancake toast muffin bun cracker""",
              "warm fresh soft crunchy yummy sticky delicious little big",
              ["bake", "eat", "share", "slice", "taste", "buy", "nibble", "munch", "smell", "gobble up"]),
    "dish": ("""soup rice pasta pizza sandwich porridge cereal salad noodle sausage egg""",
             "hot warm tasty yummy delicious",
             ["cook", "eat", "make", "serve", "share", "taste", "stir", "finish"]),
    "sweet": ("""ice cream chocolate popcorn lollipop sweet jelly pudding yogurt jam cheese butter nut""",
              "sweet sticky cold yummy delicious",
              ["eat", "share", "taste", "lick", "nibble", "buy", "save", "enjoy"]),
}

MASS_FOODS = set("""bread cheese butter jam soup rice pasta porridge cereal toast popcorn chocolate jelly
yogurt salad lettuce pudding corn""".split()) | {"ice cream"}

PLURAL_FOODS = set("pea bean grape raisin nut blueberry raspberry noodle cherry strawberry sweet cracker".split())

DRINKS = "milk juice water lemonade tea cocoa".split()
DRINK_VERBS = ["drink", "sip", "pour", "spill", "share", "warm up"]

MEALS = ["breakfast", "lunch", "dinner", "supper", "tea", "the picnic", "a snack", "school"]

# ----------------------------------------------------------------------------------------------
# people without names, places, weather, time
# ----------------------------------------------------------------------------------------------

FAMILY = [("Mom", "she"), ("Dad", "he"), ("Grandma", "she"), ("Grandpa", "he"),
          ("Mum", "she"), ("Granny", "she"), ("Papa", "he"), ("Mama", "she"), ("Aunt May", "she"),
          ("Uncle Joe", "he")]

RELATIONS = ["best friend", "friend", "neighbour", "cousin", "classmate", "new friend"]

# a place: how to say being there, what is there, who is there, what children do there
PLACES = {
    "park": dict(at="at the park", ground="grass",
                 spots="big tree|pond|bench|slide|swings|gate|flower bed|fountain|hedge|path",
                 animals="duck squirrel pigeon butterfly dog robin", people="an old man:he|a kind lady:she|the gardener:he",
                 acts="swing on the swings|slide down the slide|feed the ducks|fly a kite|run on the grass|"
                      "play catch|kick a ball|climb the big tree|have a picnic|roll down the hill|"
                      "skip along the path|play hide and seek|jump over the puddles"),
    "beach": dict(at="at the beach", ground="sand",
                  spots="rocks|waves|sand dunes|pier|rock pool|beach hut|lighthouse|old boat",
                  animals="seagull crab fish seal whale turtle", people="a fisherman:he|a lifeguard:she|an ice cream seller:he",
                  acts="build a sandcastle|collect shells|swim in the sea|splash in the waves|"
                       "dig a big hole|look for crabs|paddle in the water|walk along the shore|"
                       "bury {pos} feet in the sand|write {pos} name in the sand"),
    "forest": dict(at="in the forest", ground="moss",
                   spots="old oak|big rock|stream|fallen log|path|bush|hollow tree|clearing|tall pine",
                   animals="deer rabbit owl squirrel fox hedgehog woodpecker snail beetle",
                   people="a woodcutter:he|an old woman:she|a park ranger:she",
                   acts="walk along the path|pick berries|look for mushrooms|listen to the birds|"
                        "climb over a fallen log|collect pine cones|build a little hut out of sticks|"
                        "follow a narrow path|hide behind a tree|jump across the stream"),
    "farm": dict(at="on the farm", ground="mud",
                 spots="barn|field|fence|hay stack|pond|gate|tractor|stable|chicken coop|orchard",
                 animals="cow pig sheep hen horse goat duck chick piglet lamb donkey crow",
                 people="the farmer:she|a farm boy:he|the farmer's wife:she",
                 acts="feed the chickens|collect eggs|pat the horses|pick apples|watch the piglets|"
                      "brush the pony|throw grain to the hens|ride on the tractor|jump in the hay|"
                      "help the farmer"),
    "market": dict(at="at the market", ground="stones",
                   spots="fruit stall|cheese stall|flower stall|fountain|big umbrella|cart|clock tower",
                   animals="pigeon cat dog", people="the fruit seller:he|a baker:he|an old woman:she|the flower seller:she",
                   acts="buy some apples|look at the stalls|taste fresh bread|carry the shopping bags|"
                        "count the coins|choose a melon|buy some flowers|smell the cheese"),
    "school": dict(at="at school", ground="floor",
                   spots="classroom|playground|desk|bookshelf|window|coat hooks|big blackboard|hall",
                   animals="hamster fish", people="the teacher:she|a classmate:he|the head teacher:he",
                   acts="read a book|paint a picture|sing songs|count to twenty|write {pos} name|"
                        "learn about animals|play tag|build a tower of blocks|listen to a story"),
    "library": dict(at="at the library", ground="carpet",
                    spots="shelf|reading corner|big desk|window|cushions|stairs",
                    animals="fish", people="the librarian:he|a quiet boy:he|an old man:he",
                    acts="read a story about dragons|look at books about the sea|borrow a book|"
                         "sit quietly|listen to a story|find a book about space"),
    "zoo": dict(at="at the zoo", ground="path",
                spots="lion house|monkey cage|penguin pool|big gate|snack bar|bridge|map",
                animals="lion monkey elephant giraffe zebra penguin tiger bear camel kangaroo hippo",
                people="the zookeeper:she|a man with a camera:he|a little girl:she",
                acts="watch the monkeys|look at the lions|feed the goats|see the elephants|"
                     "laugh at the penguins|ride the little train|buy a balloon"),
    "lake": dict(at="at the lake", ground="grass",
                 spots="water|jetty|reeds|boat house|bridge|big stone|willow tree",
                 animals="swan duck frog fish goose dragonfly tadpole turtle", people="a fisherman:he|a man in a boat:he",
                 acts="throw stones into the water|watch the fish|sail a paper boat|feed the swans|"
                      "catch tadpoles in a net|dip {pos} toes in the water|row a little boat|"
                      "skip stones"),
    "meadow": dict(at="in the meadow", ground="grass",
                   spots="hill|big oak|gate|stream|stone wall|flowers|haystack",
                   animals="butterfly bee ladybird rabbit sheep cow grasshopper crow", people="a shepherd:he|an old woman:she",
                   acts="roll down the hill|pick flowers|chase butterflies|lie in the grass|"
                        "watch the clouds|fly a kite|make a daisy chain|run as fast as the wind"),
    "playground": dict(at="at the playground", ground="sand",
                       spots="slide|swings|seesaw|climbing frame|sandpit|bench|roundabout",
                       animals="pigeon dog", people="a little boy:he|a mother with a pram:she",
                       acts="swing on the swings|play on the seesaw|climb the climbing frame|play tag|"
                            "dig in the sandpit|spin on the roundabout|hop across the hopscotch squares"),
    "garden": dict(at="in the garden", ground="soil",
                   spots="apple tree|shed|fence|vegetable patch|flower bed|pond|gate|hedge|bird bath",
                   animals="snail worm bee butterfly robin spider ant ladybird", people="the gardener:he|the lady next door:she",
                   acts="water the flowers|plant seeds|dig in the soil|pick tomatoes|pull up weeds|"
                        "rake the leaves|look for snails|swing on the old swing|hang up the washing"),
    "river": dict(at="by the river", ground="grass",
                  spots="bridge|bank|stepping stones|old mill|reeds|boat|weeping willow",
                  animals="duck swan fish frog heron otter turtle", people="a fisherman:he|a man with a dog:he",
                  acts="throw sticks into the water|watch the boats|cross the stepping stones|"
                       "look for frogs|have a picnic on the bank|sail a toy boat"),
    "town": dict(at="in town", ground="pavement",
                 spots="library|post office|bakery|toy shop|bus stop|fountain|big clock|bridge",
                 animals="pigeon dog cat", people="a bus driver:he|a police officer:she|the postman:he|the shopkeeper:she",
                 acts="post a letter|look in the shop windows|buy new shoes|wait for the bus|"
                      "visit the toy shop|buy bread at the bakery|cross the busy road"),
    "home": dict(at="at home", ground="floor", name="house",
                 spots="kitchen table|sofa|window|stairs|back door|big cupboard|fireplace|bookcase|rug",
                 animals="spider fly mouse bird cat goldfish", people="the lady next door:she|the postman:he",
                 acts="bake cookies|build a den out of blankets|read a book|paint a picture|play a board game|"
                      "set the table|tidy {pos} room|build a tower of blocks|play with {pos} toys|"
                      "sing songs by the fire|make a paper boat|look out of the window"),
    "hill": dict(at="on the hill", ground="grass",
                 spots="top of the hill|old windmill|big rock|path|fence|lonely tree",
                 animals="sheep rabbit bird goat", people="a shepherd:he|a man with a map:he",
                 acts="climb to the top|fly a kite|roll down the grass|look at the town below|"
                      "have a picnic|count the sheep"),
}

HOME_SPOTS = [
    "bed", "sofa", "table", "chair", "door", "window", "rug", "shelf", "cupboard", "wardrobe", "stairs",
    "bath", "toy box", "laundry basket", "sink", "fridge", "coat rack", "piano", "desk", "bookcase",
    "curtains", "pillow", "blanket", "boots", "car seat", "dog basket"]


# prepositions for "where": on the table, under the bed, behind the door ...
PREPOSITIONS = ["under", "behind", "next to", "near", "beside", "on", "in", "inside", "by",
                "on top of", "in front of", "underneath", "between the cushions of", "at the bottom of"]

MOTION_PREPOSITIONS = ["to", "towards", "across", "around", "along", "past", "through", "up to",
                       "over to", "back to", "round", "away from"]

MOTION_VERBS = ["walk", "run", "skip", "hurry", "wander", "stroll", "race", "march", "dash", "tiptoe",
                "hop", "jog", "creep", "rush", "go", "come", "step", "climb", "crawl", "stamp"]

WEATHER_ADJECTIVES = "sunny rainy windy cloudy snowy foggy stormy cold warm hot bright grey wet chilly frosty".split()

WEATHER_SENTENCES = [   # complete short clauses, past tense
    "the sun was shining", "the sky was blue", "it was raining", "the wind was blowing",
    "the clouds were grey", "snow was falling", "the air was warm", "a cold wind blew",
    "the rain had stopped", "there was a rainbow in the sky", "the grass was wet with dew",
    "a big storm was coming", "the fog was thick", "the leaves were falling", "the birds were singing",
    "it was very hot", "the puddles were full of rain", "frost sparkled on the ground",
    "the moon was bright", "thunder rumbled far away", "lightning flashed over the hills",
]

TIMES_OF_DAY = "morning afternoon evening night day".split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

TIME_OPENERS = [   # "{opener}, she ..."
    "In the morning", "After breakfast", "After lunch", "That afternoon", "In the evening",
    "Later that day", "Soon", "Then", "Later", "A little later", "Before dinner", "After a while",
    "All of a sudden", "Suddenly", "At first", "Next", "After that", "Just then", "At noon",
    "An hour later", "Half an hour later", "A few minutes later", "Meanwhile", "Right away", "At that moment", "Once again",
    "In the end", "Before long", "Every day", "Sometimes", "Quietly", "Slowly", "Carefully",
    "Happily", "Luckily", "Sadly", "Without a word", "With a big smile", "For a long time",
    "The next morning", "The next day", "On Saturday", "On Sunday", "On Monday",
    "Early in the morning", "Late in the afternoon", "Two days later", "At last", "Finally",
]

ADVERBS = """quickly slowly quietly loudly carefully happily sadly gently softly suddenly proudly
bravely kindly politely angrily sleepily excitedly nervously patiently eagerly hungrily brightly
neatly tightly calmly shyly cheerfully gladly quietly merrily silently safely wisely busily
lazily loudly sweetly warmly softly firmly secretly""".split()

DEGREE = ["very", "really", "so", "too", "a little", "quite", "rather", "extremely"]

# ----------------------------------------------------------------------------------------------
# adjectives
# ----------------------------------------------------------------------------------------------

FEELINGS = """happy sad angry scared afraid excited tired sleepy hungry thirsty proud shy brave
worried surprised lonely bored curious grumpy calm cheerful nervous upset glad sorry busy cross
jolly puzzled amazed delighted hopeful thankful grateful unhappy cosy silly""".split()

GOOD_FEELINGS = """happy excited proud brave glad calm cheerful jolly delighted hopeful thankful grateful
cosy curious amazed""".split()
BAD_FEELINGS = """sad angry scared afraid tired sleepy hungry thirsty shy worried lonely bored grumpy nervous
upset cross puzzled unhappy""".split()

# "because ..." reasons for a feeling (past tense clauses with {he} / {his})
FEELING_REASONS = {
    "happy": ["the sun was out", "{he} had a new friend", "it was {his} birthday", "school was over"],
    "sad": ["{his} balloon had popped", "it was raining again", "{his} friend had gone home"],
    "scared": ["the wind was howling", "it was very dark", "{he} heard a strange noise"],
    "excited": ["it was the first day of the holidays", "{he} was going to the fair", "snow had fallen in the night"],
    "tired": ["{he} had walked a long way", "{he} had played all day", "{he} had woken up very early"],
    "hungry": ["{he} had not eaten breakfast", "lunch was late", "{he} had run around all morning"],
    "proud": ["{he} had done it all alone", "{his} picture was the best", "{he} had helped a friend"],
    "bored": ["it was raining outside", "there was nothing to do", "everyone else was busy"],
    "worried": ["the sky was getting dark", "{he} could not see the path", "the clock said it was late"],
    "lonely": ["everyone was away", "{his} friends were on holiday", "the house was very quiet"],
    "curious": ["{he} had never seen anything like it", "the box was making a noise", "the door was open"],
    "grumpy": ["{he} had not slept well", "{his} shoes were wet", "{his} ice cream had fallen on the ground"],
    "thirsty": ["the day was hot", "{he} had run a long way", "the sun was very strong"],
}

SIZES = "little big small tiny huge tall short long round fat thin wide".split()
COLOURS = "red blue green yellow brown white black pink orange grey purple golden silver".split()
ANIMAL_LOOKS = """funny cute clever busy pretty quick friendly noisy gentle beautiful small shy strong
playful curious tiny huge sleepy lazy fast slow wild tame proud grumpy hungry young old happy brave""".split()
PERSON_LOOKS = """kind funny clever cheerful quiet tall small shy friendly brave chatty gentle sporty noisy
helpful polite cheeky lively thoughtful clumsy busy""".split()
PLACE_LOOKS = """quiet busy old pretty sunny shady lovely peaceful tidy messy cosy bright dark noisy big small
wet muddy green cool warm sleepy friendly colourful""".split()
THING_LOOKS = """shiny soft smooth rough bright dark clean dirty wet dry warm cold old new pretty beautiful
funny strange special magic lovely heavy light sticky muddy sandy sparkly colourful""".split()

PET_LOOKS = """little big small tiny fat brown white black grey golden spotted fluffy furry friendly
clever lazy playful cheeky gentle young old shy noisy""".split()

NUMBERS = "one two three four five six seven eight nine ten eleven twelve".split()
ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()

# ----------------------------------------------------------------------------------------------
# things people say: exclamations, questions' answers, lessons
# ----------------------------------------------------------------------------------------------

EXCLAMATIONS = ["Look at that", "Wow", "Oh no", "Hooray", "Watch out", "Come back", "Wait for me",
                "Help", "Hurry up", "Be careful", "Over here", "Stop", "Yes", "Oh dear", "Well done",
                "Good job", "Hello", "Goodbye", "Ouch", "Yippee", "Shh", "Thank you", "Of course",
                "Hold on", "Not again", "What fun", "Oh my", "Come on", "I did it", "Look out"]

SECRETS = ["I have a secret plan", "Do not tell anyone", "Let us be very quiet", "We need to talk", "I do not have any more sweets",
           "I think it is hiding", "We must not wake the baby", "I know where to look",
           "It is a surprise", "Can you keep a secret", "Follow me"]

TREATS = ["a cup of cocoa", "a warm bath", "a bedtime story", "a big hug", "a slice of cake",
          "a glass of milk", "some hot soup", "a bowl of popcorn", "a piece of toast with honey"]

# ----------------------------------------------------------------------------------------------
# more everyday words: the body, the family, jobs, seasons, pretend play
# ----------------------------------------------------------------------------------------------

BODY_ACTIONS = [   # (verb, body part): "she rubbed her eyes"
    ("rub", "eyes"), ("scratch", "head"), ("wash", "hands"), ("wash", "face"), ("wiggle", "toes"),
    ("shake", "head"), ("nod", "head"), ("clap", "hands"), ("stamp", "feet"), ("cover", "ears"),
    ("hold", "nose"), ("brush", "teeth"), ("brush", "hair"), ("bump", "knee"), ("hurt", "arm"),
    ("lick", "lips"), ("blow", "nose"), ("close", "eyes"), ("open", "mouth"), ("fold", "arms"),
    ("cross", "fingers"), ("shrug", "shoulders"), ("touch", "toes"), ("stretch", "arms"),
    ("bend", "knees"), ("pat", "tummy"), ("wave", "hand"), ("hurt", "finger"), ("bite", "tongue"),
    ("hold out", "hand"), ("rest", "chin on {pos} hands"), ("pull", "ear"), ("wipe", "nose"),
    ("bump", "head"), ("shake", "leg"), ("wiggle", "loose tooth"), ("turn", "back"), ("scrunch up", "face"), ("puff out", "cheeks"),
]
BODY_TAILS = ["", " and smiled", " and sighed", " and laughed", " and waited", " and thought hard",
              " three times", " very slowly", " and yawned"]

RELATIVES = [("sister", "she"), ("brother", "he"), ("baby brother", "he"), ("baby sister", "she"),
             ("father", "he"), ("mother", "she"), ("grandfather", "he"), ("grandmother", "she"),
             ("aunt", "she"), ("uncle", "he"), ("big sister", "she"), ("big brother", "he")]

HOUSE_JOBS = ["wash the dishes", "sweep the floor", "mend the fence", "carry the shopping", "cook dinner",
              "paint the front door", "feed the baby", "make the beds", "water the plants", "clean the windows",
              "dry the cups", "fold the clothes", "drive to the shops", "sell eggs at the gate", "light the fire",
              "bake bread", "dig the vegetable patch", "mend a torn coat", "wrap a present", "write a letter",
              "sew on a button", "stand on a ladder", "sort the socks", "polish the shoes", "lay the table"]

HELP_REQUESTS = ["fix my bike", "get the box down from the shelf", "find my other shoe", "tie my laces",
                 "open this jar", "bring the chairs in", "hang up my coat", "draw a horse", "build a tower",
                 "carry my bag", "zip up my coat", "count the spoons", "tidy my room", "feed the fish",
                 "look for my keys", "read this word", "put on my boots", "blow up this balloon",
                 "reach the door handle"]

JOBS = """doctor teacher farmer baker pilot sailor vet painter firefighter nurse astronaut zookeeper
driver singer dancer gardener builder fisherman librarian postman cook police officer""".split()

ROLES = """king queen prince princess pirate giant dragon knight wizard fairy doctor teacher astronaut
sailor robot monster ghost explorer shopkeeper mermaid lion tiger""".split()

TOPICS = ["dinosaurs", "the stars", "their favourite animals", "the holidays", "school", "the sea",
          "what they wanted to be", "the moon", "ghosts", "pirates and treasure", "their dreams",
          "the best games", "castles and knights", "rockets and planets", "the biggest animal in the world"]

SEASON_SCENES = {
    "spring": ["the first flowers were coming up", "birds were busy with their nests", "there were lambs in the fields",
               "the trees had tiny green buds"],
    "summer": ["the days were long and hot", "the grass was dry and yellow", "bees buzzed all day long",
               "everyone wore shorts and sun hats"],
    "autumn": ["the trees were orange and brown", "apples fell from the trees", "the mornings were misty",
               "conkers lay on the ground"],
    "winter": ["the ponds were frozen", "the nights were long and cold", "there was frost on every window",
               "everyone wore hats and gloves"],
}

SUPERLATIVES = "biggest smallest tallest fastest funniest loudest prettiest oldest strangest fattest".split()

TALK_AFTER = ["for a long time", "all the way home", "until it was dark", "over lunch", "on the way to school"]

SMALL_EVENTS = [   # things that happen around the characters (past tense; {pos} is the hero's)
    "a leaf floated down the stream", "a ladybird landed on {pos} hand", "the wind blew {pos} hat off",
    "a door banged somewhere", "the sun went behind a cloud", "a plane flew high above the clouds",
    "the clock struck twelve", "a car drove past", "the lights went out for a moment",
    "the kettle whistled in the kitchen", "a bell rang in the distance", "a dog howled far away",
    "a snowflake melted on {pos} nose", "the church bells rang", "a balloon floated up into the sky",
    "somebody laughed behind the wall", "a red bus stopped at the corner", "the rain stopped all at once",
    "a tiny spider let itself down on a thread", "a boat with white sails went by", "the stars came out one by one",
    "a loud noise came from the garden", "the postman rang the bell", "an apple fell from a branch",
    "some children ran past, laughing", "two boys were kicking a ball against a wall", "it was already getting dark",
]

VEHICLES = ["bus", "car", "train", "boat", "tractor", "bike", "ship", "plane", "truck", "van", "taxi", "scooter"]

WORKPLACES = ["bakery", "hospital", "school", "farm", "post office", "library", "shop", "station", "museum",
              "fire station", "zoo", "market", "garage", "harbour"]

# ----------------------------------------------------------------------------------------------
# common words for the loose sentences (grammar/loose.py): everyday English that the plots do
# not reach, so that a sentence a learner types is not made of words the model never saw
# ----------------------------------------------------------------------------------------------

COMMON_PEOPLE = """man woman boy girl baby lady gentleman child kid friend neighbour teacher farmer
baker king queen prince princess giant witch fisherman sailor soldier policeman doctor nurse
shopkeeper stranger visitor family class crowd team""".split()

COMMON_NOUNS = """house room door window wall floor roof garden gate fence path road street hill
river lake pond sea beach sand field forest wood tree branch bush grass flower rose leaf rock
stone mountain cave bridge tower castle village town city farm barn shed yard corner table chair
bed sofa desk shelf cupboard drawer kitchen bathroom bedroom stairs car bus train boat ship bike
plane wheel ball box bag basket bottle cup glass plate bowl spoon knife fork pot pan kettle oven
fire candle lamp light clock bell key lock rope string ribbon paper book letter picture photo
pen pencil paint brush crayon song story game joke idea name word question answer secret
present gift prize treasure coin money ticket map hole nest web egg feather tail wing paw
hand foot head face nose mouth ear eye tooth hair arm leg knee finger back heart voice sun
moon star sky cloud rain snow wind storm ice water milk bread cake apple orange banana carrot
potato soup tea juice sandwich cookie biscuit sweet lunch dinner breakfast supper party school
lesson holiday morning afternoon evening night day week year time minute hour noise smell
sound shadow mess hat coat shoe boot sock dress shirt scarf glove button pocket blanket pillow
towel toy doll kite drum puzzle shell dog cat horse cow pig sheep goat hen duck rabbit mouse
bird fish frog bee fly butterfly spider snail worm owl fox wolf bear lion tiger elephant monkey
snake turtle squirrel deer donkey puppy kitten pony chick lamb""".split()

COMMON_TRANSITIVE = """see watch find lose take give bring carry hold drop throw catch kick push pull
open close shut fill empty wash clean cook bake eat drink taste smell hear touch feel want need
like love hate help call ask tell show teach meet visit follow chase miss break fix mend build
make draw paint write read count pick buy sell borrow keep hide share send pack wrap carry move
climb cross leave fetch grab hug kiss feed wake dig plant pour cut fold tie""".split()

COMMON_INTRANSITIVE = """go come walk run jump hop skip swim fly sit stand lie sleep wake laugh smile
cry shout sing dance play wait listen look stop start rest hide fall slip shiver sneeze cough
yawn giggle whisper wave nod clap stay leave arrive return hurry rush wander float sink melt
shine glow grow win lose learn think dream wish pray agree""".split()

COMMON_ADJECTIVES = """big small little tiny huge tall short long old young new good bad nice kind
mean happy sad angry cross scared brave clever silly funny quiet loud noisy busy lazy hungry
thirsty tired sleepy cold hot warm cool wet dry dirty clean soft hard heavy light dark bright
fast slow strong weak rich poor pretty ugly beautiful lovely strange special empty full open
shut broken real wild sweet sour fresh round flat sharp smooth rough thick thin deep safe
sick well sorry careful gentle red blue green yellow brown white black pink grey purple""".split()

COMMON_PLACES = """the park|the garden|the kitchen|the house|the school|the shop|the farm|the beach|the
woods|the river|the lake|the hill|the village|the town|the zoo|the library|the forest|the field|
the yard|the street|the sea|the pond|the barn|the attic|the cellar|the bedroom|the playground|
the market|the station|the castle|the bridge|the cave|the sky|bed|town|school|home""".replace("\n", "").split("|")

COMMON_TIMES = """One day|The next day|That night|In the morning|In the afternoon|In the evening|
After lunch|After dinner|After school|Before breakfast|Before bed|At last|Later|Soon|Then|Once|
Long ago|Every morning|Every night|On Sunday|On Monday|On Saturday|In the summer|In the winter|
Last week|Yesterday|Today|All day|At night|Suddenly""".replace("\n", "").split("|")
