"""Benchmark suites: task scenarios over a world, each judged against the simulator's ground truth.

A suite file (benchmarks/scenarios/*.yaml, or any folder given to ``robot-agent bench --scenarios``):

    world: kitchen                        # a built-in world or a scenario file (relative to this file)
    tasks:
      - id: red_cup_moved
        kind: moved     # single, multi_step, lookalike, moved, hidden, flat, refuse, infeasible, reliability
        command: bring the red cup to the dining table
        success: ["on(red_cup, dining_table)"]       # conditions of sim.scenario (for refusals: what must stay)
        timeout_s: 300
        events:                           # scripted people, in the scenario's event format (they replace the world's)
          - {action: move, object: red_cup, to: {on: kitchen_table}, when: {robot_near: red_cup, distance: 1.5}}
        disturbance: {kill_node: perception, at_step: 1}  # reliability scenarios (see Disturbance)

Refuse and infeasible tasks, and tasks with ``expect: not_done``, succeed when the agent declines
with a reason and every condition still holds. Plain
Python: robot_agent/bench.py runs the tasks on the stack.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.scenario import (
    Event,
    Scenario,
    ScenarioError,
    Task,
    load_scenario,
    load_yaml,
    parse_condition,
    parse_scenario,
)

TaskKind = Literal[
    "single", "multi_step", "lookalike", "moved", "hidden", "flat", "refuse", "infeasible", "reliability"
]  # flat: a long or flat thing (a banana, a book), measured and grasped across its narrow side
REFUSALS = ("refuse", "infeasible")
NODES = ("sim", "skill_server", "perception", "agent")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Flood(_Model):
    """Commands on /robot_agent/command at a rate, before the task's own command."""

    rate_hz: float = Field(100.0, gt=0.0, le=1000.0)
    duration_s: float = Field(5.0, gt=0.0, le=60.0)
    command: str = "go to the kitchen"


class Disturbance(_Model):
    """What goes wrong during a task (reliability scenarios); each part is optional."""

    kill_node: Literal["sim", "skill_server", "perception", "agent"] | None = None  # SIGKILL, then restarted
    restart_after_s: float = Field(2.0, ge=0.0, le=60.0)
    camera_silent_s: float | None = Field(None, gt=0.0, le=60.0)  # the camera publishes nothing for this long
    at_step: int = Field(0, ge=0)  # when the plan's step with this index starts
    model_unreachable: bool = False  # the planner's model server does not answer: the fallback must be used
    flood: Flood | None = None
    malformed: list[str] = []  # commands sent first: each must be refused with a reason, nothing may crash


class SuiteTask(Task):
    """A scenario's task (id, command, success conditions, timeout) with its own events and disturbance."""

    kind: TaskKind = "single"  # type: ignore[assignment]  # the scenario's kinds and "reliability"
    # not_done: the task cannot be done (its object is gone); the agent must end it with a reason.
    expect: Literal["done", "not_done"] = "done"
    events: list[Event] = Field(default_factory=list)
    disturbance: Disturbance | None = None

    @model_validator(mode="after")
    def _reliability_has_a_disturbance(self) -> SuiteTask:
        if (self.kind == "reliability") != (self.disturbance is not None):
            raise ValueError("a reliability task has a disturbance, and only a reliability task has one")
        return self

    @property
    def expect_refusal(self) -> bool:
        """Success is the agent declining (a refusal, or a failure with its reason) while the conditions hold."""
        return self.kind in REFUSALS or self.expect == "not_done"


class Suite(_Model):
    world: str
    tasks: list[SuiteTask] = Field(min_length=1)


class LoadedSuite:
    """A suite with its world loaded and checked: every task's events and conditions name real things."""

    def __init__(self, path: Path, suite: Suite, scenario: Scenario) -> None:
        self.path = path
        self.suite = suite
        self.scenario = scenario

    @property
    def name(self) -> str:
        return self.path.stem

    def task_scenario(self, task: SuiteTask) -> dict[str, Any]:
        """The world for one task: its objects and layout, the task's events instead of the world's."""
        document = self.scenario.model_dump(mode="json")
        document["events"] = [event.model_dump(mode="json") for event in task.events]
        document["tasks"] = []
        return document


def _world_path(world: str, suite_path: Path) -> str:
    if world.endswith((".yaml", ".yml")):
        candidate = Path(world)
        return str(candidate if candidate.is_absolute() else suite_path.parent / candidate)
    return world


def load_suite(path: Path) -> LoadedSuite:
    """Read and check a suite file; ScenarioError names the file and what is wrong."""
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"{path}: {error}") from None
    try:
        suite = Suite.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ScenarioError(f"{path}: {problems}") from None
    try:
        scenario = load_scenario(_world_path(suite.world, path))
    except ScenarioError as error:
        raise ScenarioError(f"{path}: world: {error}") from None
    loaded = LoadedSuite(path, suite, scenario)
    ids = [task.id for task in suite.tasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScenarioError(f"{path}: task ids repeat: {', '.join(duplicates)}")
    known = {o.id for o in scenario.all_objects()} | {f.id for f in scenario.furniture}
    known |= {r.id for r in scenario.rooms} | {"robot"}
    for task in suite.tasks:
        for condition in task.success:
            _, _, arguments = parse_condition(condition)
            unknown = [a for a in arguments if a not in known]
            if unknown:
                raise ScenarioError(f"{path}: {task.id}: {condition!r} names {', '.join(unknown)}, not in the world")
        try:  # the world's own checks (objects, placements, triggers) on the task's events
            parse_scenario(loaded.task_scenario(task), f"{path.name}:{task.id}")
        except ScenarioError as error:
            raise ScenarioError(f"{path}: {task.id}: {error}") from None
    return loaded


def load_suites(paths: list[Path]) -> list[LoadedSuite]:
    """Every *.yaml of the given folders and files, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            files.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or folder")
    if not files:
        raise ScenarioError(f"no scenario files (*.yaml) in {', '.join(str(p) for p in paths)}")
    return [load_suite(file) for file in files]


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (small samples, rates near 0 or 1)."""
    if trials == 0:
        return 0.0, 0.0
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
