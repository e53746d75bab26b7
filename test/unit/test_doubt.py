"""Doubt resolved by looking, questions that tell their candidates apart, live objects before missing ones.

The scene graphs are made by hand: a tracker's possibly_same_as link (NEW may be OLD, moved away
from its spot) and what a look at OLD's spot makes of it (one object under OLD's id, or two).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from copy import deepcopy

import numpy as np
import pytest

from control.skills import SkillErrorCode, SkillSpec, load_catalog
from perception.scene_graph import ObjectState, Predicate, Relation, SceneGraph, SceneObject
from planning.agent import Agent, Progress, SkillOutcome, follow_merges
from planning.goals import Goal
from planning.grounding import Grounder
from planning.interpretation import Interpretation, Outcome
from planning.models.base import ModelClient, ModelRequest, ModelResponse
from planning.plan import AgentState, PlanStep, StepStatus, TaskErrorCode
from planning.planner import TaskPlanner
from robot_agent.paths import config_file
from sim.layout import layout_graph
from sim.scenario import load_scenario

CATALOG = load_catalog(config_file("skills.yaml"))
OLD, NEW = "yellow_banana", "banana_2"


@pytest.fixture(scope="module")
def kitchen() -> SceneGraph:
    return layout_graph(load_scenario("kitchen"))


def _move(graph: SceneGraph, object_id: str, onto: str, position: tuple[float, float]) -> None:
    """Put an object of the graph on other furniture (the kitchen's furniture is all in the kitchen)."""
    obj = graph.objects[object_id]
    obj.position = np.array([position[0], position[1], obj.position[2]])
    graph.relations = [r for r in graph.relations if not (r.subject_id == object_id and r.predicate == Predicate.ON)]
    graph.relations.append(Relation(object_id, Predicate.ON, onto))


def doubted(kitchen: SceneGraph, onto: str = "kitchen_table", position: tuple[float, float] = (2.0, 1.2)) -> SceneGraph:
    """The banana seen at a new place before its old spot on the counter was seen again: a new track
    that the tracker says may be the known banana."""
    graph = deepcopy(kitchen)
    old = graph.objects[OLD]
    new = SceneObject(id=NEW, label="banana", position=old.position.copy(), size=old.size.copy(),
                      attributes={"color": "yellow"}, state=ObjectState.VISIBLE)  # fmt: skip
    graph.objects[NEW] = new
    graph.relations.append(Relation(NEW, Predicate.IN, "kitchen"))
    _move(graph, NEW, onto, position)
    graph.relations.append(Relation(NEW, Predicate.POSSIBLY_SAME_AS, OLD, 0.7))
    return graph


def merged(graph: SceneGraph) -> SceneGraph:
    """The look saw the old spot empty: one object, under the old id, where the new track was."""
    result = deepcopy(graph)
    new = result.objects[NEW]
    support = next(r.object_id for r in result.relations_of(NEW, Predicate.ON))
    result.remove(NEW)
    _move(result, OLD, support, (float(new.position[0]), float(new.position[1])))
    return result


def two(graph: SceneGraph) -> SceneGraph:
    """The look saw the old one still there: two objects, no link."""
    result = deepcopy(graph)
    result.relations = [r for r in result.relations if r.predicate != Predicate.POSSIBLY_SAME_AS]
    return result


class World:
    """A fake robot: runs skills by recording them; ``after[skill]`` changes the scene graph when it runs."""

    def __init__(self, graph: SceneGraph, after: dict[str, Callable[[SceneGraph], SceneGraph]] | None = None) -> None:
        self.graphs = [graph]
        self.after = dict(after or {})
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.said: list[str] = []
        self.progress: list[Progress] = []
        self.fresh_after: list[int] = []  # how many skills had run when a fresh graph was asked for
        self.fail: dict[str, int] = {}  # skill -> how many of its next runs fail

    def run_skill(self, step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        self.calls.append((step.skill, dict(step.arguments)))
        if self.fail.get(step.skill):
            self.fail[step.skill] -= 1
            return SkillOutcome(int(SkillErrorCode.UNREACHABLE), "the head cannot point there")
        change = self.after.get(step.skill)
        if change is not None:
            self.graphs.append(change(self.graphs[-1]))
        return SkillOutcome()

    def fresh(self, cancel: threading.Event) -> SceneGraph:
        self.fresh_after.append(len(self.calls))
        return self.graphs[-1]

    def agent(self, catalog: dict[str, SkillSpec] | None = None) -> Agent:
        skills = catalog or CATALOG
        return Agent(TaskPlanner("offline", use_embeddings=False), self.run_skill, lambda: self.graphs[-1],
                     lambda: skills, self.progress.append, self.said.append, fresh_scene=self.fresh)  # fmt: skip


def test_without_a_look_the_duplicate_would_be_asked_about(kitchen: SceneGraph) -> None:
    result = TaskPlanner("offline", use_embeddings=False).interpret("bring me the banana", doubted(kitchen), CATALOG)
    assert result.outcome == Outcome.CLARIFY and set(result.candidates) == {OLD, NEW}


def test_a_look_that_settles_to_one_object_asks_nothing_and_goes_on_with_the_old_id(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen), {"LOOK_AT": merged})
    result = world.agent().handle("bring me the banana", threading.Event())
    assert result.success, result.message
    assert world.calls == [
        ("LOOK_AT", {"target": OLD}),  # the old spot, before anything else
        ("GOTO", {"target": OLD}),
        ("PICK", {"object": OLD}),
    ]
    assert world.fresh_after == [1]  # the graph is read again after the look, not before
    assert world.said[0] == (
        "Checking whether the yellow banana on the counter is still there "
        "(the yellow banana on the kitchen table may be it)."
    )
    assert not any(text.startswith("Which") for text in world.said)
    look = result.plan[0]
    assert look.skill == "LOOK_AT" and look.status == StepStatus.SUCCEEDED
    assert look.description == "check whether the yellow banana on the counter is still there"
    assert result.summary.startswith("Done: check whether the yellow banana on the counter is still there;")
    running = [p for p in world.progress if p.state == AgentState.EXECUTING]
    assert running[0].message == look.description and running[0].plan[0].skill == "LOOK_AT"


def test_a_look_that_shows_two_objects_asks_between_them_and_the_answer_completes(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen), {"LOOK_AT": two})
    agent = world.agent()
    question = agent.handle("bring me the banana", threading.Event())
    assert question.error_code == TaskErrorCode.AMBIGUOUS
    assert world.calls == [("LOOK_AT", {"target": OLD})]  # the link is gone: no second look
    assert question.message == (
        "Which banana do you mean: the yellow banana on the counter or the yellow banana on the kitchen table?"
    )
    assert [s.skill for s in question.plan] == ["LOOK_AT"]
    answered = agent.handle("the one on the kitchen table", threading.Event())
    assert answered.success, answered.message
    assert world.calls[1:] == [("GOTO", {"target": NEW}), ("PICK", {"object": NEW})]


