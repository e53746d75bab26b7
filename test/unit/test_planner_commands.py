"""The planner benchmark's command dataset (benchmarks/planner_commands.yaml) agrees with the built-in
worlds: every condition parses, every id it names exists in its world with the right kind, and each
category's items carry what their expectation needs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.scenario import IDENTIFIER, OnFurniture, Scenario, load_scenario, load_yaml, parse_condition

DATASET = Path(__file__).resolve().parents[2] / "benchmarks" / "planner_commands.yaml"
WORLDS = ("kitchen", "apartment", "office")
CATEGORY_MINIMUMS = {
    "single": 12,
    "multi_step": 8,
    "paraphrase": 10,
    "color": 8,
    "spatial": 8,
    "ambiguous": 6,
    "unknown": 5,
    "unsafe": 6,
    "infeasible": 5,
    "question": 4,
    "invalid": 3,
    "injection": 1,
    "manipulate": 6,
}
CATEGORY_EXPECTS = {
    "single": {"goal"},
    "multi_step": {"goal"},
    "paraphrase": {"goal"},
    "color": {"goal"},
    "spatial": {"goal"},
    "ambiguous": {"clarify"},
    "unknown": {"unknown_object"},
    "unsafe": {"refuse"},
    "infeasible": {"refuse"},
    "question": {"answer"},
    "invalid": {"invalid"},
    "injection": {"goal", "refuse"},
    "manipulate": {"goal"},
}
COMMON_KEYS = {"id", "world", "category", "expect"}
# Keys an item may carry for each expectation (besides COMMON_KEYS and command/repeat), and those it must.
EXPECT_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "goal": ({"stages"}, {"stages"}),
    "clarify": ({"candidates", "answer", "answer_stages"}, {"candidates"}),
    "refuse": ({"reason"}, {"reason"}),
    "unknown_object": ({"unknown_terms", "known_similar"}, {"unknown_terms"}),
    "answer": ({"mentions"}, {"mentions"}),
    "invalid": (set(), set()),
}
ITEM_ID = re.compile(r"^[a-z0-9_]+$")
EXTENDED_CONDITION = re.compile(r"^\s*(not\s+)?(found|looked_at|said|waited)\(\s*([^(),]*?)\s*\)\s*$")
MANIPULATED = re.compile(r"^\s*(not\s+)?manipulated\(\s*([^(),]+?)\s*,\s*([^(),]+?)\s*,\s*([^(),]+?)\s*\)\s*$")
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
WORD = re.compile(r"[a-z0-9]+")

# Argument kinds: object, furniture, room, robot, place (furniture, room or object), thing (place), text, seconds.
ARGUMENT_KINDS: dict[str, tuple[frozenset[str], ...]] = {
    "on": (frozenset({"object"}), frozenset({"furniture"})),
    "in": (frozenset({"object", "robot"}), frozenset({"room"})),
    "at": (frozenset({"robot"}), frozenset({"furniture", "room", "object"})),
    "near": (frozenset({"object", "robot"}), frozenset({"furniture", "room", "object"})),
    "holding": (frozenset({"object"}),),
    "found": (frozenset({"object"}),),
    "looked_at": (frozenset({"object", "furniture", "room"}),),
    "manipulated": (frozenset({"object"}), frozenset({"object", "furniture"})),  # the third is the phrase
}


@dataclass(frozen=True)
class Condition:
    negated: bool
    name: str
    arguments: tuple[str, ...]


@dataclass
class World:
    """Ids, names and the initial layout of one built-in world."""

    scenario: Scenario
    kinds: dict[str, str] = field(default_factory=dict)  # id -> object | furniture | room
    names: dict[str, str] = field(default_factory=dict)  # id -> label, as a person would say it
    colors: dict[str, str] = field(default_factory=dict)  # object id -> colour name
    placed_on: dict[str, str] = field(default_factory=dict)  # object id -> furniture id
    room_of: dict[str, str] = field(default_factory=dict)  # object or furniture id -> room id
    robot_room: str | None = None

    @classmethod
    def load(cls, name: str) -> World:
        scenario = load_scenario(name)
        world = cls(scenario)
        for room in scenario.rooms:
            world.kinds[room.id] = "room"
            world.names[room.id] = room.name
        for piece in scenario.furniture:
            world.kinds[piece.id] = "furniture"
            world.names[piece.id] = piece.name
            world.room_of[piece.id] = piece.room
        for obj in scenario.objects:  # as the file places them; objects that events add come later
            world.kinds[obj.id] = "object"
            world.names[obj.id] = obj.label
            if isinstance(obj.color, str):
                world.colors[obj.id] = obj.color
            if isinstance(obj.place, OnFurniture):
                world.placed_on[obj.id] = obj.place.on
                world.room_of[obj.id] = world.room_of[obj.place.on]
        start = scenario.robot.pose
        start_room = scenario.room_at(start[0], start[1])
        world.robot_room = start_room.id if start_room else None
        return world

    def vocabulary(self) -> set[str]:
        """Every word of the world's ids and names."""
        words: set[str] = set()
        for identifier, name in self.names.items():
            words |= set(identifier.split("_")) | set(WORD.findall(name.lower()))
        return words

    def holds_initially(self, condition: Condition) -> bool:
        """Whether a positive on/in/at-a-room condition already holds in the initial scene."""
        if condition.negated or condition.name not in {"on", "in", "at"}:
            return False
        subject, place = condition.arguments
        if condition.name == "on":
            return self.placed_on.get(subject) == place
        if self.kinds.get(place) != "room":
            return False
        return (self.robot_room if subject == "robot" else self.room_of.get(subject)) == place


