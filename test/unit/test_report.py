"""The report folder of a task run (make demo, benchmarks): README, frames, maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from perception.scene_graph import ObjectState
from planning.plan import PlanStep, StepStatus, TaskErrorCode
from robot_agent.report import Frame, StepRecord, TrialResult, write_report
from sim.layout import layout_graph
from sim.scenario import load_scenario


def test_the_report_shows_results_plans_frames_and_maps(tmp_path: Path) -> None:
    scenario = load_scenario("kitchen")
    truth = layout_graph(scenario)
    belief = layout_graph(scenario)
    belief.objects["blue_cup"].state = ObjectState.MISSING
    frame = np.zeros((48, 64, 3), dtype=np.uint8)
    frame[..., 0] = 200
    done = TrialResult(
        command="bring the red cup to the dining table",
        conditions=["on(red_cup, dining_table)"],
        success=True,
        holds=[True],
        agent_success=True,
        error_code=TaskErrorCode.NONE,
        error_msg="",
        summary="Done: pick up the red cup; put the red cup on the dining table.",
        plan=[PlanStep(0, "PICK", {"object": "red_cup"}, status=StepStatus.SUCCEEDED)],
        steps=[StepRecord(0, "PICK", {"object": "red_cup"}, 1.0, 14.5)],
        duration_s=30.2,
        responses=[(30.1, "Done: pick up the red cup.")],
        path=[(1.0, 2.0), (2.0, 2.5), (6.0, 1.0)],
        frames=[Frame("start", 0.0, frame)],
        belief=belief,
        truth=truth,
    )
    failed = TrialResult(
        command="bring the blue cup to the dining table",
        conditions=["on(blue_cup, dining_table)"],
        success=False,
        holds=[False],
        agent_success=False,
        error_code=TaskErrorCode.SKILL_FAILED,
        error_msg="I could not pick up the blue cup: no grasp.",
        summary="",
        plan=[PlanStep(0, "PICK", {"object": "blue_cup"}, status=StepStatus.FAILED, error_msg="no grasp")],
        steps=[],
        duration_s=60.0,
        responses=[],
        path=[],
        events=["moved blue_cup"],
    )
    readme = write_report(tmp_path / "report", scenario, [done, failed], "demo")
    text = readme.read_text()
    assert "**1 of 2**" in text
    assert "| 1 | bring the red cup to the dining table | done | 30.2 | 1 | 0 |" in text
    assert "| 2 | bring the blue cup to the dining table | failed (SKILL_FAILED) | 60.0 | 0 | 0 |" in text
    assert "`on(blue_cup, dining_table)` does NOT hold" in text
    assert "1. `PICK(object=blue_cup)`: failed (no grasp)" in text
    assert "Scripted events: moved blue_cup." in text
    assert "| 1 | PICK | object=red_cup | 1.0 | 13.5 |" in text
    maps = sorted((tmp_path / "report" / "maps").glob("*.png"))
    assert [m.name for m in maps] == ["01_bring_the_red_cup_to_the_dining_table.png",
                                      "02_bring_the_blue_cup_to_the_dining_table.png"]  # fmt: skip
    assert all(f"maps/{m.name}" in text for m in maps)
    (saved,) = (tmp_path / "report" / "frames").glob("*.png")
    assert np.array_equal(np.asarray(Image.open(saved)), frame)
