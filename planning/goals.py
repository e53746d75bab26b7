"""The goal language shared by the planner backends, the symbolic planner and the benchmarks.

A goal is a list of stages carried out in order; a stage is a list of conditions that must all
hold when it ends. Conditions, optionally preceded by ``not``:

    on(x, f)        object x rests on furniture f
    in(x, room)     object x (or ``robot``) is in the room
    at(robot, p)    the robot is at p: furniture, room or object
    near(x, y)      x is close to y
    holding(x)      the robot holds x
    found(x)        the robot has located x
    looked_at(x)    the robot has looked at x
    said(text)      the robot said text (no commas or parentheses)
    waited(s)       the robot waited s seconds
    manipulated(x, ref, how)  x was put as the phrase ``how`` says, relative to ref (MANIPULATE):
                    manipulated(red_cup, red_bowl, to the left of red_bowl without touching blue_cup)

Scenario success conditions (sim/scenario.py) are the first five; the planner adds the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ARITY = {
    "on": 2,
    "in": 2,
    "at": 2,
    "near": 2,
    "holding": 1,
    "found": 1,
    "looked_at": 1,
    "said": 1,
    "waited": 1,
    "manipulated": 3,
    # derived, for skill preconditions (config/skills.yaml)
    "hand_empty": 0,
    "can_grasp": 1,  # the hand is empty or holds the thing already
    "reachable": 1,  # the robot is at the thing or at what it stands on
    "movable": 1,  # an object, not furniture or a room
    "surface": 1,  # furniture something can be put on
}
GOAL_PREDICATES = ("on", "in", "at", "near", "holding", "found", "looked_at", "said", "waited", "manipulated")
TEXT_ARGUMENTS = {"said": 0, "waited": 0, "manipulated": 2}  # the argument that is a text or a number, not an id
_CONDITION = re.compile(r"^\s*(not\s+)?([a-z_]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_ARGUMENT = re.compile(r"^[^,()]+$")


class GoalError(ValueError):
    """A condition or goal that is not in the goal language; the message says what is wrong."""


@dataclass(frozen=True)
class Condition:
    predicate: str
    arguments: tuple[str, ...] = ()
    negated: bool = False

    def __str__(self) -> str:
        text = f"{self.predicate}({', '.join(self.arguments)})" if self.arguments else self.predicate
        return f"not {text}" if self.negated else text

    def substitute(self, values: dict[str, str]) -> Condition:
        """The condition with parameter names replaced by their values (a catalog entry -> a call)."""
        return Condition(self.predicate, tuple(values.get(a, a) for a in self.arguments), self.negated)


def parse_condition(text: str, predicates: tuple[str, ...] | None = None) -> Condition:
    """``"not on(a, b)"`` -> Condition("on", ("a", "b"), True); raises GoalError."""
    match = _CONDITION.match(text)
    if not match:
        raise GoalError(f"{text!r} is not a condition like on(cup, table)")
    negated, predicate, inside = match.groups()
    allowed = predicates or tuple(ARITY)
    if predicate not in allowed:
        raise GoalError(f"{text!r}: unknown predicate {predicate!r}; known: {', '.join(allowed)}")
    arguments = tuple(a.strip() for a in inside.split(",")) if inside and inside.strip() else ()
    if any(not a or not _ARGUMENT.match(a) for a in arguments):
        raise GoalError(f"{text!r}: arguments must be non-empty and free of commas and parentheses")
    if len(arguments) != ARITY[predicate]:
        raise GoalError(f"{text!r}: {predicate} takes {ARITY[predicate]} argument(s), got {len(arguments)}")
    return Condition(predicate, arguments, bool(negated))


def scene_ids(condition: Condition) -> list[str]:
    """The arguments of a condition that name things of the scene (not the robot, texts or numbers)."""
    text = TEXT_ARGUMENTS.get(condition.predicate)
    return [a for i, a in enumerate(condition.arguments) if i != text and a != "robot"]


@dataclass
class Goal:
    """Stages in order; each a conjunction of conditions."""

    stages: list[list[Condition]] = field(default_factory=list)

    def __str__(self) -> str:
        return " ; then ".join(" and ".join(str(c) for c in stage) for stage in self.stages)

    def ids(self) -> set[str]:
        """Every scene id the goal names (not texts or numbers)."""
        return {argument for stage in self.stages for condition in stage for argument in scene_ids(condition)}

    @classmethod
    def parse(cls, stages: list[list[str]]) -> Goal:
        """From lists of condition strings; only the goal predicates are allowed."""
        if not stages or any(not stage for stage in stages):
            raise GoalError("a goal needs at least one stage and no empty stage")
        return cls([[parse_condition(text, GOAL_PREDICATES) for text in stage] for stage in stages])
