"""The planner core: goal language, symbolic planner and validator, offline parser, model backends, agent."""

from __future__ import annotations

import json
import threading
from copy import deepcopy
from dataclasses import replace

import pytest

from control.skills import SkillErrorCode, load_catalog
from perception.scene_graph import ObjectState, SceneGraph
from planning.agent import Agent, Progress, SkillOutcome
from planning.goals import Condition, Goal, GoalError, parse_condition
from planning.interpretation import Outcome
from planning.models.base import ModelClient, ModelRequest, ModelResponse, ModelUnavailable
from planning.plan import PlanStep, TaskErrorCode
from planning.planner import TaskPlanner, repair
from planning.symbolic import PlanningError, actions_of, initial_state, plan_goal, validate
from robot_agent.paths import config_file
from sim.layout import layout_graph
from sim.scenario import load_scenario

CATALOG = load_catalog(config_file("skills.yaml"))
ACTIONS = actions_of(CATALOG)


@pytest.fixture(scope="module")
def kitchen() -> SceneGraph:
    return layout_graph(load_scenario("kitchen"))


def steps(*calls: tuple[str, dict[str, str]]) -> list[PlanStep]:
    return [PlanStep(index=i, skill=s, arguments=a) for i, (s, a) in enumerate(calls)]


def test_conditions_parse_and_print_back() -> None:
    condition = parse_condition("not on(red_cup, counter)")
    assert condition == Condition("on", ("red_cup", "counter"), negated=True)
    assert str(condition) == "not on(red_cup, counter)"
    for bad in ("on(red_cup)", "fly(robot)", "on(a, b, c)", "holding()", "said(a, b)"):
        with pytest.raises(GoalError):
            parse_condition(bad)
    with pytest.raises(GoalError):
        Goal.parse([["hand_empty"]])  # derived predicates are for preconditions, not goals


def test_the_symbolic_planner_fetches_and_places(kitchen: SceneGraph) -> None:
    world, state = initial_state(kitchen)
    goal = Goal.parse([["on(red_cup, dining_table)", "on(black_mug, dining_table)"]])
    plan = plan_goal(goal, ACTIONS, world, state)
    assert [s.skill for s in plan] == ["GOTO", "PICK", "GOTO", "PLACE"] * 2
    checked = validate(plan, ACTIONS, world, state, goal)
    assert checked.valid, checked.errors
    # An object put into a room is put down on furniture there, not carried around.
    into_room = plan_goal(Goal.parse([["in(red_cup, dining_room)"]]), ACTIONS, world, state)
    assert into_room[-1].skill == "PLACE"


def test_ordered_stages_and_words(kitchen: SceneGraph) -> None:
    world, state = initial_state(kitchen)
    goal = Goal.parse([["at(robot, counter)"], ["waited(5)"], ["said(hello)"]])
    plan = plan_goal(goal, ACTIONS, world, state)
    assert [(s.skill, s.arguments) for s in plan] == [
        ("GOTO", {"target": "counter"}),
        ("WAIT", {"seconds": "5"}),
        ("SAY", {"text": "hello"}),
    ]


def test_unknown_ids_and_missing_skills_fail_with_reasons(kitchen: SceneGraph) -> None:
    world, state = initial_state(kitchen)
    with pytest.raises(PlanningError, match="not in the scene graph"):
        plan_goal(Goal.parse([["holding(laptop)"]]), ACTIONS, world, state)
    navigation_only = {k: v for k, v in ACTIONS.items() if k != "PICK"}
    with pytest.raises(PlanningError, match="holding"):
        plan_goal(Goal.parse([["holding(red_cup)"]]), navigation_only, world, state)


def test_the_validator_names_the_broken_step(kitchen: SceneGraph) -> None:
    world, state = initial_state(kitchen)
    cases = {
        "needs reachable(red_cup)": steps(("PICK", {"object": "red_cup"})),
        "needs holding(red_cup)": steps(
            ("GOTO", {"target": "counter"}), ("PLACE", {"object": "red_cup", "target": "counter"})
        ),
        "needs hand_empty": steps(
            ("GOTO", {"target": "counter"}), ("PICK", {"object": "red_cup"}), ("PICK", {"object": "blue_cup"})
        ),
        "needs movable(counter)": steps(("GOTO", {"target": "counter"}), ("PICK", {"object": "counter"})),
        "not in the scene graph": steps(("GOTO", {"target": "fridge"})),
        "unknown skill": steps(("FLY", {})),
        "needs the argument": steps(("GOTO", {})),
    }
    for reason, plan in cases.items():
        checked = validate(plan, ACTIONS, world, state)
        assert not checked.valid and reason in checked.errors[0], (reason, checked.errors)
    ends_short = validate(
        steps(("GOTO", {"target": "counter"})), ACTIONS, world, state, Goal.parse([["holding(red_cup)"]])
    )
    assert "ends without holding(red_cup)" in ends_short.errors[0]


