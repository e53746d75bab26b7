"""Self-corrections: "bring me the red cup, no wait, the blue one", "go to the sofa, I mean the table".

A piece of a command that starts with a correction marker ("no", "wait", "sorry", "actually",
"I mean", "make that", ...) or ends in "I mean" takes back part of the clause before it: an
instruction replaces that clause; a place phrase ("on the sideboard") its destination; a noun
phrase the slot of the same kind (an object for an object, a place for a place), with "one"
("the blue one") taking the replaced thing's noun.
"""

from __future__ import annotations

import re
from dataclasses import replace

from perception.scene_graph import ObjectKind
from planning.clauses import Clause, Slot
from planning.grounding import Grounder, normalize, strip_determiners
from planning.phrasing import CLAUSE_STARTS

_MARKER = (
    r"no|nope|wait|sorry|oops|actually|rather|correction|my bad|i mean|i meant|make that|make it|"
    r"scratch that|forget that|cancel that|not that"
)
# Markers, at least one of them a correction and not only an interjection ("oh").
CORRECTION = re.compile(rf"^(?:(?:oh|uh|um|er|so|and|well|no no)\s+)*(?:(?:{_MARKER})\b[\s,!-]*)+")
TRAILING_CORRECTION = re.compile(r"\s+(?:i mean|i meant|is what i meant|is what i mean)$")
ONLY = re.compile(r"^(?:just|only|instead|rather)\s+|\s+(?:instead|rather|then)$")
PLACE_PHRASE = re.compile(r"^(?:to|onto|into|on top of|on|in|inside|at|by|over to|next to)\s+(?P<np>.+)$")


def correction_of(piece: str) -> str | None:
    """What a correction piece says instead ("" when it is only markers), or None for no correction."""
    match = CORRECTION.match(piece)
    if match is not None and not re.match(r"^wait\s+(?:\d|for\b|until\b|here\b|there\b|a\b)", piece):
        return plain_correction(piece[match.end() :])
    trailing = TRAILING_CORRECTION.search(piece)
    if trailing is not None:
        return plain_correction(piece[: trailing.start()])
    return None


def corrected(previous: Clause, said: str, instead: Clause | None, grounder: Grounder) -> Clause | None:
    """The clause before a correction with what the correction says put in, or None where it fits no slot.

    ``instead``: the correction read as a clause of its own, when it is one ("look at the sideboard").
    """
    if instead is not None and said.split(maxsplit=1)[0] in CLAUSE_STARTS:  # "scratch that, look at the sideboard"
        return instead
    place = PLACE_PHRASE.match(said)
    if place is not None:  # "..., actually, on the sideboard": the destination
        return _with_slot(previous, len(previous.slots) - 1, place["np"]) if previous.intent == "place" else None
    kind = _kind_of(said, grounder)
    if previous.intent == "place":
        if kind in (ObjectKind.FURNITURE, ObjectKind.ROOM):
            return _with_slot(previous, len(previous.slots) - 1, said)
        return replace(previous, slots=[_instead(previous.slots[0], said), previous.slots[-1]])
    if previous.intent == "manipulate" or not previous.slots:
        return None
    return _with_slot(previous, 0, said)


def plain_correction(text: str) -> str:
    """The words of a correction without "just", "instead" and what it said first ("the box, the purple box")."""
    text = ONLY.sub("", normalize(text).strip(" ,-"))
    return text.split(", ")[-1].strip()  # "the box, the purple box": the last said


def _kind_of(phrase: str, grounder: Grounder) -> ObjectKind | None:
    kinds = {grounder.graph.objects[c].kind for c in grounder.resolve(phrase).candidates}
    return kinds.pop() if len(kinds) == 1 else None


def _with_slot(clause: Clause, index: int, phrase: str) -> Clause:
    slots = list(clause.slots)
    slots[index] = _instead(slots[index], phrase)
    return replace(clause, slots=slots)


def phrase_instead(old: str, phrase: str) -> str:
    """A thing said again differently: "the red cup" corrected by "the blue one" is "the blue cup"."""
    return _instead(Slot(old, ()), phrase).phrase


def head_noun(phrase: str) -> str:
    """The noun a phrase names its thing by: "a cup in the living room" -> "cup"."""
    thing = re.split(r" (?:on top of|on|in|inside|at|from|near|by|next to|that|which|who|except|not)\b", phrase)[0]
    words = strip_determiners(normalize(thing)).split()
    return words[-1] if words else ""


def _instead(slot: Slot, phrase: str) -> Slot:
    """The slot for the corrected phrase; "the blue one" keeps the replaced thing's noun."""
    words = phrase.split()
    old = strip_determiners(normalize(slot.phrase)).split()
    if words and words[-1] == "one" and old:
        phrase = " ".join([*words[:-1], head_noun(slot.phrase)])
    elif old and old[-1] == "one" and len(strip_determiners(phrase).split()) == 1:
        phrase = " ".join(["the", *old[:-1], strip_determiners(phrase)])  # "the green one, the folder I mean"
    return Slot(phrase, slot.kinds)
