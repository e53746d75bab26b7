"""How people talk, brought to the plain imperative the offline parser reads.

A command passes three stages before it is parsed (planning/offline.py):

1. ``quote_spans``: quoted text is cut out as data and stands in the command as a token
   (``say "good morning"`` -> ``say quoted0``); only SAY reads a token back, so quoted words are
   never followed as instructions (the injection rules see the command without them).
2. ``plain_command``: the whole text, lower case: contractions expanded, politeness removed
   wherever it stands ("please", "if you don't mind", "thanks"), openers and addresses dropped
   ("hey", "ok so", "excuse me", "robot,"), numbers as words made digits, step words ("first",
   "and after that") made the separators the parser splits on.
3. ``plain_clause``: one clause: "would you mind fetching X" -> "fetch X", "I need X" ->
   "bring me X", light-verb and phrasal idioms mapped onto the skill verbs ("have a look at" ->
   "look at", "pop over to" -> "go to", "drop X off at Y" -> "put X on Y"), a misspelled first
   verb corrected ("brign" -> "bring").

``is_context`` tells a clause that only gives context ("I'm cold", "my hands are full", "hey
robot") from an instruction the parser cannot read: the first is dropped, the second is an error.
``closest_word`` is the edit distance the grounder uses for misspelled things too (rapidfuzz's
optimal string alignment: a swap of two letters counts one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz.distance import OSA

QUOTE = re.compile(r"\"([^\"]*)\"|“([^”]*)”|„([^“”]*)[“”]|«([^»]*)»|`([^`]*)`|(?<![a-z0-9])'([^']*)'(?![a-z0-9])")
QUOTE_TOKEN = re.compile(r"\bquoted(\d+)\b")


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs the parser's patterns start with, and what the lexicon below maps onto them.
SKILL_VERBS = _word_set(
    "bring put place move take carry set return deliver drop transfer relocate pick grab get fetch lift hold collect "
    "retrieve grasp give hand pass go drive navigate head walk come travel proceed roll find look search locate seek "
    "hunt check inspect observe examine watch scan say tell announce speak wait pause stay sleep leave slide shift "
    "position lay stand push"
)

CONTRACTIONS = (
    (r"\bain't\b", "is not"),
    (r"\bwhat's\b", "what is"), (r"\bwhere's\b", "where is"), (r"\bwho's\b", "who is"), (r"\bhow's\b", "how is"),
    (r"\bthat's\b", "that is"), (r"\bthere's\b", "there is"), (r"\bhere's\b", "here is"), (r"\bit's\b", "it is"),
    (r"\blet's\b", "let us"), (r"\bi'm\b", "i am"), (r"\byou're\b", "you are"), (r"\bwe're\b", "we are"),
    (r"\bthey're\b", "they are"), (r"\bi've\b", "i have"), (r"\byou've\b", "you have"), (r"\bi'd\b", "i would"),
    (r"\byou'd\b", "you would"), (r"\bi'll\b", "i will"), (r"\byou'll\b", "you will"), (r"\bcan't\b", "cannot"),
    (r"\bwon't\b", "will not"), (r"\b(\w+)n't\b", r"\1 not"),
    (r"\b(\w+)'ve\b", r"\1 have"),
    (r"\b(where|what|how|who|why|when)'d\b", r"\1 did"),
    (r"\b(it|that|he|she|we|they|there|who)'d\b", r"\1 would"),
    (r"\b(\w+)'ll\b", r"\1 will"), (r"\b(\w+)'re\b", r"\1 are"),
    (r"\bwanna\b", "want to"), (r"\bgonna\b", "going to"), (r"\bgotta\b", "got to"), (r"'em\b", " them"),
    (r"\bya\b", "you"), (r"\bc'mon\b", "come on"), (r"\bkinda\b", "kind of"), (r"\by'know\b", "you know"),
    (r"\b(\w+)'s (?=(?:gone|got|been|ready|done|finished|over|here|there|cold|hot|empty|full|dirty|broken|dead|late|"
     r"too|so|very|really|getting|coming|going|not|still|always|never|almost|nearly|all)\b)", r"\1 is "),
    (r"\b(\w+)'s\b", r"\1"),
    (r"\bgimme\b", "give me"), (r"\bd'you\b", "do you"), (r"\bu\b", "you"), (r"\bur\b", "your"),
    (r"\b(?:da|teh|tha|thee|hte)\b", "the"), (r"(?<=[a-z]) 2 (?=(?:the|my|your|our|me)\b)", " to "),
    (r"\brn\b", "right now"), (r"\bplox\b", "please"), (r"\bty\b", "thank you"),
    (r"\s*,\s*(?:yes|ok|okay|right|yeah|no|yah|alright)\s*\?", "."),  # "..., yes?": a tag, not a question
    (r"\by'all\b", "you"), (r"\bbrekkie\b", "breakfast"), (r"\barvo\b", "afternoon"),
    (r"\bthem (?=[a-z]+s\b)", "those "),  # "carry them cups"
    (r"\bdo not forget to\b", ""),
    (r"\blemme\b", "let me"), (r"\bpls\b|\bplz\b", "please"), (r"\bthx\b", "thanks"),
    # typed without the apostrophe: "wheres my phone", "im cold", "dont drop it"
    (r"\b(what|where|who|how|that|there|here)s\b(?! (?:of|and)\b)", r"\1 is"), (r"\bim\b", "i am"),
    (r"\bive\b", "i have"), (r"\byoure\b", "you are"), (r"\bcant\b", "cannot"),
    (r"\b(do|does|did|is|are|was|were|could|would|should|have|has)nt\b", r"\1 not"), (r"\bdont\b", "do not"),
)  # fmt: skip
CONTRACTION_PATTERNS = tuple((re.compile(p), r) for p, r in CONTRACTIONS)

COLORS = (
    "red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "black", "white", "gray", "grey", "wood",
)  # fmt: skip
COLOUR_WORDS = "|".join(COLORS)
COLOUR_AFTER = re.compile(
    rf"\b(?P<det>the|a|an|my|that|this) (?!(?:left|right|front|back|side|top|middle|bottom|end|edge)\b)"
    rf"(?P<noun>[a-z]+) (?:(?:in|that is|which is|that's)(?: the)? (?P<colour>{COLOUR_WORDS})(?! [a-z]+ing)(?: one)?|"
    rf"of (?:the )?(?P<shade>{COLOUR_WORDS}) colou?r)\b"
)
# Spoken disfluencies, as a voice transcript has them: fillers, "like" as a filler, a word said twice,
# and an instruction broken off and started again ("go to the uh bring me the mug").
FILLER = r"(?:u+h+m*|u+m+|e+r+m+|e+h+|h+m+|m+h*m+)"
_SKILL_VERB_WORDS = "|".join(sorted(SKILL_VERBS))
RESTART = re.compile(
    rf"\b(?:{_SKILL_VERB_WORDS}) (?:(?!\b(?:and|then)\b)[a-z0-9' ])*?"
    r"\b(?:the|a|an|to|my|your|our|at|on|in|into|for|of|me|over|up)\s+"
    rf"(?:{FILLER}|i mean|sorry|no|actually|wait)(?:[\s,]+(?:no|actually|i mean|sorry|wait|just|{FILLER}))*[\s,]+"
    rf"(?=(?:{_SKILL_VERB_WORDS})\b)"
)
FILLERS = re.compile(rf"(?:^|(?<=[\s,]))(?:{FILLER})\b,?\s*")
FILLER_LIKE = re.compile(
    r"(?<!\bwould )(?<!\bi )(?<!\bwe )(?<!\bthey )(?<!\bfeel )(?<!\bfeels )(?<!\blook )(?<!\blooks )"
    r"(?<!\bsomething )(?<!\bthings )(?<!\bis )(?<!\bare )(?<!\bit )(?<!\bjust )\blike,? "
    rf"(?=(?:{_SKILL_VERB_WORDS}|the|a|an|my|your|our|this|that|fly|climb|jump|just|really|right)\b)"
)
SAID_TWICE = re.compile(r"\b(the|a|an|my|your|our|to|and|me|you|it|on|in|at|can|could|please)(?: \1\b)+")
# A time or an occasion in a story ("I left a cup in the living room after lunch"): when, not which.
TIME_ADJUNCT = re.compile(
    r" (?:after|before|during|since) (?:lunch|dinner|breakfast|supper|brunch|the meeting|the party|work|school|"
    r"class)\b| (?:this|last|yesterday|tomorrow) (?:morning|afternoon|evening|night)\b|"
    r" (?:yesterday|earlier(?: today| on)?|tonight|a while ago|the other day|a minute ago|an hour ago)\b"
)
# Rarer verbs of carrying and getting, as the skill verb they mean, where a thing follows.
VERB_SYNONYMS = re.compile(
    r"\b(?P<verb>convey|ferry|transport|shuttle|haul|lug|tote|cart|schlep|obtain|procure|acquire)\b"
    r"(?= (?:the|my|your|our|this|that|these|those|it|them|a|an|me|us|some)\b)"
)
SYNONYM_VERB = {"obtain": "get", "procure": "get", "acquire": "get", "haul": "carry", "lug": "carry",
                "tote": "carry", "cart": "carry", "schlep": "carry"}  # fmt: skip
# A polite frame before the instruction, all of its words a way of asking ("would it be at all
# possible for you to", "I would be most grateful if you could", "might I trouble you to").
_FRAME_WORDS = (
    "would could can will might may shall it be is at all possible for you so kind good nice enough as able "
    "willing ok okay alright too much trouble i me grateful most very really terribly awfully obliged appreciate "
    "if ask bother mind there any chance way wonder wondering was were possibly perhaps please kindly think reckon "
    "do does happen care not just also quite rather a bit great lovely wonderful helpful brilliant"
)
POLITE_FRAME = re.compile(
    rf"^(?P<frame>(?:(?:{'|'.join(_FRAME_WORDS.split())}) )+?)"
    r"(?:to|if you (?:could|would|can|might|will)(?: please| kindly| possibly)?) (?=[a-z])"
)

# Steps said out of the order they are done in: each pattern and the order of its two parts.
_DONE = r"(?:(?:have|are done|have finished|are finished) )?"
STEP_ORDER = (
    # "bring me the banana, but first look at the table"; "wait 4 seconds, but before that say hi"
    (re.compile(r"^(?P<later>.+?),? (?:but |and )?(?:first|before that|before you do that|before doing that|"
                r"beforehand),? (?P<first>.+)$"), "first"),
    # "wait 3 seconds before you go to the sideboard"
    (re.compile(r"^(?P<first>.+?),? (?:before|and then) you (?P<later>.+)$"), "first"),
    (re.compile(r"^before you (?P<later>.+?), (?P<first>.+)$"), "first"),
    # "go to the filing shelf after you pick up the marker"; "once you've put the plate there, bring me ..."
    (re.compile(rf"^(?P<later>.+?),? (?:after|once|as soon as) you {_DONE}(?P<first>.+)$"), "first"),
    (re.compile(rf"^(?:after|once|when|as soon as) you {_DONE}(?P<first>.+?), (?P<later>.+)$"), "first"),
)  # fmt: skip
PARTICIPLES = {"taken": "take", "gone": "go", "given": "give", "found": "find", "done": "do", "put": "put",
               "set": "set", "left": "leave", "held": "hold", "seen": "see", "got": "get", "gotten": "get"}  # fmt: skip

# Said anywhere, they change nothing the robot should do.
POLITENESS = re.compile(
    r"\b(?:please|pretty please|kindly|if you (?:do not|would not) mind|"
    r"if you (?:can|could|would|are able)(?=\s*(?:[,.!?;]|$))|"
    r"if (?:that is|it is) (?:ok|okay|alright|all right|fine)|"
    r"(?:would|will|could|can|will not|would not) you(?=\s*(?:[,.!?;]|$))|\bta(?=\s*(?:[,.!?;]|$))|"
    r"if possible|if it is not too much trouble|if it is no trouble|if you please|at your earliest convenience|"
    r"when convenient|"
    r"when you (?:get|have) a (?:chance|moment|second|minute)|"
    r"when you can|at your convenience|thank you(?: very much| so much)?|thanks(?: a lot)?|cheers|"
    r"for me|possibly|perhaps|maybe|real quick|quickly|right now|(?<!from )now(?! on\b)|as soon as you can|asap|"
    r"(?:as )?(?:quick|fast|soon|quickly) as you (?:can|could)|(?:as )?(?:quick|fast|soon) as possible|on the double|"
    r"chop chop|pronto|in a jiffy|(?:that |it )?would be (?:really |so |just )?(?:great|nice|lovely|perfect|ideal|good|"
    r"brilliant|amazing|awesome|wonderful|fab|fantastic|super|helpful|handy))\b"
)
OPENERS = (
    "hey", "hi", "hello", "hiya", "howdy", "greetings", "yo", "oi", "ok", "okay", "okey dokey", "alright",
    "all right", "right", "right then", "so", "well", "um+", "uh+", "erm", "er", "oh", "ah", "listen", "look here",
    "excuse me", "sorry", "pardon me", "good morning", "good afternoon", "good evening", "morning", "afternoon",
    "evening", "hey there", "hi there", "hello there", "dear", "robot", "buddy", "mate", "friend", "pal",
    "little robot", "my friend", "now then", "and", "also", "then", "first", "first of all", "to start",
    "to start with", "to begin", "to begin with", "first things first", "next", "lastly", "basically", "actually",
    "honestly", "anyway", "anyways", "by the way", "quick question", "cool", "great", "good", "nice", "perfect",
    "do me a favou?r", "do me a favou?r and", "be a dear and", "be a star and", "would you be a dear",
    "would you be a dear and", "be a love and",
    "if that is (?:ok|okay|alright|all right|fine)", "ugh", "phew", "wow", "gosh", "oops", "hmm+", "aw+",
    "forgive me", "sorry to bother you", "sorry to trouble you", "i am sorry", "my apologies", "no wait",
    "i mean", "or rather", "scratch that", "haha", "lol", "dude", "bro", "from now on",
    "(?:would you |could you )?be an? (?:dear|star|love|sweetheart|pal|darling|gem|doll|angel)(?: and)?",
    "if so", "if yes", "if it is", "if it is there", "if they are", "if you do", "if you can", "if you see it",
    "if you find it", "if it is there then", "if so then",
)  # fmt: skip
OPENER_WORDS = "|".join(sorted(OPENERS, key=len, reverse=True))  # the longest first: "hi there" before "hi"
OPENER = re.compile(rf"^(?:(?:{OPENER_WORDS})\b[\s,]*)+")
# Step words the parser's stage split knows ("then"): the others said the same way.
STEP_WORDS = (
    (re.compile(r"\b(?:and )?(?:after that|afterwards|after this|"
                r"(?:once|when|after|as soon as) (?:you are |you have |that is |it is |you )?(?:done|finished|through)"
                r"(?: with)?(?: (?:that|this|it))?|and next|next up)\b"), " then "),
    (re.compile(r"\b(?:and )?(?:finally|lastly|last of all|to finish|at the end)\b"), " then "),
    (re.compile(r"\b(?:and )?(?:second|secondly|third|thirdly)\b,?"), " then "),
)  # fmt: skip

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
TIME_UNIT = r"(?:seconds?|secs?|minutes?|mins?)"
NUMBER_WORD = "|".join(sorted([*UNITS, *TENS], key=len, reverse=True))
# How a noun phrase starts ("the cup", "my keys"): what tells a thing named from an instruction.
NOUN_START = r"(?:the|my|your|our|that|this|those|these)"
NUMBER_WORDS = re.compile(
    rf"\b(?:(?P<tens>{'|'.join(TENS)})(?:[\s-](?P<unit>{'|'.join(k for k in UNITS if k != 'zero')}))?|"
    rf"(?P<single>{'|'.join(UNITS)}))\b(?=\s+{TIME_UNIT}\b)"
)
HALF_MINUTE = re.compile(r"\bhalf (?:a|one) minute\b|\ba half minute\b|\bthirty secs?\b")
COUNT_WORDS = (
    (re.compile(r"\b(?:a minute and a half|one and a half minutes|1\.5 minutes)\b"), "90 seconds"),
    (re.compile(r"\b(?:a )?quarter of a minute\b"), "15 seconds"),
    (re.compile(r"\bhalf a dozen\b"), "6"),
    (re.compile(r"\ba dozen\b"), "12"),
    (re.compile(r"\b(?:a|one) hundred\b"), "100"),
    (re.compile(rf"\ba couple(?: of)?\b(?=\s+{TIME_UNIT}\b)"), "2"),
    (re.compile(rf"\ba few\b(?=\s+{TIME_UNIT}\b)"), "3"),
    (re.compile(r"\b(\d+|[a-z]+)-(second|minute)\b"), r"\1 \2s"),
)
DURATION_FILLER = re.compile(
    rf"\b(\d+|a|an|{NUMBER_WORD}) (?:more|extra|whole|full|good|long|further|additional) ({TIME_UNIT})\b"
)
A_UNIT = re.compile(r"\b(?:a|one) (second|minute|sec|min)\b")
NUMBER_FILLER = re.compile(
    r"\b(?:like|about|around|roughly|approximately|exactly|just|some|maybe|only|precisely|at least|no more than)\s+"
    rf"(?=\d|(?:{NUMBER_WORD}|a hundred|a couple|a few|half)\b)"
)

# "the red thing that's on the counter", "the cup sitting on the desk": the place says which thing.
RELATIVE_PLACE = re.compile(
    r"(?<=[a-z]) (?:(?:that|which|who) (?:is|are|was|were|has been|have been|lives|sits|stays|lies|stands)"
    r"(?: just)?(?: out here| over there| back there| out)? |(?=(?:sitting|lying|"
    r"standing|resting|left|kept) ))(?:(?:sitting|lying|standing|resting|left|kept|placed|stored) )?"
    r"(?=(?:on top of|on|in|inside|near|next to|beside|by|at|under|closest to|nearest to|nearest)\b)"
)
# A reason after the request, without a comma: "bring me the apple because I'm hungry".
TRAILING_REASON = re.compile(
    r"(?<=[a-z]) (?:because|since|cos|cause|as|seeing as|given that) (?:i|we|it|my|our|there|the|this|that) "
    r"[^,.!?;]*(?=[.!?;]|$)"
    # a time that is not a step: "bring me the tea before it gets cold"
    r"|(?<=[a-z]) (?:before|while) (?:it|they|the \w+|my \w+|we|i|everyone|people) [^,.!?;]*(?=[.!?;]|$)"
    # a purpose: "put the folder on the side table for her to draw on", "... so that I can read"
    r"|(?<=[a-z]) (?:for (?:her|him|them|us|me|my \w+|the \w+) to|so (?:that )?(?:i|we|she|he|they) (?:can|could)) "
    r"[^,.!?;]*(?=[.!?;]|$)"
)
# A request put as a need or a wish: what is wanted is brought.
WANT = re.compile(
    r"^(?:(?:i |we )?(?:really |so |just |sure |totally )?(?:need|want|would like|would love|"
    r"could (?:really |so |just |sure |totally )?(?:use|do with)|fancy|require|would kill for)|"
    r"can i (?:have|get|borrow)|could i (?:have|get|borrow)|may i (?:have|get|borrow)|i would appreciate|"
    r"i am (?:looking for|after|in need of)|what i (?:need|want) is|i would (?:really )?like to have|"
    # "it'd be nice to have the remote over here", its "would be nice" already dropped as politeness
    r"(?:it would be (?:so |really )?(?:nice|great|good|lovely|handy|helpful) )?to have|"
    r"(?:might|could|may|can) i (?:trouble|bother) you for|"
    r"(?:can|could) you get me)\s+(?!to\b|you\b|it if\b)(?P<x>.+?)"
    r"(?: over here| here| with me| by me| next to me| nearby| close by| right about now| about now)?$"
)
# Where a thing is wanted: "I want the purple box to live on the side table".
WANT_PLACED = re.compile(
    rf"^(?:i|we) (?:really )?(?:want|need|would like|would love|would prefer) (?P<x>(?:{NOUN_START}) .+?|it|them) "
    r"(?:to (?:live|be|go|stay|sit|end up|be kept|be put|be placed|stand)|(?:brought|taken|moved|put|carried|placed)"
    r"(?: out| over| back| up| down| through)?) "
    r"(?P<place>(?:on top of|onto|on|into|inside|in|at|next to|beside|to) .+)$"
)
# What is wanted said first: "the lemon I want", "the lemon is what I need".
WANTED_FIRST = re.compile(
    rf"^(?P<x>{NOUN_START}(?: (?!(?:on|in|onto|into|at|to)\b)[a-z0-9']+)+?) (?:is what )?(?:i|we) (?:really )?"
    r"(?:want|need|would like|would love|am after|fancy)$"
)
# The thing said first, then who does what with it: "the plate you can put on the table", "on the table
# you should put the plate" (the place said first stays a place).
FRONTED_OBJECT = re.compile(
    rf"^(?P<x>{NOUN_START}(?: (?!(?:can|could|would|will|should|may|might|must|do|did|please|and|so)\b)[a-z0-9']+)+?) "
    r"(?:you|we)(?: can| could| should| might| may| must| need to| have to| will)? "
    rf"(?P<verb>{'|'.join(sorted(SKILL_VERBS))})\b(?P<rest>.*)$"
)
FRONTED_PLACE = re.compile(
    rf"^(?P<place>(?:on top of|onto|on|into|inside|in|to|over to) {NOUN_START}"
    r"(?: (?!(?:would|could|can|will|should|please|you|we)\b)[a-z0-9']+)+?) "
    r"(?:(?:would|could|can|will) )?(?:you|we)(?: can| could| should| might| may| must| need to| have to| will)? "
    r"(?P<verb>put|place|set|leave|bring|take|move|carry|drop|stick|pop) "
    rf"(?P<x>{NOUN_START} .+)$"
)
PLACE_WISH = re.compile(
    rf"^(?P<place>(?:on top of|onto|on|into|inside|in|at) {NOUN_START} .+?) (?:is where )?(?:i|we) "
    r"(?:would like|want|need|would love|would prefer) (?P<x>it|them)(?: to be| placed| put)?$"
)
GERUND = re.compile(
    r"^(?:(?:would you|do you|would you not)? ?mind(?: terribly| at all| awfully| too much)?|"
    r"would it be possible to try|how about|what about|could you try|try|start by|begin by|finish by|end by|"
    r"first by|then by|i would appreciate you|i would appreciate)\s+(?P<verb>[a-z]+ing)\b"
)
ASKING = re.compile(
    r"^(?:can|could|would|will) you (?:please )?(?:to )?(?:go and |just )?|^(?:any chance|is there any chance) "
    r"(?:you could|you can|you might|of you) |^(?:i was wondering|i am wondering|i wonder)(?: if| whether)?"
    r"(?: you)?(?: could| can| would| might)? |^(?:would you be|be) so kind as to |"
    rf"^(?:go|come) (?:and )?(?=(?:{'|'.join(sorted(SKILL_VERBS - {'go', 'come'}))})\b)|"
    r"^(?:i want|i need|i would like) you to |^(?:i|we) (?:would like|want|wish|would prefer) that |"
    r"^(?:do|go) me a favou?r and |^(?:be a dear|be a star) and |^(?:you should|you could|you can|you must) |"
    r"^(?:help me|let us) |^(?:do you think you could|is it possible (?:for you )?to|are you able to) |"
    r"^is (?:it )?possible (?:that |for you to |to )?(?:you )?(?:can |could |would )?|"
    rf"^you (?=(?:{'|'.join(sorted(SKILL_VERBS))})\b)|"
    r"^(?:would|will|is) it be possible (?:for you )?to |^(?:would|will) it be (?:ok|okay|alright) (?:for you )?to |"
    r"^i would (?:appreciate|love|like) it if(?: you)?(?: could| would| can)? |"
    r"^(?:could|can|may|might) i ask you to |^(?:would you )?be a (?:dear|star|love|sweetheart|pal) and |"
    r"^(?:i would be grateful if you could|it would be great if you could|it would be nice if you could) |"
    r"^(?:it|that) would (?:really )?(?:help|be great|be nice|be lovely|be good|be perfect|mean a lot)(?: me| us)? "
    r"if you (?:could |would |can )?"
)
# Any lead-in that ends in "you [can|could|...]" or "for you to" before an instruction, and names
# no thing: a way of asking ("do you reckon you could grab ...", "it would be great for you to put ...").
ANY_ASKING = re.compile(
    r"^(?:(?!(?:the|a|an|my|your|our|this|that|these|those)\b)\w+ ){0,8}?"
    r"(?:you(?: could| can| would| will| might| should| must| may)?|for you to|you to)"
    r"(?: please| just| kindly| possibly| maybe| perhaps| quickly| also| maybe)*(?: go and| come and)? "
    rf"(?=(?:{'|'.join(sorted(SKILL_VERBS))})\b)"
)
# Any lead-in (naming no thing) that ends in a word taking a gerund: "how do you feel about grabbing X".
ANY_GERUND = re.compile(
    r"^(?:(?!(?:the|a|an|my|your|our|this|that|these|those)\b)\w+ ){0,8}?"
    r"(?:mind|fancy|about|try|trying|consider|considering|by|start|begin|keep|recommend|suggest|mean)"
    r"(?: terribly| at all| awfully| maybe| perhaps| just)* (?P<verb>[a-z]+ing)\b"
)
# Asked about, not ordered: "can you tell me where the remote is" is "where is the remote".
ASK_ABOUT = re.compile(
    r"^(?:(?:(?:can|could|would) you )?(?:tell|show) me |(?:do you have |got )?any idea |do you happen to know |"
    r"you know )(?=(?:where|what|which|how many|if|whether)\b)"
)

# Ways to say something aloud; each becomes SAY.
SAY_VERBS = (
    r"say out loud|say aloud|say|announce(?: to (?:everyone|everybody|the room|them|us))?|speak|shout(?: out)?|"
    r"yell|call out|holler|repeat after me|say after me|repeat|read out(?: loud)?|read aloud|proclaim|declare|"
    r"broadcast|utter|pronounce|whisper|mention|let (?:everyone|everybody|them|us|people|the room) know|"
    r"read|sing|voice|say the (?:words|phrase|following|line|sentence)|say this|say it|say to (?:everyone|everybody|"
    r"the room|them|us)|greet (?:everyone|everybody|them|us|the guests) with|go ahead and say|speak up and say|"
    r"tell (?:everyone|everybody|the room|people|the family|the guests|them|us)|inform (?:everyone|everybody)"
)
# Light verbs and phrasal verbs, each mapped onto the verb of a skill; ordered, first match wins.
IDIOMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # look
        (r"^(?:have|take|get|give|cast) (?:a |an )?(?:quick |good |close |closer )?(?:look|peek|glance|eye|gander)"
         r" (?:at|over|on|in|into|around)\s+", "look at "),
        (r"^(?:peek|glance|peer|gaze|stare) (?:at|into|in|over)\s+", "look at "),
        (r"^(?:check out|eyeball|look over|look around)\s+", "look at "),
        (r"^(?:check|look) (?P<x>(?:the|my|your|our|that|this|those|these) .+?) (?:out|over)$", r"look at \g<x>"),
        (r"^(?:have|take) a (?:gander|squiz|butcher's|butchers|shufti|dekko|nosy|nosey) (?:at|in|around)\s+",
         "look at "),
        (r"^give (?P<x>.+?) a (?:once over|quick look|look|glance|check|quick check)$", r"look at \g<x>"),
        (r"^(?:keep an eye on|turn (?:towards|toward|to)|face|check up on|look in on|look into|cast your eyes? over|"
         r"survey|study|scrutini[sz]e|view|watch over|point your camera at|aim your camera at)\s+", "look at "),
        # find
        (r"^(?:have|take) (?:a )?(?:quick )?look (?:for|around for)\s+", "find "),
        (r"^(?:keep an eye out for|try (?:and|to) find|see if you can (?:find|spot|locate)|track down|hunt down|"
         r"dig up|go (?:and )?(?:find|look for|search for)|look out for|figure out where|find out where|"
         r"spot|scout for|search around for|go looking for|look everywhere for|search high and low for|"
         r"have a (?:hunt|search|rummage|dig) (?:for|around for)|go hunting for|keep looking for|seek out|sniff out|"
         r"root out|rummage for|rummage around for|scout out|check where|see where|work out where|find out where|"
         r"root around for|search out|look about for|look round for|look around for|hunt about for|hunt around for|"
         r"poke around for|forage for|scour the place for|have a poke around for|go in search of|search the place for|"
         r"discover where|look high and low for)\s+", "find "),
        # go
        (r"^(?:pop|swing|stop|drop|nip|scoot|hop|roll|wander|run|zip|whizz|trundle|amble|mosey|scurry|dash|hurry|"
         r"trot|jog|scuttle|shimmy|sidle|pootle|potter|toddle|wheel|motor|buzz|bomb|leg it|"
         r"make your way|get yourself|take yourself|go on|move|come|get|go|head|walk|drive) "
         r"(?:over |on |along |back |through |on over |on through |right |straight |on back )?"
         r"(?:by|over to|over|into|to|round to|around to|across to|down to|up to|towards|toward)\s+", "go to "),
        (r"^(?:make a beeline (?:for|to)|make a (?:quick )?(?:dash|run|break) for|(?:head|go|make|drive) "
         r"(?:straight|directly|right) (?:for|to|over to)|(?:over |right )?(?:by|at|near|beside|next to) (?P<p>.+?) "
         r"is where (?:i|we) (?:need|want) you(?: to be)?$|(?:i|we) (?:need|want) you (?:over |right |back )?"
         r"(?:by|at|near|beside|next to|over at|in|to go to|to be at|to be by))\s*", r"go to \g<p>"),
        (r"^(?:visit|approach|reach|make it to|get close to|get near|go near|make tracks (?:to|for)|"
         r"park yourself (?:at|by|next to|beside|in front of)|position yourself (?:at|by|next to|beside)|"
         r"get going to|set off (?:to|for)|head for|make for|go over by|come over by|move over by|"
         r"(?:shoot|dart|cruise|zoom|rush|race|speed|glide|drift|saunter|stroll|toddle|shuffle|nip) "
         r"(?:over |on over |on |along |back )?(?:to|into|towards|toward|by))\s+", "go to "),
        # an operator's words: "goto pantry shelf", "nav bedroom"
        (r"^(?:goto|nav|navi|navigate|drive|head|go|walk|travel) (?:to )?(?=(?:the |my |our |your )?[a-z0-9]+)"
         r"(?!(?:and|to|get|grab|fetch|find|look|bring|pick|put|take|back|away|home|out|up|down|there|here|over|"
         r"and|on|in|into|towards|toward|by|round|around|across|along|through|straight|directly|right|ahead|"
         r"forward|slowly|quickly|carefully|now|please|check|see|search|say|tell|wait|fetch|collect)\b)", "go to "),
        # the place first: "over to the side table you go", "off to the kitchen with you", "off you go to the hall"
        (r"^(?:off |over |back |down |up |across |along |round )*(?P<prep>to|into|towards|toward) (?P<p>.+?),? "
         r"(?:(?:off )?you (?:go|pop|trot|toddle|head)|with you|go|off you go)$", r"go \g<prep> \g<p>"),
        (r"^off you (?:go|pop|trot|toddle|head) (?:over |back |along )?(?=to\b|into\b|towards?\b)", "go "),
        # put: "drop X off at Y", "stick X on Y", "set X down on Y"
        (r"^(?:drop|stick|pop|plonk|plop|stash|rest|park|chuck|toss|put|leave|set) (?P<x>.+?) (?:off )?at\s+",
         r"put \g<x> on "),
        (r"^(?:stow|store|shelve|file|sit|stand|lay|rest|settle|deposit|position) (?P<x>(?:the|my|your|our|that|this|"
         r"those|these|it|them)\b.*?) (?:away |down |back )?(?P<prep>on top of|onto|on|into|inside|in)\s+",
         r"put \g<x> \g<prep> "),
        (r"^(?:drop|stick|pop|plonk|plop|stash|rest|park|chuck|toss|bung|dump|slap|slide|shift|shove|plant|perch) "
         r"(?P<x>.+?) (?:off |down |back |up )?"
         r"(?P<prep>on|onto|in|into|on top of|inside|to)\s+", r"put \g<x> \g<prep> "),
        (r"^(?:drop off|put away|put back|put down|set down|lay down|place down) (?P<x>.+?) "
         r"(?P<prep>at|on|onto|in|into|on top of|inside|to)\s+", r"put \g<x> \g<prep> "),
        (r"^(?:put|set|place|lay|leave) (?P<x>.+?) (?:down|back|away) (?P<prep>at|on|onto|in|into|on top of|inside)\s+",
         r"put \g<x> \g<prep> "),
        # fetch
        (r"^(?:grab|fetch|get|pass|hand|give|bring|chuck|toss|throw) me over\s+", "bring me "),
        (r"^(?:grab|fetch|pass|snag|nab|find|pick out) me\s+", "bring me "),
        (r"^(?:hook me up with|let me (?:have|get|grab|borrow)|sort me out with|set me up with|get me over|"
         r"send me)\s+", "bring me "),
        (r"^(?:send|bring|get|fetch) (?P<x>.+?) (?:my way|over my way|over to me|this way|back to me)$",
         r"bring me \g<x>"),
        (r"^(?:go|come) (?:and )?(?:get|grab|fetch|collect)\s+", "get "),
        (r"^(?:bring|fetch|carry) (?P<x>.+?) (?:over|along)(?: here)?(?: to me)?$", r"bring me \g<x>"),
        (r"^(?:snag|nab|scoop up|pick out|take hold of|get hold of|grab hold of|lay your hands on|snatch|seize|"
         r"take up|lift up|hold up|grab up)\s+", "pick up "),
        (r"^(?:hand over|pass over|give over|bring back|fetch back|run and get|nip and get|go and bring)\s+",
         "bring me "),
        (r"^(?:hand|pass|give) (?P<x>.+?) over(?: to me| here)?$", r"bring me \g<x>"),
        # say
        (rf"^(?:{SAY_VERBS})\s+(?:that\s+)?", "say "),
        # wait
        (r"^(?:hang on|hang around|hang back|hang tight|hold on|hold up|hold back|sit tight|sit still|stay put|"
         r"stand by|stand still|stand there|hold still|stay still|wait around|wait here|wait up|chill|rest|relax|"
         r"stay where you are|stay right there|stay right here|stay here|stay there|wait where you are|"
         r"wait right here|keep still|remain still|remain here|remain in place|stay in place|hold your position|"
         r"do nothing|idle|freeze|stop moving|do not move|take a (?:break|breather|pause|rest)|just wait|"
         r"hold your horses|count (?:to|up to)|bide your time)"
         r"(?: for)?\s+", "wait "),
        (r"^(?:pause for|stop for|stay for|stay here for|stay there for|remain for)\s+", "wait "),
        (r"^give (?:it|me|us) (?=\d)", "wait "),
    )
)  # fmt: skip

# Past forms of the skill verbs, after "if you": the verb itself.
PAST_TENSE = {
    "brought": "bring", "took": "take", "fetched": "fetch", "grabbed": "grab", "went": "go", "moved": "move",
    "placed": "place", "carried": "carry", "picked": "pick", "handed": "hand", "gave": "give", "headed": "head",
    "drove": "drive", "searched": "search", "checked": "check", "popped": "pop", "dropped": "drop", "looked": "look",
    "waited": "wait", "said": "say", "passed": "pass", "collected": "collect", "returned": "return",
}  # fmt: skip
# Words a misspelt verb is never taken for.
NEVER_VERBS = _word_set("what where which when then that this there these those have with from some your")
# Words that start a clause: the skill verbs and the first words of the idioms ("... and have a look").
CLAUSE_STARTS = SKILL_VERBS | _word_set(
    "have take get give cast peek glance peer check eyeball keep turn face try see track hunt dig spot scout pop "
    "swing stop nip scoot hop wander run zip hurry make visit approach reach stick plonk plop stash park chuck toss "
    "snag nab scoop shout yell call read hang sit stand hold chill would could can will"
)
# A clause that only sets the scene: "i am cold", "my hands are full", "it is late", "hey robot".
CONTEXT = re.compile(
    r"^(?:(?:feeling |so |really |too |very |kind of |a bit |bit |super )*(?:tired|hungry|thirsty|cold|hot|busy|"
    r"exhausted|starving|freezing|sleepy|lazy|sick|ill|stuck|late|bored|peckish|parched|knackered|worn out|chilly|"
    r"sweaty|sore|unwell|poorly|achy|drowsy|stressed|swamped|rushed|famished|ravenous|shattered|in a hurry|"
    r"in a rush)|feeling|"
    # what it is for: "for breakfast, ...", "for the guests, ..."
    r"for (?:(?:my|the|our|a|an) )?(?:breakfast|lunch|dinner|supper|brunch|tea|snack|dessert|pudding|later|"
    r"tonight|tomorrow|morning|evening|party|guests|meeting|work|school|kids|baby|visitors)|"
    r"(?:dinner|lunch|breakfast|supper|food|tea|coffee|it|everything) (?:is )?(?:ready|done|served|over|finished)|"
    r"i|i am|i have|i was|i will|i just|i think|i feel|i guess|my|we|we are|our|it is|it was|there is|"
    r"(?:she|he|they|everyone|everybody|nobody|someone|somebody) (?:\w+ )?(?:is|are|was|were|wants|want|needs|need|"
    r"has|have|had|got|likes|loves|said|says|will|would|can|could|keeps|kept|left|went|came|moved|put|took)|"
    # a story's time or a lead-in: "back when the office opened ...", "here is what I need:"
    r"back when|back in|when we|when i|once upon|last (?:week|month|year|night|time)|yesterday|earlier today|"
    r"this morning|the other day|a while ago|years ago|from now on|here is (?:what|the thing|the deal)|"
    r"(?:just )?(?:off|back|home|out) (?:to|from|of) (?:bed|work|school|a|an|my|the|sleep)|"
    r"(?:just )?off (?:a|an|my|the) |"
    r"this is what|the thing is|long story short|"
    r"(?:need|want|fancy|could use|could do with) (?:some|a|an|more|something)|"
    r"there are|this is|that is|you know|you see|so|because|since|as|"
    # small talk before a request: "rough night", "quick one", "long day", "one more thing"
    r"(?:(?:a|one|another|what a|such a) )?(?:(?:really|very|so) )?(?:rough|long|busy|tough|hard|crazy|quick|small|"
    r"big|little|tiny|real|weird|strange|lazy|slow|good|bad|great|lovely|nice|horrible|awful|mad|hectic|"
    r"last|one more|another|simple|easy) (?:night|day|morning|evening|afternoon|week|one|question|thing|"
    r"favou?r|request|job|task|ask|minute)s?|real quick|quick|one (?:more )?thing|"
    r"(?:the|my|our|your|this|that|these|those|any) (?:\w+ ){0,5}(?:is|are|was|were|looks|seems|want|wants|need|needs|"
    r"has|have|had|feel|feels|got|gets|will|would|can|could|should|must|does|do|did|keeps|left|moved|took|dropped|"
    r"spilled|spilt|broke|forgot|"
    r"lost|brought|keeps|kept|hid|bought|made|uses|used|says|said)|(?:\w+ ){0,2}(?:is|are|was|were|will be|has been|"
    r"have been)(?! you)|"
    # a story's sentence: "movie night starts in ten minutes", "the printer ran out of paper again"
    r"(?:\w+ ){0,3}(?:starts|begins|ends|ran|runs|went|came|broke|arrived|finished|happened|keeps|kept|died|stopped)"
    r"(?! you))\b"
)
# A pause in the middle of a request: "the cereal box, sorry, hang on, the cereal box needs to go ...".
PAUSE = re.compile(
    r"^(?:hang on|hold on|wait|one sec(?:ond)?|just a sec(?:ond)?|no wait|wait a (?:sec|second|moment))$"
)
INTERJECTION = re.compile(rf"^(?:(?:{OPENER_WORDS})\b\s*)+$")


SAID = re.compile(
    r"(?<!\bi )(?<!\bwe )(?<!\bnot )(?<!\bcannot )(?<!\bnever )(?<!\bcould not )"  # "I can't read without ..."
    rf"(?P<verb>\b(?:{SAY_VERBS}|tell (?!me (?:where|what|which|how|if|whether)\b)me))\s+(?:that\s+)?"
    r"(?P<text>(?:(?!quoted\d)(?!\s[-–—]+\s)[^,.!?;:])+?)"
    rf"(?=\s*(?:[,.!?;:]|$)|\s+(?:and then|then|after that|and (?=(?:{'|'.join(sorted(SKILL_VERBS))})\b)))"
)


def quote_spans(text: str) -> tuple[str, list[str]]:
    """The text with each quoted span replaced by a ``quotedN`` token, and the spans' words."""
    quotes: list[str] = []

    def token(match: re.Match[str]) -> str:
        inner = next(g for g in match.groups() if g is not None)
        quotes.append(" ".join(re.findall(r"[a-z0-9']+", inner.lower())))
        return f" quoted{len(quotes) - 1} "

    return QUOTE.sub(token, text), quotes


