"""The agent: one command from words to a finished task, with questions, replanning and a summary.

ROS-free: the node gives it a way to run a skill, the latest scene graph (and one from after a look),
the skill catalog and a way to report progress. One task runs at a time; the node's policy decides
what a new command does to a running one (docs/planner.md: it preempts).

Doubts are settled by looking before anything is planned or asked: when the things a command names
include either end of a ``possibly_same_as`` link (a new track that may be a known object moved
away from its spot), the robot looks at the old spot, reads the graph again and interprets the
command again; a question is asked only between things it has confirmed exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from control.skills import SkillErrorCode, SkillSpec
from perception.scene_graph import ObjectKind, ObjectState, Predicate, SceneGraph, merged_ids
from planning.goals import Goal
from planning.grounding import Grounder
from planning.interpretation import OUTCOME_CODES, Interpretation, Outcome
from planning.plan import AgentState, PlanStep, StepStatus, TaskErrorCode
from planning.planner import TaskPlanner
from planning.symbolic import State, actions_of, initial_state

MAX_REPLANS = 2
DOUBT_ATTEMPTS = 2  # per doubt: a look from where the robot is, then one from beside the old spot
MAX_DOUBTS = 3  # doubts settled per command


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


@dataclass(frozen=True)
class Doubt:
    """``new`` (seen lately at a new place) may be ``old`` (believed at its old spot): one object."""

    new: str
    old: str
    probability: float


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
        fresh_scene: Callable[[threading.Event], SceneGraph | None] | None = None,
    ) -> None:
        """``fresh_scene(cancel)``: the scene graph from a frame after the call (a look just ended),
        waiting a bounded time for it; default: ``scene()``."""
        self.planner = planner
        self.run_skill = run_skill
        self.scene = scene
        self.fresh_scene = fresh_scene or (lambda _cancel: scene())
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
            graph = self.fresh_scene(cancel) or self.scene() or graph  # what the search saw last
            interpretation = self.planner.interpret(command, graph, catalog, None, now_ns, start=self._state(graph))
        settled = self._settle_doubts(command, interpretation, graph, catalog, pending, cancel, now_ns, backend)
        if isinstance(settled, TaskResult):
            return settled
        interpretation, graph, looks = settled
        backend = interpretation.backend or backend
        notes = " ".join(interpretation.notes)
        if interpretation.outcome == Outcome.ANSWER:
            message = interpretation.message
            return TaskResult(TaskErrorCode.NONE, message, message, plan=looks, backend=backend)
        if interpretation.outcome not in (Outcome.GOAL, Outcome.PLAN):
            if interpretation.outcome == Outcome.CLARIFY:
                self.pending = interpretation.pending
            code = OUTCOME_CODES[interpretation.outcome]
            return TaskResult(code, interpretation.message, plan=looks, backend=backend)
        return self._execute(interpretation, graph, catalog, cancel, backend, notes, looks)

    # --- doubts ----------------------------------------------------------------------------------

    def _settle_doubts(
        self,
        command: str,
        interpretation: Interpretation,
        graph: SceneGraph,
        catalog: Mapping[str, SkillSpec],
        pending: Any,
        cancel: threading.Event,
        now_ns: int,
        backend: str,
    ) -> tuple[Interpretation, SceneGraph, list[PlanStep]] | TaskResult:
        """Look at the old spot of each doubted object the command names, then read it again.

        Each doubt gets at most DOUBT_ATTEMPTS looks. A doubt no look settled joins candidates that
        are not offered as two things: the old end (not seen lately) leaves the question.
        Returns the interpretation, the graph it was made on and the looks run, or a TaskResult
        when the task was cancelled.
        """
        looks: list[PlanStep] = []
        attempts: dict[tuple[str, str], int] = {}  # (new, old): looks so far
        for _ in range(DOUBT_ATTEMPTS):
            named = referenced_ids(interpretation, graph)
            open_doubts = [d for d in doubts_of(graph, named) if attempts.get((d.new, d.old), 0) < DOUBT_ATTEMPTS]
            ran = False  # a failed look is tried again from beside the spot
            for doubt in open_doubts[:MAX_DOUBTS]:
                attempt = attempts.get((doubt.new, doubt.old), 0)
                attempts[(doubt.new, doubt.old)] = attempt + 1
                steps = self._look_steps(doubt, attempt, graph, catalog)
                if not steps:
                    continue
                grounder = Grounder(graph, use_embeddings=False)
                self.say(
                    f"Checking whether {grounder.describe(doubt.old)} is still there "
                    f"({grounder.describe(doubt.new)} may be it)."
                )
                for step in steps:
                    step.index = len(looks)
                    looks.append(step)
                    step.status = StepStatus.RUNNING
                    self.report(Progress(AgentState.EXECUTING, looks, step.index, step.description, backend))
                    outcome = self.run_skill(step, cancel)
                    ran = True
                    if cancel.is_set() or outcome.error_code == SkillErrorCode.CANCELLED:
                        return self._stopped(looks, backend)
                    if not outcome.success:
                        step.status, step.error_code = StepStatus.FAILED, outcome.error_code
                        step.error_msg = outcome.message
                        break  # no look from beside a spot the robot did not reach
                    step.status = StepStatus.SUCCEEDED
                    self._remember(step)
            if not ran:
                break
            # The look's view: the graph from a later frame, and the command read against it.
            graph = self.fresh_scene(cancel) or self.scene() or graph
            if cancel.is_set():
                return self._stopped(looks, backend)
            interpretation = self.planner.interpret(command, graph, catalog, pending, now_ns, start=self._state(graph))
        if interpretation.outcome == Outcome.CLARIFY:
            candidates = set(interpretation.candidates)
            joined = [d for d in doubts_of(graph, candidates) if {d.new, d.old} <= candidates]
            if joined:
                # Not two things to choose between: the one seen lately stands for both.
                grounder = Grounder(graph, use_embeddings=False)
                view = _without(graph, {d.old for d in joined})
                again = self.planner.interpret(command, view, catalog, pending, now_ns, start=self._state(view))
                for doubt in joined:
                    new, old = grounder.describe(doubt.new), grounder.describe(doubt.old)
                    again.notes.append(f"I could not tell whether {new} is {old}, so I went by the one I saw last")
                interpretation, graph = again, view
        return interpretation, graph, looks

    def _look_steps(
        self, doubt: Doubt, attempt: int, graph: SceneGraph, catalog: Mapping[str, SkillSpec]
    ) -> list[PlanStep]:
        """The skill calls of one look at a doubted object's old spot: LOOK_AT it (SCAN its furniture
        or room without LOOK_AT); the second time, drive to its furniture first."""
        grounder = Grounder(graph, use_embeddings=False)
        old = doubt.old
        what = f"check whether {grounder.describe(old)} is still there"
        support = next((r.object_id for r in graph.relations_of(old, Predicate.ON) if r.object_id in graph), None)
        room = next((r.object_id for r in graph.relations_of(old, Predicate.IN) if r.object_id in graph), None)
        place = support or room
        if "LOOK_AT" in catalog:
            look = PlanStep(0, "LOOK_AT", {"target": old}, what)
        elif "SCAN" in catalog and place is not None:
            look = PlanStep(0, "SCAN", {"target": place}, what)
        else:
            return []
        if attempt == 0:
            return [look]
        if "GOTO" not in catalog or support is None or self.robot_at == support:
            return []  # no nearer place to look from
        goto = PlanStep(0, "GOTO", {"target": support}, f"go to the {graph.objects[support].label} to {what}")
        return [goto, look]

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
        looks: list[PlanStep] | None = None,
    ) -> TaskResult:
        """Run the plan for an interpretation, after ``looks`` (steps already run, kept in the plan)."""
        actions = actions_of(catalog)
        world, state = self._state(graph)
        planned = self.planner.plan(interpretation, actions, world, state)
        looks = list(looks or [])
        if planned.error:
            message = f"I cannot do that: {planned.error}."
            return TaskResult(TaskErrorCode.PLANNING_FAILED, message, plan=looks, backend=backend)
        grounder = Grounder(graph, use_embeddings=False)
        # An object seen gone from its spot (nothing live fitted) is searched for first.
        lost = _missing_in(planned.steps, graph) if "FIND" in catalog else []
        for object_id in lost:
            note = grounder.missing_note(object_id)
            self.say(f"{note[:1].upper()}{note[1:]}; searching for it.")
        searches = [PlanStep(0, "FIND", {"object": object_id}) for object_id in lost]
        plan = [*looks, *(_described(step, grounder) for step in [*searches, *planned.steps])]
        for position, step in enumerate(plan):
            step.index = position
        done = [step for step in looks if step.status == StepStatus.SUCCEEDED]
        replans = 0
        index = len(looks)
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
            interpretation = follow_merges(interpretation, graph)
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


def follow_merges(interpretation: Interpretation, graph: SceneGraph) -> Interpretation:
    """The goal with ids of tracks the tracker merged into another (a doubt settled) renamed to it."""
    if interpretation.goal is None:
        return interpretation
    renamed = {alias: obj.id for obj in graph for alias in merged_ids(obj) if alias not in graph}
    if not renamed or not interpretation.goal.ids() & set(renamed):
        return interpretation
    goal = Goal([[condition.substitute(renamed) for condition in stage] for stage in interpretation.goal.stages])
    return replace(interpretation, goal=goal)


def doubts_of(graph: SceneGraph, ids: set[str]) -> list[Doubt]:
    """The graph's possibly_same_as links with either end among the ids."""
    return [
        Doubt(r.subject_id, r.object_id, r.confidence)
        for r in graph.relations
        if r.predicate == Predicate.POSSIBLY_SAME_AS
        and (r.subject_id in ids or r.object_id in ids)
        and r.subject_id in graph
        and r.object_id in graph
    ]