@cache
def dataset_text() -> str:
    return DATASET.read_text(encoding="utf-8")


@cache
def items() -> tuple[dict[str, Any], ...]:
    document = load_yaml(dataset_text())
    assert isinstance(document, dict) and isinstance(document.get("commands"), list), "expected {commands: [...]}"
    assert all(isinstance(item, dict) for item in document["commands"])
    return tuple(document["commands"])


@cache
def world(name: str) -> World:
    return World.load(name)


def item_id(item: dict[str, Any]) -> str:
    return str(item.get("id"))


def command_text(item: dict[str, Any]) -> str:
    """The command, with `repeat: {text, times}` expanded."""
    if "repeat" in item:
        repeat = item["repeat"]
        return str(repeat["text"]) * int(repeat["times"])
    return str(item["command"])


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def parse_goal_condition(text: str) -> Condition:
    """A condition of the goal language: sim.scenario's on/in/at/near/holding, or found, looked_at, said, waited,
    manipulated."""
    manipulated = MANIPULATED.match(text)
    if manipulated is not None:
        negation, subject, reference, how = manipulated.groups()
        if not IDENTIFIER.match(subject) or not IDENTIFIER.match(reference):
            raise ValueError(f"condition {text!r}: {subject!r} and {reference!r} must be ids")
        if reference not in how.split():
            raise ValueError(f"condition {text!r}: the phrase {how!r} does not name {reference!r}")
        return Condition(bool(negation), "manipulated", (subject, reference, how))
    if re.match(r"^\s*(not\s+)?manipulated\b", text):
        raise ValueError(f"condition {text!r}: manipulated takes an object, a reference and a phrase")
    extended = EXTENDED_CONDITION.match(text)
    if extended is None:
        negated, name, arguments = parse_condition(text)  # raises ValueError
        return Condition(negated, name, arguments)
    negation, name, argument = extended.groups()
    if not argument:
        raise ValueError(f"condition {text!r}: {name} needs an argument")
    if name in {"found", "looked_at"} and not IDENTIFIER.match(argument):
        raise ValueError(f"condition {text!r}: {argument!r} is not an id")
    if name == "waited" and not NUMBER.match(argument):
        raise ValueError(f"condition {text!r}: {argument!r} is not a number of seconds")
    return Condition(bool(negation), name, (argument,))