def without_quotes(text: str) -> str:
    """A text with quote tokens, the tokens removed (what the safety rules read)."""
    return QUOTE_TOKEN.sub(" ", text)


def unquote(text: str, quotes: list[str]) -> str:
    """Words of a text with each ``quotedN`` token put back as its quoted words."""
    return QUOTE_TOKEN.sub(lambda m: quotes[int(m[1])] if int(m[1]) < len(quotes) else "", text)


def plain_command(text: str, quotes: list[str]) -> str:
    """The whole command in plain words (lower case, punctuation that splits steps kept).

    What SAY is to say becomes a quote token too (added to ``quotes``), so that politeness
    removal leaves "say thank you" whole.
    """
    text = text.lower().replace("’", "'").replace("‘", "'").replace("´", "'")
    text = re.sub(r"\s*(?:\.{2,}|…)\s*(?=\S)", ", ", text)  # "to the desk... the meeting table I mean": a pause
    text = re.sub(r"\b(?:scratch|forget|cancel) that\b", "no wait", text)  # a correction, not a doing
    for pattern, replacement in CONTRACTION_PATTERNS:
        text = pattern.sub(replacement, text)
    text = without_disfluencies(text)
    text = COLOUR_AFTER.sub(lambda m: f"{m['det']} {m['colour'] or m['shade']} {m['noun']}", text)  # "the cup in red"
    text = re.sub(
        r"\b(go|drive|walk|come|move|head) (?:until|till|up until)\b", r"\1 to", text
    )  # "you go until the table"
    text = TIME_ADJUNCT.sub("", text)
    text = VERB_SYNONYMS.sub(lambda m: SYNONYM_VERB.get(m["verb"], "take"), text)

    def said(match: re.Match[str]) -> str:
        if QUOTE_TOKEN.fullmatch(match["text"].strip()):
            return match.group(0)
        quotes.append(" ".join(re.findall(r"[a-z0-9']+", match["text"])))
        return f"{match['verb']} quoted{len(quotes) - 1}"

    for pattern, replacement in STEP_WORDS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\b([a-z_]+)\(([^()]*)\)", lambda m: f"{m[1]} {m[2].replace(',', ' ')}", text)  # "place(a, b)"
    text = re.sub(r"\s*(?:->|=>|→|-->)\s*", " to ", text)  # "black stapler -> side table"
    text = re.sub(r"(?<=[a-z0-9])@(?=[a-z0-9])", " on ", text)  # "mug@desk_a"
    text = re.sub(r"\b(?:status\s*:?\s*)?(?:the )?(?:location|position|whereabouts) of\b", "where is", text)
    text = re.sub(r":\s*(?=quoted\d)", " ", text)  # "repeat after me: 'hi'"
    text = re.sub(r"\b(?:destination|target|goes to|place|location|to)\s*:\s*", "to ", text)  # a form: "Destination: X"
    text = re.sub(rf"\b(?P<noun>[a-z]+)\s*:\s*(?P<colour>{COLOUR_WORDS})\b", r"the \g<colour> \g<noun>", text)
    text = SAID.sub(said, text)
    text = RELATIVE_PLACE.sub(" ", text)
    text = TRAILING_REASON.sub("", text)
    text = NUMBER_FILLER.sub("", text)
    text = DURATION_FILLER.sub(r"\1 \2", text)
    text = HALF_MINUTE.sub("30 seconds", text)
    for pattern, replacement in COUNT_WORDS:
        text = pattern.sub(replacement, text)
    text = A_UNIT.sub(r"1 \1", text)
    text = NUMBER_WORDS.sub(_number, text)
    for pattern, replacement in STEP_WORDS:
        text = pattern.sub(replacement, text)
    text = POLITENESS.sub(" ", text)
    text = re.sub(r"[^.;!?]+", lambda m: in_doing_order(m.group(0)), text)
    text = re.sub(r"\s*,(?:\s*,)+", ",", text)  # "bring, , the cup"
    text = re.sub(r"\s*,\s*(?=[.!?;]|$)", "", text)  # "the cup, thanks!"
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" (?=[,.!?;])", "", text).strip(" ,")
    return _drop_opener(text)


