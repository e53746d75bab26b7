"""Scenario files: the built-in worlds, and errors that name the file, the key and what is wrong."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.scenario import (
    OnFurniture,
    ScenarioError,
    builtin_worlds,
    load_scenario,
    load_yaml,
    parse_condition,
    parse_scenario,
)

MINIMAL: dict[str, Any] = {
    "name": "minimal",
    "rooms": [{"id": "kitchen", "min": [0, 0], "max": [4, 4]}],
    "furniture": [{"id": "table", "room": "kitchen", "pose": [2, 2, 0], "size": [1.0, 0.6, 0.75]}],
    "objects": [
        {
            "id": "red_cup",
            "label": "cup",
            "color": "red",
            "shape": "cylinder",
            "size": [0.08, 0.08, 0.1],
            "place": {"on": "table"},
        },
    ],
    "robot": {"pose": [1, 1, 0]},
}


def with_changes(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def test_builtin_worlds_have_rooms_objects_lookalikes_and_tasks() -> None:
    assert {"kitchen", "apartment", "office"} <= set(builtin_worlds())
    for name in builtin_worlds():
        scenario = load_scenario(name)
        assert len(scenario.objects) >= 10, name
        assert len(scenario.rooms) >= 2, name
        labels = [o.label for o in scenario.objects]
        assert any(labels.count(label) >= 2 for label in labels), f"{name} has no same-label look-alikes"
        colours = [o.color for o in scenario.objects]
        same_colour_other_kind = any(
            a.color == b.color and a.label != b.label for a in scenario.objects for b in scenario.objects
        )
        assert same_colour_other_kind and len(set(map(str, colours))) > 3, name
        # A task needs driving between rooms: its object starts in another room than its target.
        start_room = scenario.room_at(*scenario.robot.pose[:2])
        assert start_room is not None
        assert any(
            parse_condition(c)[1] == "in" and parse_condition(c)[2][1] != start_room.id
            for task in scenario.tasks
            for c in task.success
        ), name


def test_yaml_key_on_stays_a_string(tmp_path: Path) -> None:
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(MINIMAL).replace("'on'", "on"))
    scenario = load_scenario(path)
    assert isinstance(scenario.objects[0].place, OnFurniture)


@pytest.mark.parametrize(
    ("path", "value", "key", "complaint"),
    [
        (("rooms", 0, "max"), [0.5, 4], "rooms[0]", "must exceed min"),
        (("objects", 0, "color"), "mauve", "objects[0].color", "unknown colour 'mauve'"),
        (("objects", 0, "size"), [0.08, -0.1, 0.1], "objects[0].size[1]", "greater than 0"),
        (("objects", 0, "place"), {"on": "sofa"}, "objects[0].place.on", "unknown furniture 'sofa'"),
        (("objects", 0, "place"), {"on": "table", "at": [3, 0]}, "objects[0].place.at", "lies off table"),
        (("objects", 0, "shape"), "cone", "objects[0].shape", "'box', 'cylinder' or 'sphere'"),
        (("objects", 0, "mass"), "heavy", "objects[0].mass", "valid number"),
        (("furniture", 0, "room"), "attic", "furniture[0].room", "unknown room 'attic'"),
        (("furniture", 0, "pose"), [9, 9, 0], "furniture[0].pose", "outside kitchen"),
        (("robot", "pose"), [9, 9, 0], "robot.pose", "not inside a room"),
        (("robot", "speed"), 3, "robot.speed", "Extra inputs"),
        (("objects", 0, "id"), "Red Cup", "objects[0].id", "is not an id"),
        (("camera",), {"min_depth": 5, "max_depth": 1}, "camera", "must be below max_depth"),
        (
            ("events",),
            [{"action": "move", "object": "ghost", "to": {"on": "table"}, "when": {"at": 1}}],
            "events[0].object",
            "unknown object 'ghost'",
        ),
        (
            ("events",),
            [{"action": "remove", "object": "red_cup", "when": {"sunset": 1}}],
            "events[0].remove.when",
            "a trigger is one of",
        ),
        (
            ("events",),
            [{"action": "teleport", "object": "red_cup", "when": {"at": 1}}],
            "events[0]",
            "'move', 'remove', 'add'",
        ),
        (
            ("tasks",),
            [{"id": "t", "command": "x", "success": ["under(red_cup, table)"]}],
            "tasks[0].success",
            "is not one of on(x, y)",
        ),
        (
            ("tasks",),
            [{"id": "t", "command": "x", "success": ["on(red_cup, sofa)"]}],
            "tasks[0].success[0]",
            "unknown 'sofa'",
        ),
    ],
)
def test_invalid_scenario_names_file_key_and_problem(
    tmp_path: Path, path: tuple[str | int, ...], value: Any, key: str, complaint: str
) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(with_changes(path, value)))
    with pytest.raises(ScenarioError) as error:
        load_scenario(file)
    message = str(error.value)
    assert f"{file}: {key}" in message, message
    assert complaint in message, message


def test_unreadable_files_and_unknown_worlds(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("rooms: [")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")
    with pytest.raises(ScenarioError, match="no built-in world 'castle'; built-in: apartment"):
        load_scenario("castle")
    with pytest.raises(ScenarioError, match="a scenario must be a mapping"):
        parse_scenario(["rooms"], "list.yaml")


def test_duplicate_ids_are_refused() -> None:
    document = copy.deepcopy(MINIMAL)
    document["objects"].append(copy.deepcopy(document["objects"][0]))
    with pytest.raises(ScenarioError, match="'red_cup' is used twice"):
        parse_scenario(document)


def test_conditions_parse() -> None:
    assert parse_condition("on(red_cup, table)") == (False, "on", ("red_cup", "table"))
    assert parse_condition(" not holding(red_cup) ") == (True, "holding", ("red_cup",))
    with pytest.raises(ValueError, match="takes 2"):
        parse_condition("on(red_cup)")


def test_the_documented_example_is_valid() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = parse_scenario(load_yaml(example), "docs/scenarios.md")
    assert [e.action for e in scenario.events] == ["move", "remove", "move", "add"]
    assert scenario.tasks[0].success == ["on(red_cup, shelf)", "not holding(red_cup)"]