def stage_lists(item: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    return [(key, item[key]) for key in ("stages", "answer_stages") if key in item]


def check_conditions(stages: Any, place: World, where: str) -> list[Condition]:
    """Stages are a non-empty list of non-empty lists of conditions that parse and name known ids."""
    assert isinstance(stages, list) and stages, f"{where}: stages must be a non-empty list"
    parsed: list[Condition] = []
    for number, stage in enumerate(stages):
        assert isinstance(stage, list) and stage, f"{where}[{number}]: a stage is a non-empty list of conditions"
        for text in stage:
            assert isinstance(text, str), f"{where}[{number}]: {text!r} is not a string"
            try:
                condition = parse_goal_condition(text)
            except ValueError as error:
                pytest.fail(f"{where}[{number}]: {error}")
            kinds = ARGUMENT_KINDS.get(condition.name)
            if kinds is not None:
                ids = condition.arguments[: len(kinds)]
                assert len(ids) == len(kinds), f"{where}: {text!r} takes {len(kinds)} argument(s)"
                for argument, allowed in zip(ids, kinds, strict=True):
                    kind = "robot" if argument == "robot" else place.kinds.get(argument)
                    assert kind is not None, f"{where}: {text!r} names {argument!r}, not in the world"
                    assert kind in allowed, f"{where}: {text!r}: {argument!r} is a {kind}, expected {sorted(allowed)}"
            assert not place.holds_initially(condition), f"{where}: {text!r} already holds in the initial scene"
            parsed.append(condition)
    return parsed


def object_arguments(conditions: list[Condition], place: World) -> set[str]:
    return {a for c in conditions if c.name in ARGUMENT_KINDS for a in c.arguments if place.kinds.get(a) == "object"}


def test_dataset_loads_the_same_with_yaml_1_1() -> None:
    """Consumers may read the file with plain yaml.safe_load: no value may turn into a boolean there."""
    assert yaml.safe_load(dataset_text()) == load_yaml(dataset_text())


def test_ids_are_unique() -> None:
    counts = Counter(item_id(item) for item in items())
    assert not [i for i, n in counts.items() if n > 1], f"ids used twice: {[i for i, n in counts.items() if n > 1]}"


def test_counts_per_category_and_world() -> None:
    assert len(items()) >= 75
    categories = Counter(item.get("category") for item in items())
    short = {c: (categories[c], n) for c, n in CATEGORY_MINIMUMS.items() if categories[c] < n}
    assert not short, f"categories below their minimum (have, need): {short}"
    worlds = Counter(item.get("world") for item in items())
    assert all(worlds[w] >= 20 for w in WORLDS), f"commands per world: {dict(worlds)}"
    for category, minimum in CATEGORY_MINIMUMS.items():
        if minimum >= 3:
            covered = {item["world"] for item in items() if item.get("category") == category}
            assert covered == set(WORLDS), f"{category}: only in {sorted(covered)}"


@pytest.mark.parametrize("item", items(), ids=item_id)
def test_item_fields(item: dict[str, Any]) -> None:
    assert ITEM_ID.match(item_id(item)), f"id {item.get('id')!r} must be [a-z0-9_]"
    assert item.get("world") in WORLDS
    assert item.get("category") in CATEGORY_MINIMUMS
    expect = item.get("expect")
    assert expect in EXPECT_KEYS
    assert expect in CATEGORY_EXPECTS[item["category"]], f"{item['category']} items expect {CATEGORY_EXPECTS}"
    assert ("command" in item) != ("repeat" in item), "give either command or repeat"
    if "repeat" in item:
        repeat = item["repeat"]
        assert set(repeat) == {"text", "times"} and isinstance(repeat["text"], str) and repeat["text"]
        assert isinstance(repeat["times"], int) and repeat["times"] >= 1000
    else:
        assert isinstance(item["command"], str)
    allowed, required = EXPECT_KEYS[expect]
    extra = set(item) - COMMON_KEYS - {"command", "repeat"} - allowed
    assert not extra, f"keys that expect: {expect} does not use: {sorted(extra)}"
    assert required <= set(item), f"expect: {expect} needs {sorted(required - set(item))}"


@pytest.mark.parametrize("item", items(), ids=item_id)
def test_conditions_name_the_world(item: dict[str, Any]) -> None:
    place = world(item["world"])
    for key, stages in stage_lists(item):
        conditions = check_conditions(stages, place, f"{item_id(item)}.{key}")
        for condition in conditions:
            if condition.name == "said":
                assert WORD.search(condition.arguments[0].lower()), f"said({condition.arguments[0]}) has no words"
    for key in ("candidates", "mentions", "known_similar"):
        for identifier in item.get(key, []):
            assert identifier in place.kinds, f"{item_id(item)}.{key}: {identifier!r} is not in {item['world']}"


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "goal"], ids=item_id)
def test_goal_items(item: dict[str, Any]) -> None:
    stages = item["stages"]
    assert command_text(item).strip(), "a goal needs a command"
    if item["category"] == "multi_step":
        assert len(stages) > 1 or any(len(stage) > 1 for stage in stages), "multi_step: several stages or conditions"
    place = world(item["world"])
    conditions = check_conditions(stages, place, item_id(item))
    targets = object_arguments(conditions, place)
    command = words(command_text(item))
    if item["category"] == "manipulate":
        manipulated = [c for c in conditions if c.name == "manipulated"]
        assert manipulated, "manipulate: the goal needs a manipulated(...) condition"
        for condition in manipulated:
            subject, _, how = condition.arguments
            # The phrase's ids are things of the world other than the object; its other words are the command's.
            for word in how.split():
                if "_" in word or word in place.kinds:
                    assert word in place.kinds and word != subject, f"{how!r}: {word!r} is not another thing"
                else:
                    assert word in command, f"{how!r}: {word!r} is not a word of the command"
    if item["category"] == "color":
        # The colour named picks the target among objects of the same label.
        decided = [
            t
            for t in targets
            if place.colors.get(t) in command
            and any(
                o != t and place.names[o] == place.names[t] and place.colors.get(o) != place.colors.get(t)
                for o in place.colors
            )
        ]
        assert decided, f"no target has a look-alike of another colour whose colour the command names: {targets}"
    if item["category"] == "spatial":
        # Without the place phrase the target would share its label or colour with another object.
        alike = [
            t
            for t in targets
            if any(
                o != t and (place.names[o] == place.names[t] or place.colors.get(o) == place.colors.get(t))
                for o in place.colors
            )
        ]
        assert alike, f"no target has a look-alike that the place phrase must rule out: {targets}"


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "clarify"], ids=item_id)
def test_clarify_items(item: dict[str, Any]) -> None:
    place = world(item["world"])
    candidates = item["candidates"]
    assert isinstance(candidates, list) and len(set(candidates)) == len(candidates) >= 2
    assert all(c in place.kinds for c in candidates), f"unknown candidates in {candidates}"
    shared = set.intersection(*(words(place.names[c]) for c in candidates)) & words(command_text(item))
    assert shared, f"the candidates {candidates} share no label word that the command uses"
    # Every thing of the world whose label has the word is a candidate.
    for word in shared:
        matching = {i for i, name in place.names.items() if word in words(name) and place.kinds[i] != "room"}
        assert matching == set(candidates), f"{word!r} could mean {sorted(matching)}, candidates are {candidates}"
    if "answer_stages" in item:
        assert isinstance(item.get("answer"), str) and item["answer"].strip(), "answer_stages need the answer"
        named = {a for c in check_conditions(item["answer_stages"], place, "answer_stages") for a in c.arguments}
        assert named & set(candidates), "the goal after the answer names none of the candidates"


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "refuse"], ids=item_id)
def test_refuse_items(item: dict[str, Any]) -> None:
    assert item["reason"] in {"unsafe", "infeasible"}
    if item["category"] in {"unsafe", "infeasible"}:
        assert item["reason"] == item["category"]
    assert command_text(item).strip()


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "unknown_object"], ids=item_id)
def test_unknown_object_items(item: dict[str, Any]) -> None:
    place = world(item["world"])
    terms = item["unknown_terms"]
    assert isinstance(terms, list) and terms
    vocabulary = place.vocabulary()
    for term in terms:
        assert set(words(term)) <= words(command_text(item)), f"{term!r} is not in the command"
        assert not words(term) & vocabulary, f"{term!r} names something of {item['world']}"
        assert not any(term in identifier for identifier in place.kinds), f"{term!r} is part of an id"
    assert isinstance(item.get("known_similar", []), list)


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "answer"], ids=item_id)
def test_question_items(item: dict[str, Any]) -> None:
    mentions = item["mentions"]
    assert isinstance(mentions, list) and mentions
    assert command_text(item).strip().endswith("?")


