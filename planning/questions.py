"""Questions about the scene ("where is my mug?", "what's on the counter?") answered from the scene
graph, and the account of what is known when a phrase names nothing here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from perception.scene_graph import ObjectKind, Predicate
from planning.clauses import OBJECTS, SURFACES
from planning.grounding import Grounder, normalize, singular, strip_determiners
from planning.interpretation import Interpretation, Outcome

QUESTION_TAIL = (
    r"\s+(?:is|are|now|right now|at|located|kept|gone|go|got to|end up|is at|are at|hiding|sitting|lying|"
    r"these days|at the moment|currently|then|exactly|get to|got|wander off to|disappear to|vanish to|go to|"
    r"been put|been left|been moved|been taken|been placed|been|ended up|end up|do you know|any idea|"
    r"can you tell me|could you tell me|do you remember|do you reckon|do you think|today|tonight|again)$"
)
QUESTION = re.compile(
    r"^(?:where|what|which|is there|are there|is anything|is something|are any|has anything|has something|"
    r"how many|do you see|can you see|do you know|have you seen|anything on|anything in)\b"
)


def answer_question(text: str, grounder: Grounder, backend: str) -> Interpretation:
    """The answer to a question about the scene: where a thing is, what is on a place, which room."""
    graph = grounder.graph
    match = re.match(r"^(?:which|what) room (?:is|are) (?P<x>.+?) in$", text)
    if match:
        resolution = grounder.resolve(match["x"], OBJECTS)
        if len(resolution.candidates) == 1:
            thing = resolution.candidates[0]
            room = next(
                (r.object_id for r in graph.relations if r.subject_id == thing and r.predicate == Predicate.IN),
                None,
            )
            if room is not None:
                sentence = f"The {grounder.name(thing)} is in the {graph.objects[room].label}."
                return Interpretation(Outcome.ANSWER, sentence, candidates=[thing, room], backend=backend)
    match = re.match(
        r"^how many (?P<x>.+?)(?: (?:are|is) there| (?:are|is)| do (?:you|i|we) have)"
        r"(?: (?P<relation>on top of|on|in|inside) (?P<place>.+?))?(?: right now| now)?$",
        text,
    )
    if match:  # "how many books are on the bookshelf?"
        counted = _count(match["x"], match["place"], match["relation"], grounder, backend)
        if counted is not None:
            return counted
    match = re.match(
        r"^(?:what|which \w+|is there anything|is there something|are there any things?|anything|is anything|"
        r"is something|are any things?|has anything|has something)(?: \w+){0,5}? "
        r"(?:on top of|on|in|inside) (?P<x>.+)$",
        text,
    )
    if match:
        surface = match["x"]
        while (trimmed := re.sub(QUESTION_TAIL, "", surface)) != surface:
            surface = trimmed  # "what's on the sideboard these days"
        resolution = grounder.resolve(surface, SURFACES)
        if len(resolution.candidates) == 1:
            place = resolution.candidates[0]
            predicate = Predicate.ON if graph.objects[place].kind == ObjectKind.FURNITURE else Predicate.IN
            things = [r.subject_id for r in graph.relations if r.predicate == predicate and r.object_id == place]
            listed = ", ".join(f"the {grounder.name(t)}" for t in things)
            label = graph.objects[place].label
            sentence = f"On the {label}: {listed}." if things else f"I see nothing on the {label}."
            return Interpretation(Outcome.ANSWER, sentence, candidates=things, backend=backend)
    phrase = re.sub(
        r"^(?:where (?:is|are)|where's|is there|are there|do you see|can you see|do you know where|have you seen|"
        r"how many|where (?:can|could|would|might|do|should) (?:i|we|you) (?:find|get|keep|put)|where did)\s+",
        "",
        text,
    )
    noun_phrase = re.search(r"\b(?:the|my|your|our|any|a|an) .+$", phrase)
    if noun_phrase is not None:  # "where on earth did my phone go": the thing asked about
        phrase = noun_phrase.group(0)
    while (trimmed := re.sub(QUESTION_TAIL, "", phrase)) != phrase:
        phrase = trimmed
    resolution = grounder.resolve(phrase, OBJECTS)
    if not resolution.candidates:
        return replace(unknown_reply(phrase, resolution.similar, grounder, backend), outcome=Outcome.ANSWER)
    described = grounder.distinguishing_descriptions(resolution.candidates)
    sentences = [
        _sentence(grounder.missing_note(c) if grounder.is_missing(c) else d)
        for c, d in zip(resolution.candidates, described, strict=True)
    ]
    return Interpretation(Outcome.ANSWER, " ".join(sentences), candidates=resolution.candidates, backend=backend)


def _count(
    things: str, place: str | None, relation: str | None, grounder: Grounder, backend: str
) -> Interpretation | None:
    """How many of a kind of thing there are (on a place), and which; None where the place is unclear."""
    found = grounder.resolve(things, OBJECTS).candidates
    if place is not None and relation is not None:
        anchors = grounder.resolve(place, SURFACES).candidates
        if len(anchors) != 1:
            return None
        found = [c for c in found if grounder.related(c, anchors[0], relation)]
        where = f" {relation} the {grounder.graph.objects[anchors[0]].label}"
    else:
        where = " here"
    noun = strip_determiners(normalize(things))
    if not found:
        return Interpretation(Outcome.ANSWER, f"I see no {noun}{where}.", backend=backend)
    listed = ", ".join(f"the {grounder.name(c)}" for c in found)
    if len(found) == 1:
        noun = " ".join(singular(w) for w in noun.split())
    return Interpretation(
        Outcome.ANSWER, f"{len(found)} {noun}{where}: {listed}.", candidates=list(found), backend=backend
    )


def unknown_reply(phrase: str, similar: Sequence[str], grounder: Grounder, backend: str) -> Interpretation:
    """What is known instead of a thing the scene does not have."""
    known = list(similar) or [e.id for e in grounder.entities if e.kind == ObjectKind.OBJECT][:6]
    described = ", ".join(grounder.distinguishing_descriptions(known))
    what = strip_determiners(normalize(phrase)) or phrase
    intro = "Similar things I know" if similar else "What I know"
    return Interpretation(
        Outcome.UNKNOWN_OBJECT,
        f"I do not know of any {what} here. {intro}: {described}.",
        candidates=list(known),
        backend=backend,
    )


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}." if text else text
