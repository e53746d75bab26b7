"""What a planner backend makes of a command: a goal, a plan, a question, a refusal or an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from planning.goals import Goal
from planning.plan import PlanStep, TaskErrorCode


class Outcome(str, Enum):
    GOAL = "goal"  # conditions for the symbolic planner
    PLAN = "plan"  # skill calls written by a model (validated before they run)
    CLARIFY = "clarify"  # a question; the next command may answer it
    REFUSE = "refuse"  # unsafe or infeasible
    UNKNOWN_OBJECT = "unknown_object"  # names something the robot does not know
    ANSWER = "answer"  # a question about the scene, answered in words
    INVALID = "invalid"  # not a usable command


OUTCOME_CODES = {
    Outcome.CLARIFY: TaskErrorCode.AMBIGUOUS,
    Outcome.REFUSE: TaskErrorCode.REFUSED,
    Outcome.UNKNOWN_OBJECT: TaskErrorCode.UNKNOWN_OBJECT,
    Outcome.INVALID: TaskErrorCode.INVALID_COMMAND,
}


@dataclass
class Interpretation:
    outcome: Outcome
    message: str = ""  # the question, refusal, answer or what is known instead
    goal: Goal | None = None
    plan: list[PlanStep] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # for CLARIFY
    pending: Any = None  # backend state to complete when the user answers a question
    refusal_kind: str = ""  # "unsafe" | "infeasible"
    backend: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. fallbacks taken
    unknown_object: str = ""  # UNKNOWN_OBJECT: an object not seen yet, by name, that a search could find
