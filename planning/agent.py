"""The agent: one command from words to a finished task, with questions, replanning and a summary.

ROS-free: the node gives it a way to run a skill, the latest scene graph, the skill catalog and a
way to report progress. One task runs at a time; the node's policy decides what a new command does
to a running one (docs/planner.md: it preempts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from control.skills import SkillErrorCode, SkillSpec
from perception.scene_graph import ObjectKind, ObjectState, SceneGraph
from planning.grounding import Grounder
from planning.interpretation import OUTCOME_CODES, Interpretation, Outcome
from planning.plan import AgentState, PlanStep, StepStatus, TaskErrorCode
from planning.planner import TaskPlanner
from planning.symbolic import State, actions_of, initial_state

MAX_REPLANS = 2


@dataclass
class SkillOutcome:
    error_code: int = 0
    message: str = ""

    @property
    def success(self) -> bool:
        return self.error_code == SkillErrorCode.NONE


class SkillRunner(Protocol):
    def __call__(self, step: PlanStep, cancel: threading.Event) -> SkillOutcome: ...


@dataclass
class Progress:
    """What the agent reports on every change (status topic, action feedback)."""

    state: AgentState
    plan: list[PlanStep]
    current_step: int
    message: str
    backend: str


@dataclass
class TaskResult:
    error_code: TaskErrorCode
    message: str
    summary: str = ""
    plan: list[PlanStep] = field(default_factory=list)
    backend: str = ""

    @property
    def success(self) -> bool:
        return self.error_code == TaskErrorCode.NONE


class Agent:
    def __init__(
        self,
        planner: TaskPlanner,
        run_skill: SkillRunner,
        scene: Callable[[], SceneGraph | None],
        catalog: Callable[[], Mapping[str, SkillSpec]],
        report: Callable[[Progress], None],
        say: Callable[[str], None],
        max_replans: int = MAX_REPLANS,
    ) -> None:
        self.planner = planner
        self.run_skill = run_skill
        self.scene = scene
        self.catalog = catalog
        self.report = report
        self.say = say
        self.max_replans = max_replans
        self.pending: Any = None  # an open clarifying question
        self.robot_at: str | None = None  # where the last GOTO ended
        self.holding: str | None = None

    def handle(self, command: str, cancel: threading.Event, now_ns: int = 0) -> TaskResult:
        """Carry out one command; every ending is said on the response topic and returned."""
        result = self._handle(command, cancel, now_ns)
        self.say(result.message)
        final = AgentState.SUCCEEDED if result.success else AgentState.FAILED
        if result.error_code == TaskErrorCode.AMBIGUOUS:
            final = AgentState.WAITING_FOR_USER
        elif result.error_code in (TaskErrorCode.CANCELLED, TaskErrorCode.PREEMPTED):
            final = AgentState.CANCELLED
        self.report(Progress(final, result.plan, -1, result.message, result.backend))
        return result

    def _handle(self, command: str, cancel: threading.Event, now_ns: int) -> TaskResult:
        backend = self.planner.backend
        self.report(Progress(AgentState.PLANNING, [], -1, f"planning: {command[:200]}", backend))
        graph = self.scene()
        if graph is None:
            return TaskResult(TaskErrorCode.PLANNING_FAILED, "I have no scene graph yet, so I cannot plan.")
        catalog = self.catalog()
        pending, self.pending = self.pending, None
        interpretation = self.planner.interpret(command, graph, catalog, pending, now_ns, start=self._state(graph))
        if interpretation.outcome == Outcome.UNKNOWN_OBJECT and interpretation.unknown_object and "FIND" in catalog:
            # Not seen yet: search the likely places, then read the command again against what was found.
            failed = self._search(interpretation, cancel, backend)
            if failed is not None:
                return failed
            graph = self.scene() or graph
            interpretation = self.planner.interpret(command, graph, catalog, None, now_ns, start=self._state(graph))
        backend = interpretation.backend or backend
        notes = " ".join(interpretation.notes)
        if interpretation.outcome == Outcome.ANSWER:
            return TaskResult(TaskErrorCode.NONE, interpretation.message, interpretation.message, backend=backend)
        if interpretation.outcome not in (Outcome.GOAL, Outcome.PLAN):
            if interpretation.outcome == Outcome.CLARIFY:
                self.pending = interpretation.pending
            code = OUTCOME_CODES[interpretation.outcome]
            return TaskResult(code, interpretation.message, backend=backend)
        return self._execute(interpretation, graph, catalog, cancel, backend, notes)

    def _state(self, graph: SceneGraph) -> tuple[Any, State]:
        world, state = initial_state(graph, self.robot_at)
        if self.holding is not None:
            state = replace(state, holding=self.holding, on=frozenset(p for p in state.on if p[0] != self.holding))
        return world, state

    def _execute(
        self,
        interpretation: Interpretation,
        graph: SceneGraph,
        catalog: Mapping[str, SkillSpec],
        cancel: threading.Event,
        backend: str,
        notes: str,
    ) -> TaskResult:
        actions = actions_of(catalog)
        world, state = self._state(graph)
        planned = self.planner.plan(interpretation, actions, world, state)
        if planned.error:
            return TaskResult(TaskErrorCode.PLANNING_FAILED, f"I cannot do that: {planned.error}.", backend=backend)
        grounder = Grounder(graph, use_embeddings=False)
        plan = [_described(step, grounder) for step in planned.steps]
        done: list[PlanStep] = []
        replans = 0
        index = 0
        while index < len(plan):
            if cancel.is_set():
                return self._stopped(plan, backend)
            step = plan[index]
            step.status = StepStatus.RUNNING
            self.report(Progress(AgentState.EXECUTING, plan, index, step.description, backend))
            outcome = self.run_skill(step, cancel)
            if outcome.success:
                step.status = StepStatus.SUCCEEDED
                self._remember(step)
                done.append(step)
                index += 1
                continue
            step.status, step.error_code, step.error_msg = StepStatus.FAILED, outcome.error_code, outcome.message
            if cancel.is_set() or outcome.error_code == SkillErrorCode.CANCELLED:
                return self._stopped(plan, backend)
            if replans >= self.max_replans or interpretation.goal is None:
                return TaskResult(
                    TaskErrorCode.SKILL_FAILED,
                    f"I could not {step.description}: {outcome.message or SkillErrorCode(outcome.error_code).name}.",
                    plan=plan,
                    backend=backend,
                )
            # Replan from what the scene graph now says (an object someone moved is where it is now).
            replans += 1
            self.report(Progress(AgentState.REPLANNING, plan, index, f"replanning after: {outcome.message}", backend))
            graph = self.scene() or graph
            grounder = Grounder(graph, use_embeddings=False)
            world, state = self._state(graph)
            replanned = self.planner.plan(interpretation, actions, world, state)
            if replanned.error:
                return TaskResult(
                    TaskErrorCode.SKILL_FAILED,
                    f"I could not {step.description} ({outcome.message}) and found no other way: {replanned.error}.",
                    plan=plan,
                    backend=backend,
                )
            kept = [*plan[:index], step]
            # An object whose last spot was seen empty is searched for first; GOTO and PICK then use where it is.
            lost = _lost_objects(step, graph) if "FIND" in catalog else []
            searches = [PlanStep(0, "FIND", {"object": object_id}) for object_id in lost]
            fresh = [_described(s, grounder) for s in [*searches, *replanned.steps]]
            for offset, new_step in enumerate(fresh):
                new_step.index = len(kept) + offset
            plan = kept + fresh
            index = len(kept)
        summary = "Done: " + "; ".join(s.description for s in done) + "." if done else "Done: nothing needed doing."
        if notes:
            summary += f" ({notes})"
        return TaskResult(TaskErrorCode.NONE, summary, summary, plan, backend)

    def _search(self, interpretation: Interpretation, cancel: threading.Event, backend: str) -> TaskResult | None:
        """FIND an object the graph does not hold yet; a failed TaskResult, or None once it is found."""
        label = interpretation.unknown_object
        step = PlanStep(0, "FIND", {"object": label}, f"find the {label}", StepStatus.RUNNING)
        self.say(f"I have not seen a {label} yet; searching for it.")
        self.report(Progress(AgentState.EXECUTING, [step], 0, step.description, backend))
        outcome = self.run_skill(step, cancel)
        if cancel.is_set() or outcome.error_code == SkillErrorCode.CANCELLED:
            return self._stopped([step], backend)
        if not outcome.success:
            step.status, step.error_code, step.error_msg = StepStatus.FAILED, outcome.error_code, outcome.message
            message = f"{interpretation.message} I searched for it: {outcome.message or 'not found'}."
            return TaskResult(TaskErrorCode.UNKNOWN_OBJECT, message, plan=[step], backend=backend)
        self.robot_at = None  # beside the found object, whose id the next reading of the command tells
        return None

    def _stopped(self, plan: list[PlanStep], backend: str) -> TaskResult:
        for step in plan:
            if step.status in (StepStatus.PENDING, StepStatus.RUNNING):
                step.status = StepStatus.CANCELLED
        return TaskResult(TaskErrorCode.CANCELLED, "Stopped: the task was cancelled.", plan=plan, backend=backend)

    def _remember(self, step: PlanStep) -> None:
        if step.skill == "GOTO":
            self.robot_at = step.arguments.get("target")
        elif step.skill == "FIND":
            self.robot_at = step.arguments.get("object")
        elif step.skill == "PICK":
            self.holding = step.arguments.get("object")
        elif step.skill == "PLACE":
            self.holding = None
        elif step.skill == "MANIPULATE":  # lets go at the target, within reach of what it was put by
            self.holding = None
            self.robot_at = step.arguments.get("target") or self.robot_at


def _lost_objects(step: PlanStep, graph: SceneGraph) -> list[str]:
    """Objects a step names that the scene graph now marks missing (seen gone from their last spot)."""
    return [
        value
        for value in step.arguments.values()
        if value in graph.objects
        and graph.objects[value].kind == ObjectKind.OBJECT
        and graph.objects[value].state == ObjectState.MISSING
    ]


def _named_ids(text: str, grounder: Grounder) -> str:
    """The words of a text with scene ids ("red_bowl") said as names ("the red bowl")."""
    return " ".join(f"the {grounder.name(w)}" if w in grounder.graph else w for w in text.split())


def _described(step: PlanStep, grounder: Grounder) -> PlanStep:
    """The step with a sentence for people: "pick up the red cup"."""

    def name(key: str) -> str:
        value = step.arguments.get(key, "")
        return f"the {grounder.name(value)}" if value in grounder.graph else value

    verbs = {
        "GOTO": lambda: f"go to {name('target')}",
        "PICK": lambda: f"pick up {name('object')}",
        "PLACE": lambda: f"put {name('object')} on {name('target')}",
        "MANIPULATE": lambda: f"move {name('object')} {_named_ids(step.arguments.get('instruction', ''), grounder)}",
        "FIND": lambda: f"find {name('object')}",
        "LOOK_AT": lambda: f"look at {name('target')}",
        "SCAN": lambda: f"look around {name('target')}",
        "SAY": lambda: f"say {step.arguments.get('text', '')!r}",
        "WAIT": lambda: f"wait {step.arguments.get('seconds', '')} s",
    }
    describe = verbs.get(step.skill)
    step.description = step.description or (describe() if describe else f"{step.skill} {step.arguments}")
    return step