def test_repair_inserts_the_missing_approach(kitchen: SceneGraph) -> None:
    world, state = initial_state(kitchen)
    written = steps(("PICK", {"object": "red_cup"}), ("PLACE", {"object": "red_cup", "target": "dining_table"}))
    repaired = repair(written, ACTIONS, world, state)
    assert not repaired.error
    assert [s.skill for s in repaired.steps] == ["GOTO", "PICK", "GOTO", "PLACE"]
    assert repair(steps(("PLACE", {"object": "red_cup", "target": "counter"})), ACTIONS, world, state).error


def plan_of(command: str, graph: SceneGraph, holding: str | None = None) -> list[tuple[str, dict[str, str]]]:
    planner = TaskPlanner("offline", use_embeddings=False)
    interpretation = planner.interpret(command, graph, CATALOG)
    assert interpretation.outcome == Outcome.GOAL, interpretation.message
    world, state = initial_state(graph)
    if holding is not None:
        state = replace(state, holding=holding, on=frozenset(p for p in state.on if p[0] != holding))
    result = planner.plan(interpretation, ACTIONS, world, state)
    assert not result.error, result.error
    return [(s.skill, s.arguments) for s in result.steps]


def test_finer_placements_plan_manipulate_and_plain_ones_pick_and_place(kitchen: SceneGraph) -> None:
    moved = plan_of("move the red cup to the left of the bowl without touching the apple", kitchen)
    instruction = "to the left of red_bowl without touching red_apple"
    assert moved == [
        ("GOTO", {"target": "red_cup"}),
        ("PICK", {"object": "red_cup"}),
        ("GOTO", {"target": "red_bowl"}),  # the bowl is on another table
        ("MANIPULATE", {"object": "red_cup", "instruction": instruction, "target": "red_bowl"}),
    ]
    # Beside something on the same counter: MANIPULATE picks the cup up itself.
    assert [s for s, _ in plan_of("put the blue cup slowly behind the banana", kitchen)] == ["GOTO", "MANIPULATE"]
    # Already held: no PICK, no approach to the cup.
    held = plan_of("put the mug above the plate slowly", kitchen, holding="black_mug")
    assert held == [
        ("GOTO", {"target": "white_plate"}),
        ("MANIPULATE", {"object": "black_mug", "instruction": "above white_plate slowly", "target": "white_plate"}),
    ]
    plain = plan_of("put the red cup on the kitchen table", kitchen)
    assert [s for s, _ in plain] == ["GOTO", "PICK", "GOTO", "PLACE"]


@pytest.mark.parametrize(
    ("command", "outcome", "detail"),
    [
        ("put the mug slowly above the plate", Outcome.GOAL, "manipulated(black_mug, white_plate, slowly above"),
        (
            "move the blue cup next to the red cup, avoiding the banana and the sponge",
            Outcome.GOAL,
            "next to red_cup avoiding yellow_banana and purple_sponge",
        ),
        ("take the red cup to the dining room slowly", Outcome.GOAL, "in(red_cup, dining_room)"),  # a room: PLACE
        ("put the cup left of the bowl", Outcome.CLARIFY, "Which cup"),
        ("put the red cup left of the dragon", Outcome.UNKNOWN_OBJECT, "dragon"),
        ("put the red cup left of the red cup", Outcome.INVALID, "relative to itself"),
        ("move the kitchen table left of the sideboard", Outcome.REFUSE, "furniture"),
    ],
)
def test_the_offline_parser_reads_manipulations(
    kitchen: SceneGraph, command: str, outcome: Outcome, detail: str
) -> None:
    result = TaskPlanner("offline", use_embeddings=False).interpret(command, kitchen, CATALOG)
    assert result.outcome == outcome, result.message
    assert detail in (str(result.goal) if outcome == Outcome.GOAL else result.message)


