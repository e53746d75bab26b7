"""What the offline parser reads a command into: clauses (one intent each) with slots (noun phrases
to ground), and the goal conditions a clause stands for once its slots are resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from perception.scene_graph import ObjectKind, SceneGraph
from planning.goals import Condition

OBJECTS = (ObjectKind.OBJECT,)
THINGS = (ObjectKind.OBJECT, ObjectKind.FURNITURE, ObjectKind.ROOM)  # what to pick: objects first
PLACES = (ObjectKind.FURNITURE, ObjectKind.ROOM, ObjectKind.OBJECT)
SURFACES = (ObjectKind.FURNITURE, ObjectKind.ROOM)
REFERENCE_KINDS = (ObjectKind.OBJECT, ObjectKind.FURNITURE, ObjectKind.ROOM)


@dataclass
class Slot:
    """A noun phrase to ground, and the kinds of things it may name."""

    phrase: str
    kinds: tuple[ObjectKind, ...]
    resolved: str | None = None
    plural: bool = False  # "them both", "the cups": every thing it fits, where a clause can take several


@dataclass
class Clause:
    """One intent with its slots; ``conditions`` turns resolved slots into goal conditions."""

    intent: str  # place | manipulate | fetch | go | find | look | say | wait
    slots: list[Slot] = field(default_factory=list)
    value: str = ""  # said text or seconds; manipulate: the instruction with "{n}" for slot n's id
    optional: bool = False  # a wish beside other requests ("I want a coffee, ..."): dropped if it names no object
    with_previous: bool = False  # the same verb for another thing and place: one stage with the clause before

    def conditions(self, graph: SceneGraph) -> list[Condition]:
        ids = [s.resolved or "" for s in self.slots]
        if self.intent == "place":
            *objects, destination = ids
            kind = graph.objects[destination].kind
            if kind == ObjectKind.ROOM:
                return [Condition("in", (o, destination)) for o in objects]
            return [Condition("on", (o, destination)) for o in objects]
        if self.intent == "manipulate":
            instruction = " ".join(self.value.format(*ids).split())
            return [Condition("manipulated", (ids[0], ids[1], instruction))]
        if self.intent == "fetch":
            return [Condition("holding", (ids[0],))]
        if self.intent == "go":
            return [Condition("at", ("robot", ids[0]))]
        if self.intent == "find":
            return [Condition("found", (i,)) for i in ids]
        if self.intent == "look":
            return [Condition("looked_at", (i,)) for i in ids]
        if self.intent == "say":
            return [Condition("said", (self.value,))]
        return [Condition("waited", (self.value,))]


def split_objects(phrase: str) -> list[str]:
    parts = [p for p in re.split(r"\s*,\s*|\s+and\s+|\s+as well as\s+", phrase) if p.strip()]
    return parts or [phrase]
