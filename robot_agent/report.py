"""What a task run left behind, and the report folder written from it (``make demo``, benchmarks).

Plain Python (no rclpy): robot_agent/trial.py fills these records from a running stack.
The folder: README.md (success against ground truth, timings, the plan, what the robot said),
camera frames at key moments (PNG), and a top-down map per task with the robot's path, where the
scene graph believed each object was and where it really was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from PIL import Image

from perception.scene_graph import ObjectKind, ObjectState, SceneGraph
from planning.plan import PlanStep, StepStatus
from robot_agent.task_report import error_name
from sim.scenario import Scenario
from sim.snapshot import layout_axes

RgbImage = npt.NDArray[np.uint8]


@dataclass
class Frame:
    label: str
    wall_s: float  # seconds since the command was sent
    rgb: RgbImage


@dataclass
class StepRecord:
    index: int
    skill: str
    arguments: dict[str, str]
    started_s: float  # seconds since the command was sent
    ended_s: float | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_s is None else self.ended_s - self.started_s


@dataclass
class TrialResult:
    command: str
    conditions: list[str]
    success: bool  # judged against ground truth (a refusal: the agent refused and nothing changed)
    holds: list[bool]
    agent_success: bool
    error_code: int
    error_msg: str
    summary: str
    plan: list[PlanStep]
    steps: list[StepRecord]
    duration_s: float
    responses: list[tuple[float, str]]
    path: list[tuple[float, float]]  # the robot's (x, y) in the map frame
    frames: list[Frame] = field(default_factory=list)
    replans: int = 0
    events: list[str] = field(default_factory=list)  # what the scripted events did
    belief: SceneGraph | None = None  # the scene graph at the end
    truth: SceneGraph | None = None  # the simulator's ground truth at the end
    name: str = ""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:48] or "task"


def draw_run_map(scenario: Scenario, result: TrialResult, out: Path) -> Path:
    """The world's layout, the robot's path, believed (scene graph) and true object positions."""
    figure, axes = layout_axes(scenario)
    if result.path:
        points = np.asarray(result.path)
        axes.plot(points[:, 0], points[:, 1], "-", color="tab:orange", lw=2, label="robot path", zorder=6)
        axes.plot(*points[0], "o", color="tab:orange", ms=8, zorder=7)
        axes.plot(*points[-1], "s", color="tab:orange", ms=8, zorder=7)
    if result.truth is not None:
        truth = [o for o in result.truth.objects.values() if o.kind == ObjectKind.OBJECT]
        if truth:
            axes.scatter([o.position[0] for o in truth], [o.position[1] for o in truth], s=50, facecolors="none",
                         edgecolors="black", label="true position", zorder=5)  # fmt: skip
    if result.belief is not None:
        believed = [o for o in result.belief.objects.values() if o.kind == ObjectKind.OBJECT]
        tracked = [o for o in believed if o.state != ObjectState.MISSING]
        missing = [o for o in believed if o.state == ObjectState.MISSING]
        for shown, colour, label in (
            (tracked, "tab:green", "scene graph"),
            (missing, "tab:red", "scene graph: missing"),
        ):
            if shown:
                axes.scatter([o.position[0] for o in shown], [o.position[1] for o in shown], s=18, color=colour,
                             marker="x", label=label, zorder=6)  # fmt: skip
            for obj in shown:
                axes.annotate(
                    obj.id,
                    (float(obj.position[0]), float(obj.position[1])),
                    xytext=(3, 3),
                    textcoords="offset points",
                    fontsize=6,
                )
    axes.set_title(result.command)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper right", fontsize=7)
    figure.savefig(out, bbox_inches="tight")
    plt.close(figure)
    return out


def _step_table(result: TrialResult) -> list[str]:
    lines = ["| # | skill | arguments | started (s) | took (s) |", "|---|---|---|---|---|"]
    for number, step in enumerate(result.steps, 1):
        arguments = ", ".join(f"{k}={v}" for k, v in step.arguments.items())
        took = "" if step.duration_s is None else f"{step.duration_s:.1f}"
        lines.append(f"| {number} | {step.skill} | {arguments} | {step.started_s:.1f} | {took} |")
    return lines


def _plan_lines(plan: Sequence[PlanStep]) -> list[str]:
    lines = []
    for step in plan:
        arguments = ", ".join(f"{k}={v}" for k, v in step.arguments.items())
        status = StepStatus(step.status).name.lower() if step.status in iter(StepStatus) else str(step.status)
        reason = f" ({step.error_msg})" if step.error_msg else ""
        lines.append(f"{step.index + 1}. `{step.skill}({arguments})`: {status}{reason}")
    return lines


def write_report(
    folder: Path, scenario: Scenario, results: Sequence[TrialResult], title: str, notes: Sequence[str] = ()
) -> Path:
    """Write README.md, frames/ and maps/ into ``folder``; the README's path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "frames").mkdir(exist_ok=True)
    (folder / "maps").mkdir(exist_ok=True)
    succeeded = sum(result.success for result in results)
    lines = [f"# {title}", "", f"World: `{scenario.name}`. Tasks done (checked against the simulator's ground truth): "
             f"**{succeeded} of {len(results)}**.", ""]  # fmt: skip
    lines += [*notes, ""] if notes else []
    lines += ["| task | command | result | time (s) | steps | replans |", "|---|---|---|---|---|---|"]
    for number, result in enumerate(results, 1):
        verdict = "done" if result.success else f"failed ({error_name(result.error_code)})"
        lines.append(f"| {number} | {result.command} | {verdict} | {result.duration_s:.1f} | {len(result.steps)} | "
                     f"{result.replans} |")  # fmt: skip
    for number, result in enumerate(results, 1):
        name = f"{number:02d}_{slug(result.name or result.command)}"
        lines += ["", f"## Task {number}: {result.command}", ""]
        verdict = "**done**" if result.success else "**not done**"
        said = "success" if result.agent_success else error_name(result.error_code)
        explanation = result.summary if result.agent_success else (result.error_msg or result.summary)
        lines.append(f"{verdict} in {result.duration_s:.1f} s (wall clock). The agent said: {said}"
                     + (f": {explanation}" if explanation else "."))  # fmt: skip
        lines.append("")
        judged = [
            f"`{c}` {'holds' if h else 'does NOT hold'}" for c, h in zip(result.conditions, result.holds, strict=False)
        ]
        lines.append("Ground truth: " + ", ".join(judged) + ".")
        if result.events:
            lines += ["", "Scripted events: " + "; ".join(result.events) + "."]
        if result.plan:
            lines += ["", "Final plan:", "", *_plan_lines(result.plan)]
        if result.steps:
            lines += ["", "Steps as run (wall clock):", "", *_step_table(result)]
        if result.responses:
            lines += ["", "What the robot said:", ""]
            lines += [f"- {t:.1f} s: {text}" for t, text in result.responses]
        map_path = draw_run_map(scenario, result, folder / "maps" / f"{name}.png")
        lines += ["", f"![top-down map: path, scene graph, ground truth](maps/{map_path.name})"]
        if result.frames:
            lines += ["", "Camera at key moments:", ""]
            for index, frame in enumerate(result.frames):
                frame_path = folder / "frames" / f"{name}_{index:02d}.png"
                Image.fromarray(frame.rgb).save(frame_path)
                lines.append(f"![{frame.label} ({frame.wall_s:.1f} s)](frames/{frame_path.name})")
    path = folder / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path
