"""MANIPULATE's clause from a command's words: a relation finer than on, in or to ("left of the
bowl", "behind", "above the plate") or a manner ("slowly", "without touching the vase").
planning/value_maps/sources.py reads the same kind of words into value maps."""

from __future__ import annotations

import re

from planning.clauses import REFERENCE_KINDS, THINGS, Clause, Slot, split_objects
from planning.grounding import strip_determiners

# Manipulation phrases (planning/value_maps/sources.py reads the same words into value maps).
MANIPULATE_VERB = re.compile(
    r"^(?:put|place|move|set|slide|shift|position|lay|stand|carry|bring|take|drop|leave|push)\s+(?P<rest>.+)$"
)
_SLOW_NEAR = (
    r"(?:very\s+)?(?:slowly|carefully|gently|cautiously)\s+(?:(?:when|while)\s+(?:going\s+|moving\s+|passing\s+)?)?"
    r"(?:near|around|past|close\s+to|by)"
)
_AVOID = (
    r"without\s+(?:touching|hitting|bumping\s+into|knocking(?:\s+over|\s+into)?|disturbing|colliding\s+with|"
    r"running\s+into)|(?:don't|dont|do\s+not|never)\s+(?:touch|hit|bump\s+into|knock(?:\s+over)?)|avoid(?:ing|s)?|"
    r"(?:(?:stay|staying|keep|keeping|steer|steering|well)\s+)*(?:away\s+from|clear\s+of)"
)
_MANNER = (
    r"(?:very\s+|extra\s+)?(?:slowly|carefully|gently|cautiously)|with\s+care|"
    r"(?:(?:a\s+(?:little\s+)?bit|a\s+little|slightly)\s+)?(?:higher|lower)|top\s+down|from\s+above|"
    r"from\s+the\s+side|sideways|without\s+letting\s+go|keep\s+holding(?:\s+it)?"
)
_FINE = (
    r"(?:(?:to|on|at)\s+the\s+)?(?:left|right)(?:\s+hand)?(?:\s+side)?\s+of|in\s+front\s+of|behind|next\s+to|"
    r"beside|alongside|near|close\s+to|(?:(?:directly|right|just)\s+)?(?:above|over)(?!\s+(?:to|onto|into|on|in)\b)"
)
_BASIC = r"on\s+top\s+of|onto|on|into|inside|in|towards|toward|to"
MANIPULATION_MARKER = re.compile(
    rf"\b(?:(?P<slow_near>{_SLOW_NEAR})|(?P<avoid>{_AVOID})|(?P<manner>{_MANNER})|(?P<fine>{_FINE})|"
    rf"(?P<basic>{_BASIC}))\b"
)
MANNER_START = re.compile(rf"^(?:{_SLOW_NEAR}|{_AVOID}|{_MANNER})\b")
EVERYTHING = frozenset(
    {"everything", "anything", "everything else", "all objects", "all other objects", "other objects", "obstacles",
     "all obstacles", "the rest", "all the rest", "other things"}
)  # fmt: skip
PHRASE_FILLER = frozenset({"and", "or", "but", "then", "while", "so", "it", "with", "please", "now", "just"})


def _phrase(text: str) -> str:
    words = text.split()
    if words in (["it"], ["them"]):
        return words[0]  # "put the apple next to it": the thing said before
    while words and words[-1] in PHRASE_FILLER:
        words.pop()
    while words and words[0] in PHRASE_FILLER:
        words.pop(0)
    return " ".join(words)


def manipulation_clause(text: str) -> Clause | None:
    """MANIPULATE's clause for "move X <relation> Y [manner] [without touching Z]", or None when the
    command has no finer relation or manner than PLACE handles, or no place relative to a thing.

    Slots: the object, the reference (the thing of the last relation), then what the phrase avoids or
    slows near; the instruction is the phrase with each slot's words replaced by "{n}".
    """
    match = MANIPULATE_VERB.match(text)
    if match is None:
        return None
    rest = match["rest"]
    markers = list(MANIPULATION_MARKER.finditer(rest))
    if not markers or markers[0].start() == 0 or not any(m["basic"] is None for m in markers):
        return None
    phrases = []
    for index, marker in enumerate(markers):
        end = markers[index + 1].start() if index + 1 < len(markers) else len(rest)
        phrases.append(_phrase(rest[marker.end() : end]))
    relations = [i for i, m in enumerate(markers) if phrases[i] and (m["fine"] or m["basic"]) is not None]
    if not relations:
        return None
    slots = [Slot(rest[: markers[0].start()].strip(), THINGS), Slot(phrases[relations[-1]], REFERENCE_KINDS)]
    pieces: list[str] = []
    for index, marker in enumerate(markers):
        pieces.append(marker.group(0))
        phrase = phrases[index]
        if not phrase:
            continue
        if marker["manner"] is not None:
            pieces.append(phrase)  # words after "slowly": not a thing
        elif index == relations[-1]:
            pieces.append("{1}")
        else:  # an earlier place, things to avoid or to slow down near: each a slot, "everything" stays words
            named = []
            for part in split_objects(phrase) if index not in relations else [phrase]:
                if strip_determiners(part) in EVERYTHING or part in EVERYTHING:
                    named.append(part)
                else:
                    named.append(f"{{{len(slots)}}}")
                    slots.append(Slot(part, REFERENCE_KINDS))
            pieces.append(" and ".join(named))
    return Clause("manipulate", slots, value=" ".join(pieces))
