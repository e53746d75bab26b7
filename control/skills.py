"""The skill catalog and the contract every skill implementation follows.

Skills are plain Python: a node hosts them behind the ExecuteSkill action and the ListSkills
service. The catalog (config/skills.yaml) describes each skill's typed parameters, preconditions
and effects; the planner reads it from the service instead of hard-coding skills.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from control.motion_plan import MotionPlan


class SkillErrorCode(IntEnum):
    """ExecuteSkill.Result error codes."""

    NONE = 0
    UNKNOWN = 1
    UNKNOWN_SKILL = 2
    INVALID_ARGUMENTS = 3
    UNKNOWN_TARGET = 4
    UNREACHABLE = 5
    BLOCKED = 6
    TIMEOUT = 7
    PERCEPTION_STALE = 8
    CANCELLED = 9
    PRECONDITION_FAILED = 10
    NO_GRASP = 11
    COLLISION_RISK = 12
    NOT_FOUND = 13
    HARDWARE_ERROR = 14


PARAMETER_TYPES = ("string", "float", "int", "bool", "object_id", "pose")


class CatalogError(ValueError):
    """The skill catalog file is malformed; the message names the file and the key."""


class InvalidArgumentsError(ValueError):
    """A skill call's arguments do not match the skill's parameters."""


@dataclass(frozen=True)
class SkillParameter:
    name: str
    type: str
    description: str = ""
    required: bool = True
    default: str = ""

    def parse(self, text: str) -> Any:
        """The typed value of an argument string; raises InvalidArgumentsError."""
        try:
            if self.type == "float":
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError("not finite")
                return value
            if self.type == "int":
                return int(text)
            if self.type == "bool":
                lowered = text.strip().lower()
                if lowered in ("true", "1", "yes"):
                    return True
                if lowered in ("false", "0", "no"):
                    return False
                raise ValueError("expected true or false")
            if self.type == "pose":
                parts = [float(p) for p in text.replace(",", " ").split()]
                if len(parts) != 3 or not all(math.isfinite(p) for p in parts):
                    raise ValueError("expected 'x y yaw'")
                return tuple(parts)
        except ValueError as error:
            raise InvalidArgumentsError(f"{self.name}={text!r} is not a valid {self.type}: {error}") from None
        if not text and self.required:
            raise InvalidArgumentsError(f"{self.name} must not be empty")
        return text


@dataclass(frozen=True)
class SkillSpec:
    """A catalog entry: what a skill does and what it takes."""

    name: str
    description: str
    parameters: tuple[SkillParameter, ...] = ()
    preconditions: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()

    def bind(self, arguments: Mapping[str, str]) -> dict[str, Any]:
        """Check and type a call's arguments against the parameters; raises InvalidArgumentsError."""
        known = {p.name for p in self.parameters}
        unknown = sorted(set(arguments) - known)
        if unknown:
            raise InvalidArgumentsError(
                f"{self.name} takes no argument(s) {', '.join(unknown)}; it takes {sorted(known)}"
            )
        bound: dict[str, Any] = {}
        for parameter in self.parameters:
            if parameter.name in arguments:
                bound[parameter.name] = parameter.parse(arguments[parameter.name])
            elif parameter.required:
                raise InvalidArgumentsError(f"{self.name} needs the argument {parameter.name!r} ({parameter.type})")
            elif parameter.default != "":
                bound[parameter.name] = parameter.parse(parameter.default)
        return bound