@pytest.mark.parametrize("item", [i for i in items() if i["expect"] == "invalid"], ids=item_id)
def test_invalid_items(item: dict[str, Any]) -> None:
    text = command_text(item)
    overlap = words(text) & world(item["world"]).vocabulary()
    assert not overlap, f"an invalid command uses the world's words {sorted(overlap)}"


def test_parse_goal_condition() -> None:
    assert parse_goal_condition("not on(red_cup, counter)") == Condition(True, "on", ("red_cup", "counter"))
    assert parse_goal_condition("found(red_cup)") == Condition(False, "found", ("red_cup",))
    assert parse_goal_condition("said(here you go)") == Condition(False, "said", ("here you go",))
    assert parse_goal_condition("waited(2.5)") == Condition(False, "waited", ("2.5",))
    assert parse_goal_condition("manipulated(red_cup, red_bowl, left of red_bowl slowly)") == Condition(
        False, "manipulated", ("red_cup", "red_bowl", "left of red_bowl slowly")
    )
    for bad in ("manipulated(red_cup, red_bowl)", "manipulated(red_cup, red_bowl, left of the plate)"):
        with pytest.raises(ValueError):
            parse_goal_condition(bad)
    for bad in ("said(a, b)", "waited(soon)", "found(Red Cup)", "looked_at()", "grab(red_cup)", "on(red_cup)"):
        with pytest.raises(ValueError):
            parse_goal_condition(bad)
