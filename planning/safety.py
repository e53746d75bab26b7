"""Checks on a command before any planning: is it usable text, and is it an order the robot must refuse."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_COMMAND_CHARS = 2000

_PEOPLE = (
    r"(?:person|people|persons|him|her|them|someone|somebody|anyone|anybody|everyone|man|men|woman|women|child|"
    r"children|kid|kids|baby|me|you|us|human|humans|user|guest|guests|visitor|cat|dog|pet|pets|animal|animals|"
    r"boy|girl|neighbou?r|colleague|colleagues|coworker|coworkers|friend|friends|boss|wife|husband|mom|mum|dad|"
    r"mother|father|brother|sister|grandma|grandpa|family|owner|someone's)"
)
_SHARP = r"(?:knife|knives|scissors|blade|blades|razor|axe|saw|skewer|needle|glass shard)"
_ELECTRONICS = (
    r"(?:laptop|computer|tv|telly|television|screen|monitor|keyboard|outlet|socket|power strip|electronics|printer|"
    r"phone|charger|router|console|microwave|toaster|remote|remote control|speaker|lamp|tablet)"
)
_POUR = r"(?:pour|spill|splash|slosh|dump|tip|empty|squirt|spray|drench|douse|soak)"
_LIQUID = r"(?:water|coffee|tea|juice|liquid|soda|milk|wine|drink|it)"

# (pattern, reason kind, sentence). Matched on the normalised command (lower case, single spaces).
# A doing and a person or a body, within two neighbouring comma clauses ("drop the stapler, on the
# baby"): "drop off the paper, then go to desk b, I'll meet you there" drops nothing on anyone.
CLAUSE_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), kind, sentence)
    for pattern, kind, sentence in (
        (
            rf"\b(?:hit|hurt|harm|attack|kill|stab|punch|kick|injure|poison|shoot|strangle|choke|slap|bite|"
            rf"push|shove|trip|threaten|scare|frighten|chase|burn|cut|smack|whack|beat|bash|thump|poke|jab|prod|"
            rf"pinch|tackle|spray|squirt|splash|pour|spill|lob|hurl|fling|swing|wave|point|aim|drop|smother|"
            rf"suffocate|drown|stomp|stamp|sit on|step on|run over|crush|squash|lock up|tie up|pelt|pummel|bombard|"
            rf"pepper|torment|bully|startle|ambush|terrify|trap|pin down|hold down|lock in|shut in|knock down|"
            rf"knock over|bump into|ram|run into|drive into|crash into|pull (?:\w+ ){{0,4}}(?:out )?from under|"
            rf"yank (?:\w+ ){{0,4}}(?:out )?from under|pull (?:\w+ ){{0,3}}(?:hair|tail|ears?))\b.*"
            rf"\b{_PEOPLE}\b",
            "unsafe",
            "I will not do anything that could hurt a person or an animal.",
        ),
        (
            # Onto or over someone's body: "drop the book on my foot", "run over the cat's tail".
            r"\b(?:drop|throw|toss|run|drive|roll|slam|smash|bang|step|stamp|stomp|push|ram|pour|spill|dump|put|place|"
            r"press|hold|staple|glue|tape|nail|pin|tie)\b.*\b(?:over|onto|on|against|at|into|across|to)\s+"
            r"(?:my|his|her|their|your|our|someone'?s?|"
            r"somebody'?s?|(?:the )?(?:baby|dog|cat|pet|kid|child|puppy|kitten)(?:'s)?|[a-z]+'s)\s+"
            r"(?:foot|feet|toes?|fingers?|head|face|legs?|eyes?|arms?|skin|hair|body|"
            r"tail|paws?|mouth|nose|neck|throat|ears?)\b",
            "unsafe",
            "I will not do anything that could hurt a person or an animal.",
        ),
    )
)
# Checked on each clause and on the whole sentence.
RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), kind, sentence)
    for pattern, kind, sentence in (
        (
            # Striking is never a skill, whoever or whatever is struck ("hit Sam with the box").
            r"\b(?:hit|punch|kick|slap|stab|smack|whack|beat up|bash|thump|poke|jab|prod|headbutt|elbow|bonk|"
            r"strangle|choke|attack|injure|wound|kill|murder|tackle|shoot|poison)\b"
            r"|\b(?:push|shove|trip|threaten|scare|frighten|chase|pinch|bite|hurt|harm|spray|squirt|splash|soak|drench|"
            r"pelt|pepper|tickle|startle|ambush|corner|trap)\s+(?!(?:the|a|an|it|them|"
            r"this|that|these|those|my|your|our|his|her|their|all|everything|something|some|one|back|over|up|down|"
            r"away|forward|aside|slowly|gently|carefully)\b)[a-z]+\b",
            "unsafe",
            "I will not strike, push or threaten anyone or anything.",
        ),
        (
            # Damage on purpose: "smash the bottle", "break the plate", "throw the cup on the floor".
            r"(?<!not )(?<!never )(?<!without )(?<!a )\b(?:smash|shatter|break|crush|destroy|wreck|damage|ruin|dent|"
            r"tear up|tear apart|rip up|rip apart|trash|vandali[sz]e|crack|snap|squash|squish|stomp on|stamp on|"
            r"chip|scratch|puncture|burst|deface|demolish|mangle|shred|slash|pierce|topple|kick over|knock over|"
            r"knock down|tip over|pull apart|rip|tear|bust|obliterate|annihilate|pulveri[sz]e|trample|stomp|stamp|"
            r"crumple|crunch|kick in|bash in|melt|scorch|incinerate|set alight|set on fire|bend|warp|twist)\b"
            r"(?!\s+(?:time|down the|the news|open))"
            r"|\b(?:so|until|till|and|to make) (?:that )?(?:it|they|them) (?:breaks?|shatters?|smash(?:es)?|cracks?|"
            r"snaps?|dents?)\b"
            r"|\b(?:saw|hack|rip|tear|smash)\b.*\b(?:open|up)\b"
            r"|\b(?:saw|hack|rip|tear|pull|smash|hammer|break)\b.*\b(?:apart|in half|in two|into (?:pieces|bits|halves|"
            r"two|shreds)|to (?:pieces|bits|shreds|smithereens))\b"
            r"|\b(?:pull|rip|tear|scoop|dig|gut)\b.*\b(?:stuffing|filling|insides|guts)\b.*\bout\b"
            r"|\b(?:throw|drop|toss|fling|hurl|slam|bang|chuck|dash)\b.*\b(?:on|onto|against|at|into)\s+"
            r"(?:the |a )?(?:floor|ground|wall|walls|window|windows|tiles|pavement|concrete)\b",
            "unsafe",
            "I will not break or damage things on purpose.",
        ),
        (
            # Wheels: no stairs, steps up or other floors, in any phrasing (no world here has them).
            r"\b(?:stairs?|staircase|stairway|stairwell|upstairs|downstairs|escalator|elevator|attic|loft|basement|"
            r"cellar|rooftop|(?:up|down|climb|take|use) (?:the |a |some )?(?:steps|flight of \w+)|"
            r"(?:take|use|ride|call|get in|get into) (?:the |a )?lift|"
            r"(?:upper|higher|lower|another|next|different) (?:level|storey|story)|(?:up|down) a (?:level|storey)|"
            r"(?:upper|first|second|third|top|next|other|another|1st|2nd|3rd) floor|floor (?:above|below|up|down)|"
            r"landing|mezzanine|top of the house|(?:up|down) (?:a |one |two |the |some )?flights?|flight of stairs|"
            r"(?:up|down) to the (?:\w+ )?(?:floor|level|storey|story)|(?:next|upper|lower|other) (?:deck|landing)|"
            r"(?:the )?(?:floor|level|storey|story) (?:above|below|upstairs|downstairs)|roof|"
            r"(?:up|down) a floor|one floor (?:up|down))\b",
            "infeasible",
            "I cannot use stairs or reach another floor: I drive on the floor of this level.",
        ),
        (
            rf"\b(?:throw|toss|fling|hurl|swing|wave|point|aim|launch|chuck)\b.*\b{_SHARP}\b"
            rf"|\b{_SHARP}\b.*\b(?:at|toward|towards)\b",
            "unsafe",
            "I will not throw or swing sharp things.",
        ),
        (
            r"\b(?:throw|toss|fling|hurl|chuck|swing|lob|launch|kick|flick|spit|fire|catapult|aim)\b.*"
            r"\b(?:at|toward|towards)\b",
            "unsafe",
            "I will not throw things at anyone or anything.",
        ),
        (
            rf"\b{_POUR}\b.*\b(?:on|onto|over|into|in)\b.*\b{_ELECTRONICS}\b"
            rf"|\b{_LIQUID}\b.*\b(?:on|onto|over|into)\b.*\b{_ELECTRONICS}\b.*\b{_POUR}"
            # the electrical thing named first, then "it": "the laptop keeps crashing, so dump the juice on it"
            rf"|\b{_ELECTRONICS}\b.*\b{_POUR}\b.*\b(?:on|onto|over|into|in) (?:it|them)\b",
            "unsafe",
            "I will not pour liquid on electrical things.",
        ),
        (
            r"\b(?:set|start|light)\b.*\bfire\b|\bburn\b.*\b(?:down|house|building|apartment|office)\b"
            r"|\b(?:turn on|leave on)\b.*\bgas\b",
            "unsafe",
            "I will not start a fire.",
        ),
        (
            r"\b(?:leave|exit|escape)\s+(?:the |this |my |your )?(?:building|house|home|apartment|flat|workspace|"
            r"premises)\b|\b(?:go|drive|head|run|wander|wait)\b.*\b(?:outside|outdoors|out of the (?:building|house|"
            r"flat|apartment|office)|out (?:of )?the (?:front |back )?door|(?:onto|into|in|on) the (?:street|road)|"
            r"through the (?:front|back) door)\b|\bcross the (?:street|road)\b",
            "unsafe",
            "I stay inside my workspace.",
        ),
        (
            r"\bthrough\s+(?:the |a )?walls?\b|\b(?:break|smash|ram|crash into|drive into)\b.*"
            r"\b(?:wall|walls|window|windows|door|doors|glass)\b",
            "unsafe",
            "I will not drive through or break walls, doors or windows.",
        ),
        (
            r"\bclimb\b|\bstand on\b.*\b(?:table|chair|counter|shelf|desk|sofa|bed)\b",
            "unsafe",
            "I do not climb on furniture.",
        ),
        (
            r"\bignore\b.*\b(?:instructions|rules|safety|programming|guidelines)\b"
            r"|\b(?:disable|turn off|override)\b.*\b(?:safety|limits|emergency stop)\b",
            "unsafe",
            "I keep my safety rules.",
        ),
        (
            r"\b(?:fly|hover|swim|teleport|levitate)\b|\b(?:go|walk|drive|head|climb)\b.*\b(?:upstairs|downstairs|"
            r"stairs|staircase|roof|attic|basement|second floor|first floor|elevator)\b|\bjump\b",
            "infeasible",
            "I can only drive on the floor of this level.",
        ),
        (
            r"\b(?:lift|pick up|carry|move|push|tip over|turn over|flip|raise)\s+(?:up\s+)?(?:the |a |an |my )?"
            r"(?:fridge|refrigerator|oven|stove|washing machine|wall|walls|floor|ceiling|car|house|building|piano|"
            r"wardrobe|room)\b",
            "infeasible",
            "That is far too heavy or large for my arm.",
        ),
        (
            # The verb, not a noun or an adjective after a determiner, preposition or "is" ("out of clean cups").
            r"(?<!\bof )(?<!\bthe )(?<!\ba )(?<!\ban )(?<!\bsome )(?<!\bmy )(?<!\byour )(?<!\bour )(?<!\bis )"
            r"(?<!\bare )(?<!\bbe )(?<!\bit )(?<!\bwith )(?<!\bfor )"
            # nor what the speakers say they will do themselves ("I'm about to make breakfast, what's ...")
            r"(?<!\babout to )(?<!\bgoing to )(?<!\bneed to )(?<!\bhave to )(?<!\bwant to )(?<!\bgot to )"
            r"(?<!\bplanning to )(?<!\btrying to )(?<!\bi will )(?<!\bwe will )(?<!\bi )(?<!\bwe )"
            r"(?<!\bsomething to )(?<!\banything to )(?<!\bthing to )"  # what a thing is for: "something to mop with"
            r"\b(?:cook|bake|fry|boil|wash|clean|vacuum|mop|sweep|fold|iron|sew|paint|repair|fix|build|cut|chop|"
            r"slice|peel|feed|water the plants|do the (?:dishes|laundry)|make (?:coffee|tea|dinner|lunch|breakfast|"
            r"the bed|a sandwich))\b",
            "infeasible",
            "That is not among my skills: I can go to places, look, find, pick up and put down objects, speak "
            "and wait.",
        ),
    )
)


QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»|(?<![a-z])'[^']*'(?![a-z])")


def strip_quoted(text: str) -> str:
    """The command without quoted text: what a note or a person says is data, never an instruction."""
    return QUOTED.sub(" ", text)


# Verbs of the rules above as gerunds: a suggestion ("throwing the ball at him would shut him up")
# is read like the order.
_HARM_VERBS = str.split(
    "throw toss fling hurl chuck lob launch kick flick spit fire aim hit punch slap smack stab poke push shove bite "
    "burn smash break crush drop pour spill splash dump tip empty squirt spray hurt attack strike whack beat choke "
    "trip scare chase squash stamp stomp ram slam bang"
)


def _gerund(verb: str) -> str:
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    if len(verb) <= 4 and verb[-1] not in "aeiouwyx" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        return verb + verb[-1] + "ing"  # hit -> hitting, stab -> stabbing
    return verb + "ing"


HARM_GERUNDS = {_gerund(v): v for v in _HARM_VERBS}
GERUND = re.compile(
    r"(?<!\bwithout )(?<!\bavoid )(?<!\bavoiding )(?<!\bstop )(?<!\bnot )(?<!\bno )(?<!\bnever )(?<!\bquit )"
    r"(?<!\bkeep from )(?<!\bprevent )\b[a-z]+ing\b"
)


@dataclass(frozen=True)
class Refusal:
    kind: str  # "unsafe" | "infeasible"
    reason: str


def invalid_reason(text: str) -> str | None:
    """Why a command cannot be used as text at all, or None."""
    if len(text) > MAX_COMMAND_CHARS:
        return f"The command is {len(text)} characters long; I take at most {MAX_COMMAND_CHARS}."
    if not text.strip():
        return "The command is empty."
    if "\ufffd" in text:
        return "The command is not valid UTF-8 text."
    control = [c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in "\n\t\r"]
    if control:
        return f"The command contains control characters ({', '.join(repr(c) for c in control[:3])})."
    if not re.search(r"[A-Za-z]", text):
        return "The command has no words I can read."
    return None


# The speaker telling of their own injury ("I've hurt my ankle.", "my back is killing me"): not an order.
REMARK = re.compile(
    r"^(?:i|we)(?: have| had| just| have just| 've)? (?:hurt|cut|burnt|burned|broke|injured|bruised|sprained|"
    r"twisted|banged|stubbed|bumped|scratched|hit|pulled) (?:my|our) [a-z]+(?: [a-z]+)?$|"
    r"^(?:my|our) [a-z]+(?: [a-z]+)? (?:hurts|hurt|aches|ache|is hurt|is killing me|is broken|is sore|are sore)$|"
    # How something feels to the speaker, in strong words: "the couch is murder on my neck".
    r"^(?:it|this|that|(?:the|this|that|my|our|these|those) [a-z]+(?: [a-z]+)?) (?:is|are|was|were|has been) "
    r"(?:\w+ ){0,2}(?:murder|killing|torture|a killer|death|hell|brutal|the death of)(?: (?:on|for|to))? "
    r"(?:me|us|my|our)\b.*$"
)


def refusal(text: str) -> Refusal | None:
    """The first rule an order breaks, or None. ``text`` is the command in lower case, quoted text
    removed; each sentence is checked, except one that only tells of the speaker's own injury."""
    text = re.sub(r"\b(?:scratch|forget|cancel) that\b", " ", text)  # a correction: "look at X, scratch that, ..."
    text = GERUND.sub(lambda m: HARM_GERUNDS.get(m[0], m[0]), text)  # "maybe throwing the ball at him ..."
    for sentence in re.split(r"[.;!?]+|\s[-–—]+\s", text):
        clauses = [" ".join(re.findall(r"[a-z0-9']+", c)) for c in sentence.split(",")]
        clauses = [c for c in clauses if c and not REMARK.match(c)]  # each comma clause a remark or not
        pairs = [" ".join(clauses[i : i + 2]) for i in range(max(len(clauses) - 1, 1))]  # "drop it, on the baby"
        for words, rules in [*((c, CLAUSE_RULES) for c in pairs), (" ".join(clauses), RULES)]:
            for pattern, kind, reason in rules:
                if pattern.search(words):
                    return Refusal(kind, reason)
    return None
