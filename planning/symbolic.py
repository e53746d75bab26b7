"""Symbolic state, skill preconditions and effects, plan validation and a planner that searches them.

Skills come from the catalog (their preconditions and effects are conditions over the skill's
parameter names, e.g. PICK: ``hand_empty``, ``reachable(object)`` -> ``holding(object)``); the
meaning of each predicate is fixed here, the way a PDDL domain fixes its predicates. The initial
state comes from the scene graph: what stands on what, which room things are in, what is held.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from control.skills import InvalidArgumentsError, SkillSpec
from perception.scene_graph import ObjectKind, ObjectState, Predicate, SceneGraph
from planning.goals import Condition, Goal, GoalError, parse_condition, scene_ids
from planning.plan import PlanStep

ROBOT = "robot"
MAX_EXPANSIONS = 20_000
MAX_STEPS = 24


class PlanningError(Exception):
    """No plan reaches the goal; the message says which condition could not be reached."""


@dataclass(frozen=True)
class World:
    """What does not change during a plan: the kinds of things and where furniture stands."""

    kinds: Mapping[str, ObjectKind]
    labels: Mapping[str, str]
    room_of_furniture: Mapping[str, str]

    def is_object(self, thing: str) -> bool:
        return self.kinds.get(thing) == ObjectKind.OBJECT


@dataclass(frozen=True)
class State:
    """What a plan changes. ``on`` and ``room`` map objects to their support and their room."""

    robot_at: str | None = None
    holding: str | None = None
    on: frozenset[tuple[str, str]] = frozenset()
    room: frozenset[tuple[str, str]] = frozenset()
    facts: frozenset[Condition] = frozenset()  # found, looked_at, said, waited, manipulated

    def support(self, thing: str) -> str | None:
        return next((f for o, f in self.on if o == thing), None)


def initial_state(graph: SceneGraph, robot_at: str | None = None) -> tuple[World, State]:
    """The world and the state of a scene graph; ``robot_at`` is where the robot is, if known."""
    kinds = {o.id: o.kind for o in graph}
    labels = {o.id: o.label for o in graph}
    room_of_furniture = {
        r.subject_id: r.object_id
        for r in graph.relations
        if r.predicate == Predicate.PART_OF and kinds.get(r.subject_id) == ObjectKind.FURNITURE
    }
    on = frozenset(
        (r.subject_id, r.object_id)
        for r in graph.relations
        if r.predicate == Predicate.ON and kinds.get(r.subject_id) == ObjectKind.OBJECT
    )
    room = frozenset(
        (r.subject_id, r.object_id)
        for r in graph.relations
        if r.predicate == Predicate.IN and kinds.get(r.object_id) == ObjectKind.ROOM
    )
    held = next((o.id for o in graph if o.state == ObjectState.HELD), None)
    return World(kinds, labels, room_of_furniture), State(robot_at=robot_at, holding=held, on=on, room=room)


def room_of(world: World, state: State, thing: str) -> str | None:
    """The room a thing is in now (the robot's room for what it holds)."""
    kind = world.kinds.get(thing)
    if thing in (ROBOT, state.holding):
        here = state.robot_at
        return None if here is None or here in (ROBOT, state.holding) else room_of(world, state, here)
    if kind == ObjectKind.ROOM:
        return thing
    if kind == ObjectKind.FURNITURE:
        return world.room_of_furniture.get(thing)
    support = state.support(thing)
    if support is not None:
        return world.room_of_furniture.get(support)
    return next((r for o, r in state.room if o == thing), None)


def robot_at(world: World, state: State, place: str) -> bool:
    """The robot is at a place: the place itself, the room it is in, or an object and its support."""
    here = state.robot_at
    if here is None:
        return False
    if place in (here, state.holding):
        return True
    kind = world.kinds.get(place)
    if kind == ObjectKind.ROOM:
        return room_of(world, state, here) == place
    if kind == ObjectKind.FURNITURE:
        return state.support(here) == place
    if kind == ObjectKind.OBJECT:
        return state.support(place) in (here, state.support(here)) and state.support(place) is not None
    return False


def holds(world: World, state: State, condition: Condition) -> bool:
    return _holds(world, state, condition) != condition.negated


def _holds(world: World, state: State, condition: Condition) -> bool:
    name, arguments = condition.predicate, condition.arguments
    first = arguments[0] if arguments else ""
    if name == "hand_empty":
        return state.holding is None
    if name == "can_grasp":
        return state.holding in (None, first)
    if name == "holding":
        return state.holding == first
    if name == "movable":
        return world.is_object(first)
    if name == "surface":
        return world.kinds.get(first) == ObjectKind.FURNITURE
    if name == "reachable":
        return robot_at(world, state, first)
    if name == "at":
        return first == ROBOT and robot_at(world, state, arguments[1])
    if name == "on":
        return (first, arguments[1]) in state.on
    if name == "in":  # an object is in a room once it is put down there
        return (first == ROBOT or first != state.holding) and room_of(world, state, first) == arguments[1]
    if name == "near":
        if first == ROBOT:
            return robot_at(world, state, arguments[1])
        a, b = state.support(first), state.support(arguments[1])
        return a is not None and a in (b, arguments[1])
    return Condition(name, arguments) in state.facts


def apply(world: World, state: State, effects: Iterable[Condition]) -> State:
    """The state after effects (already bound to a call's arguments)."""
    for effect in effects:
        name, arguments = effect.predicate, effect.arguments
        if name == "at" and not effect.negated:
            state = replace(state, robot_at=arguments[1])
        elif name == "holding":
            if effect.negated:
                state = replace(state, holding=None) if state.holding == arguments[0] else state
            else:
                thing = arguments[0]
                here = state.robot_at
                if here == thing:  # the robot stays where the thing stood
                    here = state.support(thing) or room_of(world, state, thing)
                state = replace(
                    state,
                    robot_at=here,
                    holding=thing,
                    on=frozenset(p for p in state.on if p[0] != thing),
                    room=frozenset(p for p in state.room if p[0] != thing),
                )
        elif name == "hand_empty" and not effect.negated:
            state = replace(state, holding=None)
        elif name == "on" and not effect.negated:
            thing = arguments[0]
            state = replace(
                state,
                on=frozenset(p for p in state.on if p[0] != thing) | {(thing, arguments[1])},
                room=frozenset(p for p in state.room if p[0] != thing),
            )
        elif name in ("found", "looked_at", "said", "waited", "manipulated"):
            fact = Condition(name, arguments)
            state = replace(state, facts=state.facts - {fact} if effect.negated else state.facts | {fact})
    return state


@dataclass(frozen=True)
class Action:
    """A skill of the catalog as preconditions and effects over its parameter names."""

    spec: SkillSpec
    preconditions: tuple[Condition, ...]
    effects: tuple[Condition, ...]

    @classmethod
    def of(cls, spec: SkillSpec) -> Action:
        try:
            return cls(
                spec,
                tuple(parse_condition(text) for text in spec.preconditions),
                tuple(parse_condition(text) for text in spec.effects),
            )
        except GoalError as error:
            raise ValueError(f"skill {spec.name}: {error}") from None


def actions_of(catalog: Mapping[str, SkillSpec]) -> dict[str, Action]:
    return {name: Action.of(spec) for name, spec in catalog.items()}


@dataclass
class Validation:
    """What checking a plan found: errors (empty when valid) and the state it ends in."""

    errors: list[str] = field(default_factory=list)
    final_state: State | None = None
    failed_step: int | None = None

    @property
    def valid(self) -> bool:
        return not self.errors


def check_step(
    step: PlanStep, actions: Mapping[str, Action], world: World, state: State
) -> tuple[list[str], list[Condition]]:
    """Reasons the step cannot run in ``state`` (empty if it can) and its bound effects."""
    action = actions.get(step.skill)
    if action is None:
        return [f"step {step.index + 1}: unknown skill {step.skill!r}; the catalog has {', '.join(actions)}"], []
    try:
        action.spec.bind(step.arguments)
    except InvalidArgumentsError as error:
        return [f"step {step.index + 1} ({step.skill}): {error}"], []
    reasons = []
    referenced = {a for c in (*action.preconditions, *action.effects) for a in c.arguments}
    for parameter in action.spec.parameters:
        value = step.arguments.get(parameter.name, "")
        if parameter.name in referenced and not value:  # optional for the skill, needed to reason about it
            reasons.append(f"step {step.index + 1} ({step.skill}): needs the argument {parameter.name!r}")
        if parameter.type == "object_id" and value and value not in world.kinds:
            reasons.append(f"step {step.index + 1} ({step.skill}): {value!r} is not in the scene graph")
    if reasons:
        return reasons, []
    values = dict(step.arguments)
    for precondition in action.preconditions:
        bound = precondition.substitute(values)
        if not holds(world, state, bound):
            reasons.append(f"step {step.index + 1} ({step.skill}): needs {bound}")
    return reasons, [effect.substitute(values) for effect in action.effects]


def validate(
    plan: Sequence[PlanStep], actions: Mapping[str, Action], world: World, state: State, goal: Goal | None = None
) -> Validation:
    """Simulate the plan on the symbolic state; with a goal, also check each stage is reached at the end."""
    for step in plan:
        reasons, effects = check_step(step, actions, world, state)
        if reasons:
            return Validation(reasons, state, step.index)
        state = apply(world, state, effects)
    if goal is not None:
        unmet = [str(c) for stage in goal.stages for c in stage if not holds(world, state, c)]
        if unmet and goal.stages:
            # Earlier stages may be undone on purpose (go to A, then to B): only the last must hold.
            last_unmet = [str(c) for c in goal.stages[-1] if not holds(world, state, c)]
            if last_unmet:
                return Validation([f"the plan ends without {', '.join(last_unmet)}"], state, None)
    return Validation([], state, None)


def plan_goal(goal: Goal, actions: Mapping[str, Action], world: World, state: State) -> list[PlanStep]:
    """Skill calls reaching each stage of the goal in turn; raises PlanningError."""
    plan: list[PlanStep] = []
    for stage in goal.stages:
        for step in plan_stage(stage, actions, world, state, _candidates(goal, world, state)):
            reasons, effects = check_step(replace(step, index=len(plan)), actions, world, state)
            assert not reasons, reasons  # the search only applies applicable calls
            state = apply(world, state, effects)
            plan.append(replace(step, index=len(plan)))
    return plan


def _candidates(goal: Goal, world: World, state: State) -> list[str]:
    """The ids a plan may use: those the goal names, what is held and where the named objects stand."""
    named = sorted(goal.ids())
    extra = [state.holding] if state.holding else []
    # Putting something into a room means putting it on a piece of furniture there.
    rooms = [n for n in named if world.kinds.get(n) == ObjectKind.ROOM]
    extra += sorted(f for f, room in world.room_of_furniture.items() if room in rooms)
    return list(dict.fromkeys(named + extra))


def plan_stage(
    stage: Sequence[Condition], actions: Mapping[str, Action], world: World, state: State, candidates: Sequence[str]
) -> list[PlanStep]:
    """A* over bound skill calls (cost 1 each; heuristic: the calls each unmet condition needs at least)."""
    unknown = [c for c in stage for a in scene_ids(c) if a not in world.kinds]
    if unknown:
        raise PlanningError(f"{unknown[0]} names something that is not in the scene graph")

    def unmet(s: State) -> int:
        return sum(not holds(world, s, c) for c in stage)

    def steps_left(s: State) -> int:
        """About how many calls the unmet conditions need (each carried object: to it, pick, to the place, put)."""
        total = 0
        for condition in stage:
            if holds(world, s, condition):
                continue
            thing = condition.arguments[0] if condition.arguments else ""
            if condition.negated or condition.predicate not in ("on", "in", "holding"):
                total += 1
            elif s.holding == thing:
                total += 2 - robot_at(world, s, condition.arguments[-1]) if condition.predicate != "holding" else 1
            else:
                carry = 2 if condition.predicate == "holding" else 4
                total += carry - robot_at(world, s, thing)
        return total

    # Each call's conditions bound once, not at every expansion.
    calls = [
        (
            skill,
            arguments,
            tuple(p.substitute(arguments) for p in actions[skill].preconditions),
            tuple(e.substitute(arguments) for e in actions[skill].effects),
        )
        for skill, arguments in _bound_calls(stage, actions, candidates)
    ]
    counter = itertools.count()
    # Ties between equal estimates go to the state nearer the goal (fewer calls left).
    frontier: list[tuple[int, int, int, State, tuple[tuple[str, dict[str, str]], ...]]] = [
        (steps_left(state), steps_left(state), 0, state, ())
    ]
    seen = {state}
    expansions = 0
    while frontier:
        _, _, _, current, path = heapq.heappop(frontier)
        if unmet(current) == 0:
            return [PlanStep(index=i, skill=skill, arguments=dict(args)) for i, (skill, args) in enumerate(path)]
        expansions += 1
        if expansions > MAX_EXPANSIONS or len(path) >= MAX_STEPS:
            continue
        for skill, arguments, preconditions, effects in calls:
            if not all(holds(world, current, p) for p in preconditions):
                continue
            following = apply(world, current, effects)
            if following in seen:
                continue
            seen.add(following)
            cost = len(path) + 1
            left = steps_left(following)
            heapq.heappush(frontier, (cost + left, left, next(counter), following, (*path, (skill, arguments))))
    missing = ", ".join(str(c) for c in stage if not holds(world, state, c))
    raise PlanningError(f"no sequence of the available skills reaches {missing}")


def _bound_calls(
    stage: Sequence[Condition], actions: Mapping[str, Action], candidates: Sequence[str]
) -> Iterable[tuple[str, dict[str, str]]]:
    """Every call of every skill with its parameters bound to candidate values, in catalog order."""
    texts = [c.arguments[0] for c in stage if c.predicate == "said"]
    numbers = [c.arguments[0] for c in stage if c.predicate == "waited"]
    instructions = [c.arguments[2] for c in stage if c.predicate == "manipulated"]
    for name, action in actions.items():
        choices: list[list[str]] = []
        for parameter in action.spec.parameters:
            if parameter.type == "object_id":
                choices.append(list(candidates))
            elif parameter.type == "string":
                # A string parameter names a text to say, an instruction (MANIPULATE), or a thing (FIND
                # takes ids or labels); an optional one that is none of these stays unset (MANIPULATE's spec).
                if name == "SAY" or parameter.name == "text":
                    choices.append(texts)
                elif parameter.name == "instruction":
                    choices.append(instructions)
                elif not parameter.required:
                    choices.append([""])
                else:
                    choices.append(list(candidates))
            elif parameter.type in ("float", "int"):
                choices.append(numbers)
            elif not parameter.required:
                choices.append([""])
            else:
                choices.append([])
        for values in itertools.product(*choices):
            yield name, {p.name: v for p, v in zip(action.spec.parameters, values, strict=True) if v != ""}