def in_doing_order(sentence: str) -> str:
    """A sentence whose steps are said out of order, as "first then later" ("bring me the banana, but
    first look at the table" -> "look at the table then bring me the banana"); others unchanged.
    Both parts must be instructions (start with a verb)."""
    for pattern, _ in STEP_ORDER:
        match = pattern.match(sentence.strip())
        if match is None:
            continue
        first, later = (_as_instruction(match[name]) for name in ("first", "later"))
        if first and later:
            return f" {first} then {later}"
    return sentence


def _as_instruction(part: str) -> str | None:
    """The part as an imperative ("picked up the marker" -> "pick up the marker"), None if no verb starts it."""
    words = part.strip(" ,").split()
    while words and words[0] in ("you", "have", "just", "please", "also", "can", "could", "will", "would"):
        words = words[1:]
    if not words:
        return None
    verb = PAST_TENSE.get(words[0]) or PARTICIPLES.get(words[0]) or words[0]
    if verb not in CLAUSE_STARTS and verb not in SKILL_VERBS:
        return None
    return " ".join([verb, *words[1:]])


def without_disfluencies(text: str) -> str:
    """A transcript's fillers, filler "like", repeated words and broken-off starts removed."""
    text = RESTART.sub("", text)
    text = FILLERS.sub("", text)
    text = FILLER_LIKE.sub("", text)
    return SAID_TWICE.sub(r"\1", text)