def test_two_look_alikes_on_one_counter_are_told_apart(kitchen: SceneGraph) -> None:
    graph = doubted(kitchen, onto="counter", position=(1.65, 3.6))  # beside the red cup
    world = World(graph, {"LOOK_AT": two})
    question = world.agent().handle("bring me the banana", threading.Event())
    assert question.error_code == TaskErrorCode.AMBIGUOUS
    assert question.message == (
        "Which banana do you mean: the yellow banana on the counter or "
        "the yellow banana on the counter next to the red cup?"
    )


def test_a_doubt_no_look_settles_is_not_asked_about_as_two_things(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen))  # the looks change nothing
    result = world.agent().handle("bring me the banana", threading.Event())
    assert result.success, result.message
    assert world.calls == [
        ("LOOK_AT", {"target": OLD}),
        ("GOTO", {"target": "counter"}),  # once more, from beside the old spot
        ("LOOK_AT", {"target": OLD}),
        ("GOTO", {"target": NEW}),  # then the one seen lately
        ("PICK", {"object": NEW}),
    ]
    assert world.fresh_after == [1, 3]
    assert not any(text.startswith("Which") for text in world.said)
    assert "I could not tell whether the yellow banana on the kitchen table is the yellow banana on the counter" in (
        result.summary
    )


