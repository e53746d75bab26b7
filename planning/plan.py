"""Plans over skills and the agent's state; mirrors PlanStep, AgentStatus and ExecuteTask."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class StepStatus(IntEnum):
    """PlanStep.STATUS_* constants."""

    PENDING = 0
    RUNNING = 1
    SUCCEEDED = 2
    FAILED = 3
    CANCELLED = 4
    SKIPPED = 5


class AgentState(IntEnum):
    """AgentStatus.STATE_* constants."""

    IDLE = 0
    PLANNING = 1
    EXECUTING = 2
    REPLANNING = 3
    WAITING_FOR_USER = 4
    SUCCEEDED = 5
    FAILED = 6
    CANCELLED = 7


class TaskErrorCode(IntEnum):
    """ExecuteTask.Result error codes."""

    NONE = 0
    UNKNOWN = 1
    INVALID_COMMAND = 2
    PLANNING_FAILED = 3
    AMBIGUOUS = 4
    UNKNOWN_OBJECT = 5
    REFUSED = 6
    SKILL_FAILED = 7
    PREEMPTED = 8
    CANCELLED = 9
    TIMEOUT = 10
    MODEL_UNAVAILABLE = 11


@dataclass
class PlanStep:
    """One skill call: ``skill`` names a catalog entry, ``arguments`` its parameters as strings."""

    index: int
    skill: str
    arguments: dict[str, str] = field(default_factory=dict)
    description: str = ""
    status: StepStatus = StepStatus.PENDING
    error_code: int = 0
    error_msg: str = ""