def plain_clause(clause: str) -> str:
    """One clause (lower case words) as the imperative the parser's patterns read."""
    text = _drop_opener(clause.strip())
    for _ in range(3):  # "could you would you mind ...": each layer once
        before = text
        text = ASK_ABOUT.sub("", text)
        if match := GERUND.match(text) or ANY_GERUND.match(text):
            verb = base_verb(match["verb"])
            if verb is not None:
                text = verb + text[match.end() :]
        if (match := POLITE_FRAME.match(text)) and re.search(r"\b(?:you|possible|trouble)\b", match["frame"]):
            text = text[match.end() :]
        text = ASKING.sub("", text).strip()
        text = ANY_ASKING.sub("", text, count=1).strip()
        if match := WANT_PLACED.match(text):  # "I want the box to live on the side table"
            text = f"put {match['x']} {match['place']}"
        elif match := WANT.match(text) or WANTED_FIRST.match(text):
            text = f"bring me {match['x']}"
        if match := FRONTED_PLACE.match(text):  # "on the table you should put the plate"
            text = f"{match['verb']} {match['x']} {match['place']}"
        elif match := PLACE_WISH.match(text):  # "the marker, on the printer cabinet I'd like it"
            text = f"put {match['x']} {match['place']}"
        elif match := FRONTED_OBJECT.match(text):  # "the plate you can put on the table": put the plate on the table
            rest = re.sub(r"^(?:it|them)\b\s*", "", match["rest"].strip())  # "the lemon, you put it on the counter"
            text = (
                f"{match['verb']} {rest} {match['x']}"
                if rest in ("at", "for", "up", "after")
                else f"{match['verb']} {match['x']} {rest}"
            ).strip()
        text = _drop_opener(text)
        if text == before:
            break
    first, _, rest = text.partition(" ")
    if first in PAST_TENSE:  # "it would help if you brought the pillow"
        text = f"{PAST_TENSE[first]} {rest}".strip()
    elif first.endswith("ing") and (verb := base_verb(first)) in SKILL_VERBS:
        text = f"{verb} {rest}".strip()  # "bringing the mug to desk b would be great"
    text = _correct_verb(text)
    for pattern, replacement in IDIOMS:
        changed = pattern.sub(replacement, text, count=1)
        if changed != text:
            text = changed
            break
    return " ".join(text.split())