def _require(mapping: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in mapping:
        raise CatalogError(f"{where}: missing key '{key}'")
    value = mapping[key]
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: '{key}' must be a {kind.__name__}, got {type(value).__name__}")
    return value


def _string_list(mapping: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    items = mapping.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise CatalogError(f"{where}: '{key}' must be a list of strings")
    return tuple(items)


def load_catalog(path: str | Path) -> dict[str, SkillSpec]:
    """Read and validate a skill catalog YAML file (see config/skills.yaml)."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogError(f"{path}: cannot read the skill catalog: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("skills"), list):
        raise CatalogError(f"{path}: expected a mapping with a list under 'skills'")
    catalog: dict[str, SkillSpec] = {}
    for i, entry in enumerate(document["skills"]):
        where = f"{path}: skills[{i}]"
        if not isinstance(entry, dict):
            raise CatalogError(f"{where}: must be a mapping")
        name = _require(entry, "name", str, where)
        where = f"{path}: skill {name}"
        if name in catalog:
            raise CatalogError(f"{where}: defined twice")
        parameters = []
        raw_parameters = entry.get("parameters", [])
        if not isinstance(raw_parameters, list):
            raise CatalogError(f"{where}: 'parameters' must be a list")
        for j, raw in enumerate(raw_parameters):
            pwhere = f"{where}: parameters[{j}]"
            if not isinstance(raw, dict):
                raise CatalogError(f"{pwhere}: must be a mapping")
            ptype = _require(raw, "type", str, pwhere)
            if ptype not in PARAMETER_TYPES:
                raise CatalogError(f"{pwhere}: type '{ptype}' is not one of {', '.join(PARAMETER_TYPES)}")
            parameters.append(
                SkillParameter(
                    name=_require(raw, "name", str, pwhere),
                    type=ptype,
                    description=str(raw.get("description", "")),
                    required=bool(raw.get("required", True)),
                    default=str(raw.get("default", "")),
                )
            )
        catalog[name] = SkillSpec(
            name=name,
            description=_require(entry, "description", str, where),
            parameters=tuple(parameters),
            preconditions=_string_list(entry, "preconditions", where),
            effects=_string_list(entry, "effects", where),
        )
    return catalog


@dataclass
class SkillResult:
    """What a skill reports when it ends. ``outputs`` are extra named results (found ids, poses)."""

    error_code: SkillErrorCode = SkillErrorCode.NONE
    error_msg: str = ""
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.error_code == SkillErrorCode.NONE

    @classmethod
    def failure(cls, code: SkillErrorCode, error_msg: str) -> SkillResult:
        return cls(error_code=code, error_msg=error_msg, message=error_msg)


@dataclass
class Feedback:
    phase: str
    progress: float
    distance_remaining: float = -1.0
    message: str = ""


class SkillContext(ABC):
    """What a running skill may use from its host: the robot's clock, stop requests, feedback, speech.

    A skill stops early when ``stop_code()`` is not None: the goal was cancelled, or its deadline
    (the goal's timeout, on the robot's clock) has passed.
    """

    CLOCK_POLL_S = 0.05

    def __init__(self, cancel_requested: threading.Event) -> None:
        self.cancel_requested = cancel_requested
        self.deadline: float | None = None

    @abstractmethod
    def now(self) -> float:
        """Current time of the robot's clock (simulated or real), seconds."""

    @abstractmethod
    def publish_feedback(self, feedback: Feedback) -> None: ...

    @abstractmethod
    def say(self, text: str) -> None:
        """Speak to the user (the response topic)."""

    def publish_motion_plan(self, plan: MotionPlan) -> None:  # noqa: B027  # optional: hosts that show plans override it
        """Show a planned arm motion (value maps and path); hosts without a display ignore it."""

    def stop_code(self) -> SkillErrorCode | None:
        if self.cancel_requested.is_set():
            return SkillErrorCode.CANCELLED
        if self.deadline is not None and self.now() >= self.deadline:
            return SkillErrorCode.TIMEOUT
        return None

    def wait(self, seconds: float) -> bool:
        """Wait ``seconds`` on the robot's clock; False as soon as the skill must stop."""
        end = self.now() + seconds
        while self.stop_code() is None:
            remaining = end - self.now()
            if remaining <= 0:
                return True
            # The robot's clock may be simulated: re-read it at least every CLOCK_POLL_S.
            self.cancel_requested.wait(min(remaining, self.CLOCK_POLL_S))
        return False


class Skill(ABC):
    """One skill implementation, bound to its catalog entry."""

    def __init__(self, spec: SkillSpec) -> None:
        self.spec = spec

    def check_goal(self, arguments: Mapping[str, Any]) -> str | SkillResult | None:
        """Why the goal cannot run, checked before anything moves, or None.

        A sentence means INVALID_ARGUMENTS; a failure result carries its own code (e.g. UNKNOWN_TARGET).
        """
        return None

    @abstractmethod
    def execute(self, arguments: Mapping[str, Any], context: SkillContext) -> SkillResult: ...


SkillFactory = Callable[[SkillSpec], Skill]


@dataclass
class PreparedSkill:
    """A skill call whose arguments passed the catalog's and the skill's checks."""

    skill: Skill
    arguments: dict[str, Any]


class SkillHost:
    """The skills one server offers: catalog entries bound to implementations."""

    def __init__(self, catalog: Mapping[str, SkillSpec], implementations: Mapping[str, SkillFactory]) -> None:
        missing = sorted(set(implementations) - set(catalog))
        if missing:
            raise CatalogError(f"skills {', '.join(missing)} have implementations but no catalog entry")
        self._skills = {name: make(catalog[name]) for name, make in implementations.items()}

    def specs(self) -> list[SkillSpec]:
        return [skill.spec for skill in self._skills.values()]

    def prepare(self, name: str, arguments: Mapping[str, str]) -> PreparedSkill | SkillResult:
        """The call ready to execute, or a failure result saying why it cannot run."""
        skill = self._skills.get(name)
        if skill is None:
            return SkillResult.failure(
                SkillErrorCode.UNKNOWN_SKILL, f"unknown skill {name!r}; this server offers {', '.join(self._skills)}"
            )
        try:
            bound = skill.spec.bind(arguments)
        except InvalidArgumentsError as error:
            return SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, str(error))
        reason = skill.check_goal(bound)
        if isinstance(reason, SkillResult):
            return reason
        if reason:
            return SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, reason)
        return PreparedSkill(skill, bound)
