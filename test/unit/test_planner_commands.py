"""The planner benchmark's command dataset (benchmarks/planner_commands.yaml) agrees with the built-in
worlds: every condition parses, every id it names exists in its world with the right kind, and each
category's items carry what their expectation needs."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.command_generator import POOLS, dump, generate, hashed_split
from benchmarks.planner_bench import judge
from planning.grounding import Grounder
from planning.interpretation import Interpretation, Outcome
from sim.layout import layout_graph
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


# ------------------------------------------------------------------ the evaluation sets and the stricter judge
# benchmarks/generated_commands.yaml (benchmarks/command_generator.py) and benchmarks/handwritten_commands.yaml:
# the same schema and world checks, plus a split (dev | test) on every item.

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
EVALUATION_SETS = {"generated_commands.yaml": 1000, "handwritten_commands.yaml": 150}
NEW_CATEGORIES = {
    "opener": {"goal"},
    "politeness": {"goal"},
    "need": {"goal"},
    "idiom": {"goal"},
    "pronoun": {"goal"},
    "quoted_say": {"goal"},
    "contraction": {"answer"},
    "misspelling": {"goal"},
    "word_order": {"goal"},
    "number": {"goal"},
    "noise": {"goal"},
    "chain": {"goal"},
    "harm": {"refuse"},
    "damage": {"refuse"},
    "stairs": {"refuse"},
}
SET_CATEGORY_EXPECTS = {**CATEGORY_EXPECTS, **NEW_CATEGORIES}
REFUSAL_REASONS = {"unsafe": "unsafe", "harm": "unsafe", "damage": "unsafe", "infeasible": "infeasible"}
REFUSAL_REASONS["stairs"] = "infeasible"


@cache
def set_text(name: str) -> str:
    return (BENCHMARKS / name).read_text(encoding="utf-8")


@cache
def set_items(name: str) -> tuple[dict[str, Any], ...]:
    document = load_yaml(set_text(name))
    assert isinstance(document, dict) and isinstance(document.get("commands"), list), "expected {commands: [...]}"
    return tuple(document["commands"])


def all_set_items() -> list[tuple[str, dict[str, Any]]]:
    return [(name, item) for name in EVALUATION_SETS for item in set_items(name)]


@pytest.mark.parametrize("name", EVALUATION_SETS)
def test_evaluation_set_sizes_ids_and_splits(name: str) -> None:
    assert yaml.safe_load(set_text(name)) == load_yaml(set_text(name)), "no value may read differently in YAML 1.1"
    found = set_items(name)
    assert len(found) >= EVALUATION_SETS[name]
    counts = Counter(item_id(item) for item in found)
    assert not [i for i, n in counts.items() if n > 1], "ids used twice"
    splits = Counter(item.get("split") for item in found)
    assert set(splits) == {"dev", "test"}, f"splits: {dict(splits)}"
    assert all(splits[s] >= len(found) // 4 for s in ("dev", "test")), f"splits: {dict(splits)}"
    assert {item["world"] for item in found} == set(WORLDS)


def test_evaluation_set_ids_do_not_collide() -> None:
    ids = [item_id(item) for _, item in all_set_items()] + [item_id(item) for item in items()]
    assert len(ids) == len(set(ids)), "an id is used in two files: the benchmark reads them together"


def test_handwritten_split_is_the_hash_of_the_id() -> None:
    for item in set_items("handwritten_commands.yaml"):
        digest = hashlib.sha256(item_id(item).encode()).digest()[0]
        assert item["split"] == ("dev", "test")[digest % 2], item_id(item)


@pytest.mark.parametrize(("name", "item"), all_set_items(), ids=lambda v: v if isinstance(v, str) else item_id(v))
def test_evaluation_set_item(name: str, item: dict[str, Any]) -> None:
    assert ITEM_ID.match(item_id(item)), f"id {item.get('id')!r} must be [a-z0-9_]"
    assert item.get("world") in WORLDS
    category = item.get("category")
    assert category in SET_CATEGORY_EXPECTS, f"unknown category {category!r}"
    expect = item.get("expect")
    assert expect in EXPECT_KEYS and expect in SET_CATEGORY_EXPECTS[category], (
        f"{category} items do not expect {expect}"
    )
    assert item.get("split") in {"dev", "test"}
    assert isinstance(item.get("command"), str) and "repeat" not in item
    allowed, required = EXPECT_KEYS[expect]
    extra = set(item) - COMMON_KEYS - {"command", "split", "kinds"} - allowed
    assert not extra, f"keys that expect: {expect} does not use: {sorted(extra)}"
    assert required <= set(item), f"expect: {expect} needs {sorted(required - set(item))}"
    if name == "generated_commands.yaml":
        kinds = item.get("kinds")
        assert isinstance(kinds, list) and kinds and kinds[0] == category, "kinds start with the category's kind"
    place = world(item["world"])
    for key, stages in stage_lists(item):
        for condition in check_conditions(stages, place, f"{item_id(item)}.{key}"):
            if condition.name == "said":
                said = condition.arguments[0]
                assert WORD.search(said) and said == said.lower(), f"said({said}): lower-case words"
    for key in ("candidates", "mentions", "known_similar"):
        value = item.get(key, [])
        assert isinstance(value, list), f"{key} is a list"
        for identifier in value:
            assert identifier in place.kinds, f"{item_id(item)}.{key}: {identifier!r} is not in {item['world']}"
    if expect == "goal" and category in {"multi_step", "chain", "pronoun"} and "then" in command_text(item):
        assert len(item["stages"]) > 1, "a chain has several stages"
    if expect == "clarify":
        candidates = item["candidates"]
        assert len(set(candidates)) == len(candidates) >= 2
        kinds = {place.kinds[c] for c in candidates}
        assert len(kinds) == 1, f"candidates of one kind: {candidates}"
    if expect == "refuse":
        assert item["reason"] in {"unsafe", "infeasible"}
        if category in REFUSAL_REASONS:
            assert item["reason"] == REFUSAL_REASONS[category]
    if expect == "unknown_object":
        terms = item["unknown_terms"]
        assert isinstance(terms, list) and terms
        for term in terms:
            assert words(term) <= words(command_text(item)), f"{term!r} is not in the command"
            assert not words(term) & place.vocabulary(), f"{term!r} names something of {item['world']}"
    if expect == "answer":
        assert item["mentions"], "an answer must name something"


def test_the_worlds_have_no_stairs() -> None:
    """Stairs items expect infeasible: no world may have stairs or an upper floor."""
    for name in WORLDS:
        text = (Path(__file__).resolve().parents[2] / "sim" / "worlds" / f"{name}.yaml").read_text(encoding="utf-8")
        assert not re.search(r"stair|upstairs|second floor|upper floor", text.lower()), name


def test_generator_is_deterministic_and_matches_the_committed_file() -> None:
    first = dump(generate())
    assert first == dump(generate())
    assert first == set_text("generated_commands.yaml"), "regenerate: python -m benchmarks.command_generator"


def test_generator_split_of_variants() -> None:
    for pool in POOLS:
        if len(pool.variants) < 4:
            continue
        assert all(pool.split_of(v) == "dev" for v in pool.seen), f"{pool.kind}: a seen variant is not dev"
        unseen = [v for v in pool.variants if v not in pool.seen]
        assert all(pool.split_of(v) == hashed_split(pool.kind, v) for v in unseen)
        assert pool.of("test"), f"{pool.kind}: no test variant"
        assert not set(pool.of("test")) & set(pool.of("dev")), f"{pool.kind}: a variant in both splits"


# --- the judge


def test_judge_unknown_object_names_the_terms_and_offers_the_similar() -> None:
    item = {"expect": "unknown_object", "unknown_terms": ["teddy bear"], "known_similar": ["yellow_ball"]}
    good = Interpretation(Outcome.UNKNOWN_OBJECT, "I do not know of any teddy bear here.", candidates=["yellow_ball"])
    assert judge(item, good) == (True, "")
    unnamed = Interpretation(Outcome.UNKNOWN_OBJECT, "I do not know of any bear here.", candidates=["yellow_ball"])
    assert not judge(item, unnamed)[0]
    unoffered = Interpretation(Outcome.UNKNOWN_OBJECT, "I do not know of any teddy bear here.", candidates=["red_cup"])
    assert not judge(item, unoffered)[0]
    assert judge({**item, "known_similar": []}, unoffered)[0]


def test_judge_answers_name_the_mentions_and_not_everything() -> None:
    graph = layout_graph(load_scenario("kitchen"))
    where = {"expect": "answer", "mentions": ["sideboard"]}
    assert judge(
        where, Interpretation(Outcome.ANSWER, "The black mug on the sideboard.", candidates=["black_mug"]), graph
    )[0]
    assert not judge(where, Interpretation(Outcome.ANSWER, "The black mug.", candidates=["black_mug"]), graph)[0]
    everything = "The red cup on the counter. The blue cup on the counter. The yellow banana on the counter."
    listing = Interpretation(Outcome.ANSWER, everything + " The black mug on the sideboard.", candidates=["black_mug"])
    assert not judge(where, listing, graph)[0], "naming everything is no answer"
    unknown = "I do not know of any mug here. What I know: the black mug on the sideboard."
    assert not judge(where, Interpretation(Outcome.ANSWER, unknown, candidates=["black_mug"]), graph)[0]
    table = {"expect": "answer", "mentions": ["red_apple", "orange", "red_bowl"]}
    said = "On the kitchen table: the red apple, the orange orange, the red bowl."
    assert judge(table, Interpretation(Outcome.ANSWER, said, candidates=["red_apple", "orange", "red_bowl"]), graph)[0]
    apartment = layout_graph(load_scenario("apartment"))
    counter = {"expect": "answer", "mentions": ["kitchen_counter"]}
    assert judge(
        counter, Interpretation(Outcome.ANSWER, "The green cup on the counter.", candidates=["green_cup"]), apartment
    )[0]


def test_judge_questions_must_tell_the_candidates_apart() -> None:
    graph = layout_graph(load_scenario("office"))
    item = {"expect": "clarify", "candidates": ["desk_a", "desk_b"]}
    same = Interpretation(
        Outcome.CLARIFY, "Which desk do you mean: the desk or the desk?", candidates=["desk_a", "desk_b"]
    )
    assert not judge(item, same, graph)[0]
    unlisted = Interpretation(Outcome.CLARIFY, "Which desk do you mean?", candidates=["desk_a", "desk_b"])
    assert not judge(item, unlisted, graph)[0]
    question = Grounder(graph, use_embeddings=False).which_question(["desk_a", "desk_b"], "desk")
    assert judge(item, Interpretation(Outcome.CLARIFY, question, candidates=["desk_a", "desk_b"]), graph)[0]
    alike = "Which one do you mean: the red thing on the desk or the red thing on the desk?"
    red = {"expect": "clarify", "candidates": ["red_mug", "red_stapler"]}
    assert not judge(red, Interpretation(Outcome.CLARIFY, alike, candidates=["red_mug", "red_stapler"]), graph)[0]
    apart = "Which one do you mean: the red mug on the desk or the red stapler on the desk?"
    assert judge(red, Interpretation(Outcome.CLARIFY, apart, candidates=["red_mug", "red_stapler"]), graph)[0]


def test_judge_refusals_need_their_kind_and_never_take_invalid() -> None:
    item = {"expect": "refuse", "reason": "unsafe"}
    assert judge(item, Interpretation(Outcome.REFUSE, "I will not hurt anyone.", refusal_kind="unsafe"))[0]
    assert not judge(item, Interpretation(Outcome.REFUSE, "I cannot.", refusal_kind="infeasible"))[0]
    assert not judge(item, Interpretation(Outcome.INVALID, "I did not understand 'hit Sam with the box'."))[0]
    assert not judge(item, Interpretation(Outcome.INVALID, "", refusal_kind="unsafe"))[0]
    stairs = {"expect": "refuse", "reason": "infeasible"}
    assert not judge(stairs, Interpretation(Outcome.INVALID, "I did not understand 'go upstairs'."))[0]


def test_judge_takes_holding_on_the_way_as_part_of_bringing() -> None:
    from benchmarks.planner_bench import same_goal
    from planning.goals import Goal

    two_steps = Goal.parse([["holding(red_cup)"], ["on(red_cup, dining_table)"]])
    assert same_goal(two_steps, [["on(red_cup, dining_table)"]])
    assert same_goal(Goal.parse([["on(red_cup, dining_table)"]]), [["holding(red_cup)"], ["on(red_cup, dining_table)"]])
    assert not same_goal(two_steps, [["on(blue_cup, dining_table)"]])
    held_only = Goal.parse([["holding(red_cup)"], ["at(robot, dining_table)"]])
    assert not same_goal(held_only, [["at(robot, dining_table)"]]), "holding it while driving there is a goal"