def referenced_ids(interpretation: Interpretation, graph: SceneGraph) -> set[str]:
    """The scene ids an interpretation names: a goal's, a plan's arguments, a question's or answer's candidates."""
    if interpretation.outcome == Outcome.GOAL and interpretation.goal is not None:
        return interpretation.goal.ids()
    if interpretation.outcome == Outcome.PLAN:
        return {v for step in interpretation.plan for v in step.arguments.values() if v in graph}
    if interpretation.outcome in (Outcome.CLARIFY, Outcome.ANSWER):
        return set(interpretation.candidates)
    return set()


def _without(graph: SceneGraph, ids: set[str]) -> SceneGraph:
    """A copy of the graph without some objects and their relations (the graph itself is untouched)."""
    view = SceneGraph(graph.frame_id, graph.stamp_ns, graph.revision, dict(graph.objects), list(graph.relations))
    for object_id in ids:
        view.remove(object_id)
    return view


def _missing_in(steps: list[PlanStep], graph: SceneGraph) -> list[str]:
    """Objects the steps name that the graph marks missing and no step searches for."""
    searched = {s.arguments.get("object") for s in steps if s.skill == "FIND"}
    return list(dict.fromkeys(i for step in steps for i in _lost_objects(step, graph) if i not in searched))


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