def is_context(clause: str, names: frozenset[str] = frozenset()) -> bool:
    """Whether a clause only gives context (a need, a reason, an address), not an instruction.

    ``names``: the words of the scene's names; a short piece with none of them, no verb of a skill
    and no determiner is small talk too ("so hungover", "big match starting").
    """
    text = re.sub(r"^(?:(?:and|but|so|also|plus|or)\s+)+", "", clause.strip())  # "..., and my call starts soon"
    if not text or INTERJECTION.match(text) or PAUSE.match(text):
        return True
    words = text.split()
    if names and len(words) <= 3 and not set(words) & (names | CLAUSE_STARTS | _SMALL_WORDS):
        return True
    first = text.split()[0]
    if first.endswith("ing") and len(first) > 5 and base_verb(first) not in SKILL_VERBS and first not in SKILL_VERBS:
        return True  # "typing fast between meetings", "making a fruit salad": what the speaker is doing
    if re.match(rf"^(?:i |we )?(?:have |has )?(?:got to|have to|need to|must) (?!(?:{_SKILL_VERB_WORDS})\b)", text):
        return True  # "gotta highlight stuff in my notes, need the marker"
    return bool(CONTEXT.match(text)) and first not in SKILL_VERBS


_SMALL_WORDS = _word_set("the a an my your our this that these those it them me you to on in at not no yes")


