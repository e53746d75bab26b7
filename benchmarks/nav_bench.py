"""Navigation benchmark: GOTO between random start poses and targets in the built-in worlds.

Each trial puts the robot at a random free pose (seeded), picks a random target (a piece of
furniture or a room) and runs the GOTO skill on the embedded simulator in lockstep
(sim/robot_interface.py: physics, A*, pure pursuit; ground truth instead of perception). Reports
success, simulated time to arrive, path length and planning time per world, and draws the
driven paths of the first world onto its map.

    python benchmarks/nav_bench.py --trials 20 --out reports/bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from control.nav_skills import GotoSkill, NavigationSettings
from control.navigation.astar import NoPathError, allowed_cells, plan_path
from control.navigation.render import draw_map
from control.skills import load_catalog
from robot_agent.paths import config_file
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import load_scenario
from sim.simulator import Simulator

WORLDS = ("kitchen", "office", "apartment")
TRIAL_TIMEOUT_S = 90.0  # simulated seconds per GOTO


def random_start(robot: SimulatedRobot, rng: random.Random, clearance: float) -> tuple[float, float, float]:
    grid = robot.grid
    rows, cols = np.nonzero(allowed_cells(grid, clearance))
    index = rng.randrange(len(rows))
    x, y = grid.cell_to_world(int(rows[index]), int(cols[index]))
    return x, y, rng.uniform(-np.pi, np.pi)


def run_world(world: str, trials: int, seed: int) -> tuple[list[dict[str, Any]], list[list[tuple[float, float]]]]:
    scenario = load_scenario(world)
    spec = load_catalog(config_file("skills.yaml"))["GOTO"]
    settings = NavigationSettings()
    rng = random.Random(f"{seed}-{world}")
    targets = [f.id for f in scenario.furniture] + [r.id for r in scenario.rooms]
    rows, traces = [], []
    for trial in range(trials):
        start_robot = SimulatedRobot(Simulator(scenario))
        x, y, yaw = random_start(start_robot, rng, settings.inflation_radius)
        document = scenario.model_dump(mode="json")
        document["robot"]["pose"] = [x, y, yaw]
        sim = Simulator(type(scenario).model_validate(document))
        robot = SimulatedRobot(sim, start_robot.grid)
        target = rng.choice(targets)
        skill = GotoSkill(spec, robot, settings)
        arguments = spec.bind({"target": target})
        context = LockstepContext(sim)
        context.deadline = TRIAL_TIMEOUT_S
        started = time.perf_counter()
        result = skill.execute(arguments, context)
        wall = time.perf_counter() - started
        trace = robot.trace
        goal = trace[-1] if trace else (x, y)
        planning_started = time.perf_counter()
        with contextlib.suppress(NoPathError):  # A* alone, for its time
            plan_path(robot.grid, (x, y), goal, settings.robot_radius, settings.inflation_radius)
        planning = time.perf_counter() - planning_started
        driven = float(sum(np.hypot(np.diff([p[0] for p in trace]), np.diff([p[1] for p in trace])))) if trace else 0.0
        rows.append(
            {
                "world": world,
                "trial": trial,
                "start": [round(x, 2), round(y, 2), round(yaw, 2)],
                "target": target,
                "success": result.success,
                "code": result.error_code.name,
                "message": result.error_msg or result.message,
                "sim_s": sim.time,
                "wall_s": wall,
                "driven_m": driven,
                "plan_ms": planning * 1000,
            }
        )
        traces.append(trace)
        status = "ok  " if result.success else result.error_code.name
        print(f"[{world} {trial + 1:2d}/{trials}] {status} {target}: {sim.time:.1f} s, {driven:.1f} m", flush=True)
    return rows, traces


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if r["success"]]
    return {
        "trials": len(rows),
        "success": len(done) / len(rows),
        "sim_s_median": statistics.median(r["sim_s"] for r in done) if done else None,
        "driven_m_median": statistics.median(r["driven_m"] for r in done) if done else None,
        "speed_m_s": sum(r["driven_m"] for r in done) / sum(r["sim_s"] for r in done) if done else None,
        "plan_ms_median": statistics.median(r["plan_ms"] for r in rows),
        "plan_ms_max": max(r["plan_ms"] for r in rows),
        "wall_s_median": statistics.median(r["wall_s"] for r in rows),
        "failures": [f"{r['target']} from {r['start']}: {r['code']} {r['message']}" for r in rows if not r["success"]],
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "## Navigation benchmark",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}",
        "",
        "| world | trials | success | time to arrive (median, simulated) | driven (median) | mean speed "
        "| A* median / max |",
        "|---|---|---|---|---|---|---|",
    ]
    for world, s in report["worlds"].items():
        arrive = f"{s['sim_s_median']:.1f} s" if s["sim_s_median"] is not None else "-"
        driven = f"{s['driven_m_median']:.1f} m" if s["driven_m_median"] is not None else "-"
        speed = f"{s['speed_m_s']:.2f} m/s" if s["speed_m_s"] is not None else "-"
        lines.append(
            f"| {world} | {s['trials']} | {s['success']:.0%} | {arrive} | {driven} | {speed} | "
            f"{s['plan_ms_median']:.0f} / {s['plan_ms_max']:.0f} ms |"
        )
    failures = [f"- {world}: {f}" for world, s in report["worlds"].items() for f in s["failures"]]
    if failures:
        lines += ["", "Failures:", "", *failures]
    lines += ["", f"![paths]({report['picture']})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=20, help="GOTO trials per world")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=WORLDS)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/nav_bench.py", *sys.argv[1:]]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "worlds": {},
        "rows": [],
    }
    picture = args.out / "nav_paths.png"
    for index, world in enumerate(args.worlds):
        rows, traces = run_world(world, args.trials, args.seed)
        report["worlds"][world] = summary(rows)
        report["rows"] += rows
        if index == 0:
            grid = SimulatedRobot(Simulator(load_scenario(world))).grid
            paths = [p for trace in traces for p in [*trace, (float("nan"), float("nan"))]]
            draw_map(grid, out=picture, path=paths, title=f"{world}: {len(traces)} GOTO runs")
    report["picture"] = picture.name
    (args.out / "nav.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / "nav.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