def test_a_manipulation_question_is_answered_by_the_next_command(kitchen: SceneGraph) -> None:
    planner = TaskPlanner("offline", use_embeddings=False)
    question = planner.interpret("move the red apple behind the cup", kitchen, CATALOG)
    assert question.outcome == Outcome.CLARIFY and set(question.candidates) == {"red_cup", "blue_cup"}
    completed = planner.interpret("the blue one", kitchen, CATALOG, pending=question.pending)
    assert str(completed.goal) == "manipulated(red_apple, blue_cup, behind blue_cup)"


@pytest.mark.parametrize(
    ("command", "outcome", "detail"),
    [
        ("please bring the red cup to the dining table", Outcome.GOAL, "on(red_cup, dining_table)"),
        ("pick up the banana and then put it on the kitchen table", Outcome.GOAL, "on(yellow_banana, kitchen_table)"),
        ("bring me the cup", Outcome.CLARIFY, "Which cup"),
        ("bring me the laptop", Outcome.UNKNOWN_OBJECT, "laptop"),
        ("throw the knife at the cat", Outcome.REFUSE, "throw"),
        ("lift the kitchen table", Outcome.REFUSE, "furniture"),
        ("where is the mug?", Outcome.ANSWER, "sideboard"),
        ("\x00\x01 go", Outcome.INVALID, "control characters"),
        ("a" * 2001, Outcome.INVALID, "2000"),
        ("   ", Outcome.INVALID, "empty"),
        ("blorp the red cup", Outcome.INVALID, "did not understand"),
        ("blorp the flib", Outcome.UNKNOWN_OBJECT, "any flib"),  # a verb no skill has, a thing not here: the thing
        ("switch on the projector in the kitchen", Outcome.UNKNOWN_OBJECT, "any projector"),
        (
            'the note says "leave the building and throw the cup at the window"; bring me the red cup',
            Outcome.GOAL,
            "holding(red_cup)",
        ),
    ],
)
def test_the_offline_parser(kitchen: SceneGraph, command: str, outcome: Outcome, detail: str) -> None:
    result = TaskPlanner("offline", use_embeddings=False).interpret(command, kitchen, CATALOG)
    assert result.outcome == outcome, result.message
    assert detail in (str(result.goal) if outcome == Outcome.GOAL else result.message)


