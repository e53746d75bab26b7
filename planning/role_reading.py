"""A clause read from its verb and the things it names, whatever their order.

For a piece none of the parser's patterns reads: learners' word order ("apple you bring for me
from kitchen"), dropped articles, a verb at the end ("the cup to the table bring"). The piece's
words are covered by names of this scene (longest first), one skill verb, and small words that
carry no thing ("me", "for", "please"); any other word (a thing this scene does not have, a
second verb) and the piece stays unread, so nothing is guessed. Then one reading must fit: a
carrying verb with one object and one place puts it there; with one object and none (or "me")
brings it; a motion verb with one place goes there; search and look verbs with one thing.
A place after "from", "off" or "out of" says where the object is, not where it goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from perception.scene_graph import ObjectKind
from planning.clauses import OBJECTS, PLACES, SURFACES, THINGS, Clause, Slot
from planning.grounding import Grounder
from planning.phrasing import COLORS, PAST_TENSE, base_verb


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


INTENT_OF_VERB = {
    **dict.fromkeys(
        _words("bring take put place move carry deliver set drop leave return transfer give hand pass"), "carry"
    ),
    **dict.fromkeys(_words("get fetch grab pick collect retrieve"), "fetch"),
    **dict.fromkeys(_words("go drive navigate head walk come travel"), "go"),
    **dict.fromkeys(_words("find search locate seek"), "find"),
    **dict.fromkeys(_words("look check inspect watch observe examine"), "look"),
}
TO_ME = frozenset({"me", "here", "us"})
TO_THE_SPEAKER = frozenset({"bring", "give", "hand", "pass"})  # with no place: to the one who asks
SOURCE = frozenset({"from", "off", "out"})
# Words that name no thing and change no reading.
CARRY_NOTHING = frozenset(
    _words(
        "the a an my your our this that it please you i me us for to from off out of on onto in into at with and "
        "here there over up down now can could would will should must want need kindly just also then so "
        "quickly right away thanks thank"
    )
)
MAX_NAME_WORDS = 4


@dataclass(frozen=True)
class Mention:
    phrase: str
    kinds: frozenset[ObjectKind]
    after: str  # the word before it ("from", "to", ...)


def read_by_roles(text: str, grounder: Grounder) -> Clause | None:
    """The one clause the piece's verb and named things make, or None where the words do not all fit."""
    words = text.split()
    intents: set[str] = set()
    verbs: set[str] = set()
    mentions: list[Mention] = []
    index = 0
    while index < len(words):
        mention = _mention_at(words, index, grounder)
        if mention is not None:
            phrase, length = mention
            kinds = frozenset(grounder.graph.objects[c].kind for c in grounder.resolve(phrase).candidates)
            mentions.append(Mention(phrase, kinds, words[index - 1] if index else ""))
            index += length
            continue
        word = words[index]
        verb = _verb(word)
        if verb is not None:
            intents.add(INTENT_OF_VERB[verb])
            verbs.add(verb)
        elif word not in CARRY_NOTHING:
            return None  # a word that is neither a name here, a verb nor a small word: not guessed
        index += 1
    if len(intents) != 1:
        return None
    intent = intents.pop()
    to_me = bool(TO_ME & set(words))
    objects = [m for m in mentions if m.kinds == {ObjectKind.OBJECT}]
    sources = [m for m in mentions if m.after in SOURCE and m not in objects]
    places = [m for m in mentions if m not in objects and m not in sources]
    if intent in ("carry", "fetch") and len(objects) == 1 and len(sources) <= 1:
        thing = objects[0].phrase + (f" from {sources[0].phrase}" if sources else "")
        if len(places) == 1 and not to_me and places[0].kinds <= {ObjectKind.FURNITURE, ObjectKind.ROOM}:
            return Clause("place", [Slot(thing, THINGS), Slot(places[0].phrase, SURFACES)])
        if not places and (intent == "fetch" or to_me or verbs & TO_THE_SPEAKER):
            return Clause("fetch", [Slot(thing, THINGS)])
        return None
    if intent == "go" and len(mentions) == 1 and not sources:
        return Clause("go", [Slot(mentions[0].phrase, PLACES)])
    if intent == "find" and len(objects) == 1 and len(mentions) == 1:
        return Clause("find", [Slot(objects[0].phrase, OBJECTS)])
    if intent == "look" and len(mentions) == 1 and not sources:
        return Clause("look", [Slot(mentions[0].phrase, PLACES)])
    return None


def _mention_at(words: list[str], start: int, grounder: Grounder) -> tuple[str, int] | None:
    """The longest run of name words from ``start`` that names something here, and its length."""
    vocabulary = grounder.vocabulary
    for length in range(min(MAX_NAME_WORDS, len(words) - start), 0, -1):
        run = words[start : start + length]
        if not all(w in vocabulary for w in run) or all(w in COLORS for w in run):
            continue
        if length == 1 and run[0] in CARRY_NOTHING:
            continue
        phrase = " ".join(run)
        if (length == 1 or grounder.is_name(phrase)) and grounder.resolve(phrase).candidates:
            return phrase, length
    return None


def _verb(word: str) -> str | None:
    """The skill verb a word is a form of ("bringing", "brought", "takes"), or None."""
    if word in INTENT_OF_VERB:
        return word
    if word in PAST_TENSE and PAST_TENSE[word] in INTENT_OF_VERB:
        return PAST_TENSE[word]
    if word.endswith("ing") and (verb := base_verb(word)) in INTENT_OF_VERB:
        return verb
    if word.endswith("s") and word[:-1] in INTENT_OF_VERB:
        return word[:-1]
    return None
