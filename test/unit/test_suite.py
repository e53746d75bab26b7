"""Benchmark suites (sim/suite.py): the bundled scenarios load, and wrong files say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from robot_agent.bench import TaskOutcome, summarize
from sim.scenario import ScenarioError
from sim.suite import load_suite, load_suites, wilson_interval

SCENARIOS = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios"


def test_the_bundled_suite_has_every_kind_over_the_built_in_worlds() -> None:
    suites = load_suites([SCENARIOS])
    tasks = [task for suite in suites for task in suite.suite.tasks]
    assert len(tasks) >= 30
    kinds = {task.kind for task in tasks}
    assert kinds == {
        *("single", "multi_step", "lookalike", "moved", "hidden", "flat", "refuse", "infeasible", "reliability")
    }
    assert {suite.scenario.name for suite in suites} == {"kitchen", "apartment", "office"}
    reliability = [task.disturbance for task in tasks if task.disturbance is not None]
    assert any(d.kill_node == "perception" for d in reliability)
    assert any(d.camera_silent_s == 3.0 for d in reliability)
    assert any(d.model_unreachable for d in reliability)
    assert any(d.flood is not None and d.flood.rate_hz == 100 and d.flood.duration_s == 5 for d in reliability)
    assert any(d.malformed for d in reliability)
    assert all(
        task.expect_refusal == (task.kind in ("refuse", "infeasible") or task.expect == "not_done") for task in tasks
    )
    assert [t.id for t in tasks if t.expect == "not_done"] == ["kitchen_sponge_removed"]


def test_a_task_gets_the_world_with_its_own_events_only() -> None:
    (kitchen,) = [s for s in load_suites([SCENARIOS]) if s.name == "kitchen"]
    moved = next(t for t in kitchen.suite.tasks if t.id == "kitchen_red_cup_moved")
    world = kitchen.task_scenario(moved)
    assert [e["object"] for e in world["events"]] == ["red_cup"]
    assert world["tasks"] == []
    plain = next(t for t in kitchen.suite.tasks if t.kind == "single")
    assert kitchen.task_scenario(plain)["events"] == []


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"world": "kitchen", "tasks": []}, "tasks: List should have at least 1 item"),
        ({"world": "moon", "tasks": [{"id": "a", "command": "go", "success": ["in(robot, kitchen)"]}]}, "world:"),
        (
            {"world": "kitchen", "tasks": [{"id": "a", "command": "go", "success": ["under(robot, kitchen)"]}]},
            "under(robot, kitchen)",
        ),
        (
            {"world": "kitchen", "tasks": [{"id": "a", "command": "go", "success": ["on(unicorn, counter)"]}]},
            "names unicorn, not in the world",
        ),
        (
            {
                "world": "kitchen",
                "tasks": [
                    {
                        "id": "a",
                        "command": "go",
                        "success": ["in(robot, kitchen)"],
                        "disturbance": {"model_unreachable": True},
                    }
                ],
            },
            "a reliability task has a disturbance",
        ),
        (
            {"world": "kitchen", "tasks": [{"id": "a", "command": "go", "success": ["in(robot, kitchen)"]}] * 2},
            "task ids repeat: a",
        ),
        (
            {
                "world": "kitchen",
                "tasks": [
                    {
                        "id": "a",
                        "command": "go",
                        "success": ["in(robot, kitchen)"],
                        "events": [{"action": "move", "object": "unicorn", "to": {"on": "counter"}, "when": {"at": 1}}],
                    }
                ],
            },
            "unicorn",
        ),
    ],
)
def test_a_wrong_suite_file_is_refused_with_the_reason(tmp_path: Path, document: object, complaint: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        load_suite(_write(tmp_path, document))
    assert complaint in str(raised.value) and "suite.yaml" in str(raised.value)


def test_a_folder_without_scenarios_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_suites([tmp_path])
    with pytest.raises(ScenarioError, match="no such file or folder"):
        load_suites([tmp_path / "missing"])


def test_success_rates_come_with_an_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 0.0)
    low, high = wilson_interval(9, 10)
    assert 0.55 < low < 0.6 and 0.98 < high <= 1.0
    outcomes = [
        TaskOutcome("s", "kitchen", "a", "moved", "c", True, "", 30.0),
        TaskOutcome("s", "kitchen", "b", "moved", "c", False, "lost", 90.0),
        TaskOutcome("s", "office", "c", "single", "c", True, "", 10.0),
    ]
    by_kind = {row["kind"]: row for row in summarize(outcomes, "kind")}
    assert by_kind["moved"]["tasks"] == 2 and by_kind["moved"]["done"] == 1 and by_kind["moved"]["median_s"] == 30.0
    assert by_kind["single"]["rate"] == 1.0