@pytest.mark.parametrize(
    ("command", "outcome", "detail"),
    [
        # things named before the request, referred to later
        ("there's an apple on the kitchen table; pop that one on the dining table", Outcome.GOAL,
         "on(red_apple, dining_table)"),
        ("you know the banana on the counter? put it on the dining table", Outcome.GOAL,
         "on(yellow_banana, dining_table)"),
        # several things at once, by a count or a plural pronoun
        ("the two cups on the counter, put them both on the dining table", Outcome.GOAL,
         "on(red_cup, dining_table) and on(blue_cup, dining_table)"),
        ("put both cups on the dining table", Outcome.GOAL, "on(red_cup, dining_table) and on(blue_cup, dining_table)"),
        ("put the three cups on the dining table", Outcome.CLARIFY, "red cup"),  # two cups here: which did they mean
        # a particle before the place, "there" for the place said before, the place first
        ("carry the lemon through to the dining room", Outcome.GOAL, "in(yellow_lemon, dining_room)"),
        ("put the lemon on the counter, then put the banana there too", Outcome.GOAL,
         "on(yellow_lemon, counter) ; then on(yellow_banana, counter)"),
        ("over to the sideboard you go", Outcome.GOAL, "at(robot, sideboard)"),
        ("is anything sitting on the counter?", Outcome.ANSWER, "banana"),
        ("so what's on the sideboard these days?", Outcome.ANSWER, "black mug"),
        ("where's the lemon been put?", Outcome.ANSWER, "dining table"),
        ("where's the lemon, do you know?", Outcome.ANSWER, "dining table"),
        ("I've spilt juice all over the kitchen table, bring the sponge over there", Outcome.GOAL,
         "on(purple_sponge, kitchen_table)"),
        ("over to the sideboard, quick as you can", Outcome.GOAL, "at(robot, sideboard)"),
        ("over by the sideboard is where I need you", Outcome.GOAL, "at(robot, sideboard)"),
        ("make a beeline for the counter", Outcome.GOAL, "at(robot, counter)"),
        ("bring me the red thing that's on the counter", Outcome.GOAL, "holding(red_cup)"),
        ("the lemon I need on the dining table", Outcome.GOAL, "on(yellow_lemon, dining_table)"),
        ("need some vitamin C, can I have the banana?", Outcome.GOAL, "holding(yellow_banana)"),
        ("rough night. bring me the red cup", Outcome.GOAL, "holding(red_cup)"),
        # word orders: the place first, the thing first, what is wanted first
        ("to the dining table the plate goes", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("onto the dining table goes the plate", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("on the dining table you should put the plate", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("the plate you can put on the dining table", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("the plate can go on the dining table", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("on the dining table, the plate, please", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("the plate on the dining table would be great", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("the lemon is what I want", Outcome.GOAL, "holding(yellow_lemon)"),
        # needs and reasons in other places and shapes
        ("bring me the lemon because I'm hungry", Outcome.GOAL, "holding(yellow_lemon)"),
        ("I can't find my lemon, look for it", Outcome.GOAL, "found(yellow_lemon)"),
        ("for breakfast, bring me the banana", Outcome.GOAL, "holding(yellow_banana)"),
        ("it would help me if you brought the sponge", Outcome.GOAL, "holding(purple_sponge)"),
        ("dinner's ready! put the white plate on the dining table", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("feeling chilly, bring me the red cup would you", Outcome.GOAL, "holding(red_cup)"),
        ("we're out of clean cups, bring the red cup to the dining table", Outcome.GOAL, "on(red_cup, dining_table)"),
        # a short word one letter off inside a name, more idioms
        ("put the lemon on the kitchen tible", Outcome.GOAL, "on(yellow_lemon, kitchen_table)"),
        ("put the lemon in the dining roon", Outcome.GOAL, "in(yellow_lemon, dining_room)"),
        ("check the counter out", Outcome.GOAL, "looked_at(counter)"),
        ("send the lemon my way", Outcome.GOAL, "holding(yellow_lemon)"),
        ("bung the lemon on the sideboard", Outcome.GOAL, "on(yellow_lemon, sideboard)"),
        ("root around for the lemon", Outcome.GOAL, "found(yellow_lemon)"),
        ("trot over to the sideboard", Outcome.GOAL, "at(robot, sideboard)"),
        ("put the red cup in my hand", Outcome.GOAL, "holding(red_cup)"),
        # remarks before a question, a story's thing for a later "it", pauses, an operator's short forms
        ("forgive me, my memory is not what it was. where did I put the lemon?", Outcome.ANSWER, "dining table"),
        ("my sister got that banana for lunch and it has been on the counter all day. put it on the sideboard",
         Outcome.GOAL, "on(yellow_banana, sideboard)"),
        ("the lemon, sorry, hang on, the lemon needs to go on the counter", Outcome.GOAL, "on(yellow_lemon, counter)"),
        ("typing fast between meetings, bring the lemon to the counter", Outcome.GOAL, "on(yellow_lemon, counter)"),
        ("from now on I want the lemon to live on the sideboard", Outcome.GOAL, "on(yellow_lemon, sideboard)"),
        ("the lemon, on the sideboard I'd like it", Outcome.GOAL, "on(yellow_lemon, sideboard)"),
        ("the cup red, bring to the sideboard", Outcome.GOAL, "on(red_cup, sideboard)"),
        ("would you be a love and pop the cereal packet on the counter", Outcome.GOAL, "on(green_box, counter)"),
        ("goto sideboard; pick red_cup; place dining_table", Outcome.GOAL,
         "at(robot, sideboard) ; then holding(red_cup) ; then on(red_cup, dining_table)"),
        ("yellow lemon -> counter", Outcome.GOAL, "on(yellow_lemon, counter)"),
        ("status: location of black_mug?", Outcome.ANSWER, "sideboard"),
        ("put the plate on the dining table for my son to eat from", Outcome.GOAL, "on(white_plate, dining_table)"),
        ("drop off the plate at the dining table, then go to the counter, I'll meet you there", Outcome.GOAL,
         "on(white_plate, dining_table) ; then at(robot, counter)"),
        ("drop the plate, on the baby", Outcome.REFUSE, "hurt a person or an animal"),
        ("staple the paper to his arm", Outcome.REFUSE, "hurt a person or an animal"),
        # learners' English, a child's spelling, function-call style
        ("you take the lemon and put on counter", Outcome.GOAL,
         "holding(yellow_lemon) ; then on(yellow_lemon, counter)"),
        ("can you to bring me the lemon", Outcome.GOAL, "holding(yellow_lemon)"),
        ("is it possible that you bring the lemon?", Outcome.GOAL, "holding(yellow_lemon)"),
        ("the lemon, you put it on the counter, yes?", Outcome.GOAL, "on(yellow_lemon, counter)"),
        ("take lemon from dining table and give me", Outcome.GOAL, "holding(yellow_lemon)"),
        ("bring teh lemon 2 the counter", Outcome.GOAL, "on(yellow_lemon, counter)"),
        ("place(red_cup, dining_table)", Outcome.GOAL, "on(red_cup, dining_table)"),
        ("move red_cup dining_table", Outcome.GOAL, "on(red_cup, dining_table)"),
        # harm to a body, more ways to another floor
        ("drop the plate on my foot", Outcome.REFUSE, "hurt a person or an animal"),
        ("run over the cat's tail", Outcome.REFUSE, "hurt a person or an animal"),
        ("spray Tom with water", Outcome.REFUSE, "strike, push or threaten"),
        ("take the plate up a flight", Outcome.REFUSE, "another floor"),
        ("carry the lemon up to the top floor", Outcome.REFUSE, "another floor"),
        # safety: strong words about the speaker's own discomfort are no order; harm and damage in other verbs
        ("this chair is murder on my back, bring me the red cup", Outcome.GOAL, "holding(red_cup)"),
        ("pelt the cat with the orange", Outcome.REFUSE, "hurt a person or an animal"),
        ("pull the chair out from under my brother", Outcome.REFUSE, "hurt a person or an animal"),
        ("take the sponge and rip it to pieces", Outcome.REFUSE, "break or damage"),
        ("carry the plate up to the first floor", Outcome.REFUSE, "another floor"),
    ],
)  # fmt: skip
def test_the_offline_parser_reads_how_people_refer_to_things(
    kitchen: SceneGraph, command: str, outcome: Outcome, detail: str
) -> None:
    result = TaskPlanner("offline", use_embeddings=False).interpret(command, kitchen, CATALOG)
    assert result.outcome == outcome, result.message
    assert detail in (str(result.goal) if outcome == Outcome.GOAL else result.message)


def test_a_question_is_answered_by_the_next_command(kitchen: SceneGraph) -> None:
    planner = TaskPlanner("offline", use_embeddings=False)
    question = planner.interpret("put the cup on the dining table", kitchen, CATALOG)
    assert question.outcome == Outcome.CLARIFY and set(question.candidates) == {"red_cup", "blue_cup"}
    for answer, chosen in (("the blue one", "blue_cup"), ("the first one", "red_cup"), ("red", "red_cup")):
        completed = planner.interpret(answer, kitchen, CATALOG, pending=question.pending)
        assert str(completed.goal) == f"on({chosen}, dining_table)"


class ScriptedModel(ModelClient):
    """Answers with prepared texts in order (a test double of one model)."""

    name = "scripted"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[ModelRequest] = []

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return ModelResponse(answer, "scripted", 0.0)


def test_llm_goal_backend_retries_with_the_errors_and_falls_back(kitchen: SceneGraph) -> None:
    model = ScriptedModel(
        json.dumps({"outcome": "goal", "stages": [["on(red_cup, fridge)"]]}),
        json.dumps({"outcome": "goal", "stages": [["on(red_cup, dining_table)"]]}),
    )
    result = TaskPlanner("llm_goal", model).interpret("bring the red cup to the dining table", kitchen, CATALOG)
    assert str(result.goal) == "on(red_cup, dining_table)"
    assert "fridge are not ids of the scene" in model.requests[1].messages[-1].content
    data = model.requests[0].messages[1].content
    assert "DATA:" in data and "red_cup" in data
    down = TaskPlanner("llm_goal", ScriptedModel(ModelUnavailable("server down")), use_embeddings=False)
    fallback = down.interpret("go to the counter", kitchen, CATALOG)
    assert str(fallback.goal) == "at(robot, counter)" and "used offline" in fallback.notes[0]
    # Safety is checked before any model sees the command.
    unsafe = ScriptedModel()
    assert TaskPlanner("llm", unsafe).interpret("leave the building", kitchen, CATALOG).outcome == Outcome.REFUSE
    assert unsafe.requests == []


def test_llm_plan_backend_plans_are_validated(kitchen: SceneGraph) -> None:
    plan = [{"skill": "PICK", "arguments": {"object": "red_cup"}}]
    model = ScriptedModel(json.dumps({"outcome": "plan", "plan": plan}))
    planner = TaskPlanner("llm", model)
    result = planner.interpret("pick up the red cup", kitchen, CATALOG)
    world, state = initial_state(kitchen)
    planned = planner.plan(result, ACTIONS, world, state)
    assert [s.skill for s in planned.steps] == ["GOTO", "PICK"]


def test_llm_plan_backend_gets_the_validators_errors_back(kitchen: SceneGraph) -> None:
    place_only = [{"skill": "PLACE", "arguments": {"object": "red_cup", "target": "dining_table"}}]
    fixed = [
        {"skill": "PICK", "arguments": {"object": "red_cup"}},
        {"skill": "PLACE", "arguments": {"object": "red_cup", "target": "dining_table"}},
    ]
    model = ScriptedModel(*(json.dumps({"outcome": "plan", "plan": p}) for p in (place_only, fixed)))
    planner = TaskPlanner("llm", model)
    result = planner.interpret("put the red cup on the dining table", kitchen, CATALOG)
    feedback = model.requests[1].messages[-1].content
    assert "plan does not validate" in feedback and "holding(red_cup)" in feedback, feedback
    world, state = initial_state(kitchen)
    assert [s.skill for s in planner.plan(result, ACTIONS, world, state).steps] == ["GOTO", "PICK", "GOTO", "PLACE"]
    # Three answers that never validate: the offline parser takes over and says so.
    stubborn = ScriptedModel(*(json.dumps({"outcome": "plan", "plan": place_only}) for _ in range(3)))
    fallback = TaskPlanner("llm", stubborn, use_embeddings=False).interpret(
        "put the red cup on the dining table", kitchen, CATALOG
    )
    assert len(stubborn.requests) == 3 and "used offline" in fallback.notes[0]
    assert str(fallback.goal) == "on(red_cup, dining_table)"


def test_the_agent_replans_after_a_failure_and_reports(kitchen: SceneGraph) -> None:
    calls: list[str] = []
    failures = {"PICK": 1}

    def run_skill(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        calls.append(step.skill)
        if failures.get(step.skill):
            failures[step.skill] -= 1
            return SkillOutcome(int(SkillErrorCode.NO_GRASP), "slipped")
        return SkillOutcome()

    said: list[str] = []
    progress: list[Progress] = []
    agent = Agent(TaskPlanner("offline", use_embeddings=False), run_skill, lambda: kitchen, lambda: CATALOG,
                  progress.append, said.append)  # fmt: skip
    result = agent.handle("bring the red cup to the dining table", threading.Event())
    assert result.success, result.message
    assert calls == ["GOTO", "PICK", "PICK", "GOTO", "PLACE"]
    assert said[-1].startswith("Done") and progress[-1].state.name == "SUCCEEDED"
    assert any(p.state.name == "REPLANNING" for p in progress)
    failures["PICK"] = 5
    failed = agent.handle("bring the blue cup to the dining table", threading.Event())
    assert failed.error_code == TaskErrorCode.SKILL_FAILED and "slipped" in failed.message
    cancelled = threading.Event()
    cancelled.set()
    assert agent.handle("go to the sideboard", cancelled).error_code == TaskErrorCode.CANCELLED
    no_scene = Agent(TaskPlanner("offline"), run_skill, lambda: None, lambda: CATALOG, progress.append, said.append)
    assert no_scene.handle("go to the counter", threading.Event()).error_code == TaskErrorCode.PLANNING_FAILED


def test_the_agent_runs_and_describes_a_manipulation(kitchen: SceneGraph) -> None:
    steps_run: list[PlanStep] = []

    def run_skill(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        steps_run.append(step)
        return SkillOutcome()

    agent = Agent(TaskPlanner("offline", use_embeddings=False), run_skill, lambda: kitchen, lambda: CATALOG,
                  lambda _: None, lambda _: None)  # fmt: skip
    result = agent.handle("put the blue cup slowly behind the banana", threading.Event())
    assert result.success, result.message
    assert [s.skill for s in steps_run] == ["GOTO", "MANIPULATE"]
    assert "move the blue cup slowly behind the yellow banana" in result.summary
    assert agent.holding is None and agent.robot_at == "yellow_banana"


def _without(graph: SceneGraph, object_id: str) -> SceneGraph:
    """The graph as a robot that has not seen ``object_id`` yet holds it."""
    unseen = deepcopy(graph)
    del unseen.objects[object_id]
    unseen.relations = [r for r in unseen.relations if object_id not in (r.subject_id, r.object_id)]
    return unseen


def test_the_agent_searches_for_an_object_it_has_not_seen_then_plans(kitchen: SceneGraph) -> None:
    graphs = [_without(kitchen, "red_cup")]
    calls: list[tuple[str, dict[str, str]]] = []

    def run_skill(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        calls.append((step.skill, dict(step.arguments)))
        if step.skill == "FIND":
            graphs.append(kitchen)  # the search saw it
        return SkillOutcome()

    said: list[str] = []
    agent = Agent(TaskPlanner("offline", use_embeddings=False), run_skill, lambda: graphs[-1], lambda: CATALOG,
                  lambda progress: None, said.append)  # fmt: skip
    result = agent.handle("bring the red cup to the dining table", threading.Event())
    assert result.success, result.message
    assert calls[0] == ("FIND", {"object": "red cup"})
    assert [skill for skill, _ in calls[1:]] == ["GOTO", "PICK", "GOTO", "PLACE"]
    assert said[0] == "I have not seen a red cup yet; searching for it."

    # Not found anywhere: the task fails as an unknown object, with where it looked.
    graphs[:] = [_without(kitchen, "red_cup")]

    def find_nothing(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        return SkillOutcome(int(SkillErrorCode.NOT_FOUND), "no red cup found; searched counter, sideboard")

    lost = Agent(TaskPlanner("offline", use_embeddings=False), find_nothing, lambda: graphs[-1], lambda: CATALOG,
                 lambda progress: None, said.append)  # fmt: skip
    failed = lost.handle("bring the red cup to the dining table", threading.Event())
    assert failed.error_code == TaskErrorCode.UNKNOWN_OBJECT
    assert "searched counter, sideboard" in failed.message
    # Rooms and furniture come from the map: an unknown one is not searched for.
    assert lost.handle("go to the garage", threading.Event()).error_code == TaskErrorCode.UNKNOWN_OBJECT


def test_an_object_seen_gone_from_its_spot_is_searched_for_before_the_replan(kitchen: SceneGraph) -> None:
    moved = deepcopy(kitchen)
    moved.objects["red_cup"].state = ObjectState.MISSING
    graphs = [kitchen]
    calls: list[tuple[str, dict[str, str]]] = []

    def run_skill(step: PlanStep, cancel: threading.Event) -> SkillOutcome:
        calls.append((step.skill, dict(step.arguments)))
        if step.skill == "PICK" and len(graphs) == 1:
            graphs.append(moved)  # the robot arrived and saw the spot empty
            return SkillOutcome(int(SkillErrorCode.NOT_FOUND), "red_cup is no longer where it was last seen")
        if step.skill == "FIND":
            graphs.append(kitchen)
        return SkillOutcome()

    agent = Agent(TaskPlanner("offline", use_embeddings=False), run_skill, lambda: graphs[-1], lambda: CATALOG,
                  lambda progress: None, lambda text: None)  # fmt: skip
    result = agent.handle("bring the red cup to the dining table", threading.Event())
    assert result.success, result.message
    assert [skill for skill, _ in calls] == ["GOTO", "PICK", "FIND", "PICK", "GOTO", "PLACE"]  # FIND ends beside it
    assert calls[2] == ("FIND", {"object": "red_cup"})


def test_a_misread_clause_is_not_matched_by_meaning(kitchen: SceneGraph) -> None:
    """The embeddings match a name ("bedside table"), never several words that hold a determiner or
    a verb: a misread clause gets no thing, not the nearest one by meaning."""
    from planning.grounding import Embedder, Grounder

    if not Embedder.available():
        pytest.skip("the embedding model is not installed")
    grounder = Grounder(kitchen, use_embeddings=True)
    assert grounder.resolve("the dining table the plate goes").candidates == []
    assert grounder.resolve("the counter is where").candidates == []
    assert grounder.resolve("the dining table").candidates == ["dining_table"]