def base_verb(gerund: str) -> str | None:
    """ "fetching" -> "fetch", "putting" -> "put", "taking" -> "take"; None when no clause starts so."""
    stem = gerund[:-3]
    for candidate in (stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else ""):
        if candidate in CLAUSE_STARTS:
            return candidate
    return None


def closest_word(word: str, vocabulary: Iterable[str]) -> str | None:
    """The one vocabulary word a typo away from ``word``, or None (none, or two equally close).

    A typo keeps the first letter; in words of 4 or 5 letters it is one letter left out, added or
    two swapped (not one changed: "vase" is no misspelt "case", "bell" no "ball"); from 6 letters
    any one edit, from 8 two. Words of 3 letters only for two letters swapped ("mgu"; "cup" is not "cap").
    """
    if len(word) == 3 and word.isalpha():  # only two letters swapped: "mgu" is a mug, "cap" no cup
        swapped = {k for k in vocabulary if len(k) == 3 and k[0] == word[0] and k[1:] == word[:0:-1]}
        return swapped.pop() if len(swapped) == 1 else None
    if len(word) < 4 or not word.isalpha():
        return None
    allowed = 1 if len(word) < 8 else 2
    best: list[tuple[int, str]] = []
    for known in set(vocabulary):
        if known == word:
            return known
        if len(known) < 4 or known[0] != word[0] or abs(len(known) - len(word)) > allowed:
            continue
        distance = OSA.distance(word, known, score_cutoff=allowed)
        if distance > allowed or (len(word) < 6 and _changes_a_letter(word, known)):
            continue
        best.append((distance, known))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[0][0] == best[1][0]:
        return None
    return best[0][1]