def test_a_failed_look_is_tried_once_more_from_beside_the_old_spot(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen), {"LOOK_AT": merged})
    world.fail["LOOK_AT"] = 1
    result = world.agent().handle("bring me the banana", threading.Event())
    assert result.success, result.message
    assert world.calls == [
        ("LOOK_AT", {"target": OLD}),
        ("GOTO", {"target": "counter"}),
        ("LOOK_AT", {"target": OLD}),
        ("GOTO", {"target": OLD}),
        ("PICK", {"object": OLD}),
    ]
    assert result.plan[0].status == StepStatus.FAILED and "cannot point" in result.plan[0].error_msg


def test_doubts_about_other_things_cost_no_look(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen))
    assert world.agent().handle("go to the sideboard", threading.Event()).success
    assert world.calls == [("GOTO", {"target": "sideboard"})]


def test_without_look_at_the_old_spots_furniture_is_scanned(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen), {"SCAN": merged})
    catalog = {name: spec for name, spec in CATALOG.items() if name != "LOOK_AT"}
    assert world.agent(catalog).handle("bring me the banana", threading.Event()).success
    assert world.calls[0] == ("SCAN", {"target": "counter"})


def test_a_cancelled_look_stops_the_task(kitchen: SceneGraph) -> None:
    world = World(doubted(kitchen))

    def cancelled(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        world.calls.append((step.skill, dict(step.arguments)))
        return SkillOutcome(int(SkillErrorCode.CANCELLED), "cancelled")

    world.run_skill = cancelled  # type: ignore[method-assign]
    result = world.agent().handle("bring me the banana", threading.Event())
    assert result.error_code == TaskErrorCode.CANCELLED and world.calls == [("LOOK_AT", {"target": OLD})]


# --- live objects before missing ones ----------------------------------------------------------------


def _missing(graph: SceneGraph, *ids: str) -> SceneGraph:
    result = deepcopy(graph)
    for object_id in ids:
        result.objects[object_id].state = ObjectState.MISSING
    return result


def test_a_missing_object_is_a_candidate_only_when_nothing_live_fits(kitchen: SceneGraph) -> None:
    graph = _missing(kitchen, "red_cup")
    grounder = Grounder(graph, use_embeddings=False)
    assert grounder.resolve("the cup").candidates == ["blue_cup"]
    assert grounder.resolve("the red cup").candidates == ["red_cup"]  # only the missing one fits
    assert grounder.resolve("the cup on the counter").candidates == ["blue_cup"]
    planner = TaskPlanner("offline", use_embeddings=False)
    live = planner.interpret("bring me the cup", graph, CATALOG)
    assert str(live.goal) == "holding(blue_cup)" and not live.notes  # no question about the stale one
    stale = planner.interpret("bring me the red cup", graph, CATALOG)
    assert str(stale.goal) == "holding(red_cup)"
    assert stale.notes == ["the red cup was last seen on the counter but is no longer there"]
    answer = planner.interpret("where is the red cup?", graph, CATALOG)
    assert answer.message == "The red cup was last seen on the counter but is no longer there."
    both = planner.interpret("bring me the cup", _missing(kitchen, "red_cup", "blue_cup"), CATALOG)
    assert both.outcome == Outcome.CLARIFY
    assert both.message == (
        "Which cup do you mean: the red cup last seen on the counter or the blue cup last seen on the counter?"
    )


def test_the_agent_searches_for_a_missing_object_first_and_says_why(kitchen: SceneGraph) -> None:
    world = World(_missing(kitchen, "red_cup"), {"FIND": lambda _graph: kitchen})
    result = world.agent().handle("bring me the red cup", threading.Event())
    assert result.success, result.message
    assert world.calls == [("FIND", {"object": "red_cup"}), ("GOTO", {"target": "red_cup"}),
                           ("PICK", {"object": "red_cup"})]  # fmt: skip
    assert world.said[0] == "The red cup was last seen on the counter but is no longer there; searching for it."
    assert "(the red cup was last seen on the counter but is no longer there)" in result.summary


# --- questions that tell their candidates apart ------------------------------------------------------


@pytest.fixture(scope="module")
def office() -> SceneGraph:
    return layout_graph(load_scenario("office"))


def test_look_alike_furniture_is_told_apart_by_what_is_on_it(office: SceneGraph) -> None:
    planner = TaskPlanner("offline", use_embeddings=False)
    question = planner.interpret("go to the desk", office, CATALOG)
    assert question.message == (
        "Which desk do you mean: the desk with the red mug on it or the desk with the black stapler on it?"
    )
    answered = planner.interpret("the one with the black stapler", office, CATALOG, pending=question.pending)
    assert str(answered.goal) == "at(robot, desk_b)"
    # A new command is not taken for an answer.
    again = planner.interpret("put the red mug on the meeting table", office, CATALOG, pending=question.pending)
    assert str(again.goal) == "on(red_mug, meeting_table)"


def test_descriptions_that_read_the_same_get_a_side_then_an_id(kitchen: SceneGraph) -> None:
    graph = deepcopy(kitchen)
    twin = deepcopy(graph.objects["red_cup"])
    twin.id = "red_cup_2"
    graph.objects[twin.id] = twin
    graph.relations += [Relation(twin.id, Predicate.ON, "counter"), Relation(twin.id, Predicate.IN, "kitchen")]
    grounder = Grounder(graph, use_embeddings=False)
    assert grounder.distinguishing_descriptions(["red_cup", "red_cup_2"]) == [
        "the red cup on the counter (red_cup)",
        "the red cup on the counter (red_cup_2)",
    ]
    graph.relations.append(Relation("red_cup", Predicate.LEFT_OF, "red_cup_2"))
    grounder = Grounder(graph, use_embeddings=False)
    assert grounder.distinguishing_descriptions(["red_cup", "red_cup_2"]) == [
        "the red cup on the counter on the left",
        "the red cup on the counter on the right",
    ]
    # Descriptions that already differ stay as they are.
    assert grounder.distinguishing_descriptions(["red_cup", "blue_cup"]) == [
        grounder.describe("red_cup"),
        grounder.describe("blue_cup"),
    ]


class ScriptedModel(ModelClient):
    name = "scripted"

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def complete(self, request: ModelRequest) -> ModelResponse:
        return ModelResponse(self.answer, "scripted", 0.0)


def test_a_models_question_names_its_candidates_so_they_read_apart(office: SceneGraph) -> None:
    answer = {"outcome": "clarify", "message": "The desk or the desk?", "candidates": ["desk_a", "desk_b"]}
    planner = TaskPlanner("llm_goal", ScriptedModel(json.dumps(answer)), use_embeddings=False)
    question = planner.interpret("go to the desk", office, CATALOG)
    assert question.outcome == Outcome.CLARIFY
    assert question.message == (
        "Which desk do you mean: the desk with the red mug on it or the desk with the black stapler on it?"
    )


def test_a_goal_naming_a_merged_track_follows_it_to_the_known_object() -> None:
    graph = SceneGraph()
    graph.objects["yellow_banana"] = SceneObject(
        "yellow_banana", "banana", attributes={"color": "yellow", "merged_ids": "banana_2"}
    )
    goal = Goal.parse([["on(banana_2, dining_table)"]])
    followed = follow_merges(Interpretation(Outcome.GOAL, "", goal=goal), graph)
    assert followed.goal is not None and str(followed.goal) == "on(yellow_banana, dining_table)"