def _changes_a_letter(a: str, b: str) -> bool:
    """Whether two words of one length differ other than by two neighbouring letters swapped."""
    if len(a) != len(b):
        return False
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return not (len(differ) == 2 and differ[1] == differ[0] + 1 and a[differ[0]] == b[differ[1]])


# What follows a verb of an instruction: a misspelt verb is corrected only before one of these
# ("brign the cup", "pcik up the mug"; "movie night starts" is no "move").
AFTER_A_VERB = _word_set("the a an my your our this that these those it them me us up down to over at for some back")


def _correct_verb(text: str) -> str:
    words = text.split()
    if not words or words[0] in SKILL_VERBS or words[0] in NEVER_VERBS:
        return text
    if len(words) > 1 and words[1] not in AFTER_A_VERB:
        return text
    corrected = closest_word(words[0], SKILL_VERBS)
    return " ".join([corrected, *words[1:]]) if corrected else text


def _drop_opener(text: str) -> str:
    match = OPENER.match(text)
    if match is None or match.end() == len(text):
        return text  # "hey" alone stays: nothing else was said
    return text[match.end() :].lstrip(" ,")


def _number(match: re.Match[str]) -> str:
    if match["single"]:
        return str(UNITS[match["single"]])
    return str(TENS[match["tens"]] + (UNITS[match["unit"]] if match["unit"] else 0))
