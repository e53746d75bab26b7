"""Pick-and-place benchmark: every object standing on furniture in the built-in worlds, picked and
put on another piece of furniture, on the embedded simulator in lockstep.

Each trial starts the world afresh and runs GOTO(object), PICK(object), GOTO(furniture),
PLACE(object, furniture) (sim/robot_interface.py: MuJoCo physics, the gripper holding by contact
and friction only; ground truth instead of perception). Success is judged by the simulator's
ground truth, not by the skills' own reports: after PICK the simulator says the object is held,
after PLACE that it is on the furniture and not held. Reports success per world and step, the
simulated time of PICK and PLACE, and the failures with their codes.

    python benchmarks/manip_bench.py --out reports/bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from control.manip_skills import ManipulationSettings, PickSkill, PlaceSkill
from control.nav_skills import GotoSkill, RobotSkill
from control.skills import SkillErrorCode, SkillResult, load_catalog
from planning.value_maps import PLANNERS
from robot_agent.paths import config_file
from sim.robot_interface import LockstepContext, SimulatedRobot
from sim.scenario import OnFurniture, load_scenario
from sim.simulator import Simulator

WORLDS = ("kitchen", "office", "apartment")
STEP_TIMEOUT_S = 120.0  # simulated seconds per skill
SURFACES = ("table", "counter", "desk", "cabinet")  # furniture a thing can be put on


def run_trial(world: str, object_id: str, surface: str, planner: str) -> dict[str, Any]:
    sim = Simulator(load_scenario(world))
    robot = SimulatedRobot(sim)
    catalog = load_catalog(config_file("skills.yaml"))
    manipulation = ManipulationSettings(planner=planner)
    row: dict[str, Any] = {"world": world, "object": object_id, "surface": surface, "planner": planner}
    steps: list[tuple[str, dict[str, str]]] = [
        ("GOTO", {"target": object_id}),
        ("PICK", {"object": object_id}),
        ("GOTO", {"target": surface}),
        ("PLACE", {"object": object_id, "target": surface}),
    ]
    started = time.perf_counter()
    for name, arguments in steps:
        skill: RobotSkill
        if name == "GOTO":
            skill = GotoSkill(catalog[name], robot)
        else:
            kind = PickSkill if name == "PICK" else PlaceSkill
            skill = kind(catalog[name], robot, manipulation=manipulation)
        context = LockstepContext(sim)
        context.deadline = sim.time + STEP_TIMEOUT_S
        bound = skill.spec.bind(arguments)
        began = sim.time
        result = skill.check_goal(bound) or skill.execute(bound, context)
        if isinstance(result, str):
            result = SkillResult.failure(SkillErrorCode.INVALID_ARGUMENTS, result)
        row[f"{name.lower()}_s"] = sim.time - began
        if name == "PICK":
            truth = sim.holding(object_id)
        elif name == "PLACE":
            truth = sim.evaluate(f"on({object_id}, {surface})") and not sim.holding(object_id)
        else:
            truth = result.success
        if not (result.success and truth):
            row.update(
                success=False,
                failed_at=name,
                code=result.error_code.name if not result.success else "GROUND_TRUTH",
                message=result.error_msg or "the skill said done; the simulator disagrees",
            )
            break
    else:
        row.update(success=True, failed_at="", code="NONE", message="")
    row["picked"] = row["success"] or row.get("failed_at") not in ("GOTO", "PICK")
    row["wall_s"] = time.perf_counter() - started
    return row


def trials_of(world: str, seed: int) -> list[tuple[str, str]]:
    scenario = load_scenario(world)
    surfaces = [f.id for f in scenario.furniture if f.type in SURFACES]
    rng = random.Random(f"{seed}-{world}")
    pairs = []
    for obj in scenario.all_objects():
        if not isinstance(obj.place, OnFurniture):
            continue
        others = [s for s in surfaces if s != obj.place.on] or surfaces
        pairs.append((obj.id, rng.choice(others)))
    return pairs


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    picked = [r for r in rows if r["picked"]]
    done = [r for r in rows if r["success"]]
    return {
        "trials": len(rows),
        "pick_success": len(picked) / len(rows),
        "success": len(done) / len(rows),
        "pick_s_median": statistics.median(r["pick_s"] for r in picked) if picked else None,
        "place_s_median": statistics.median(r["place_s"] for r in done) if done else None,
        "wall_s_median": statistics.median(r["wall_s"] for r in rows),
        "failures": [
            f"{r['object']} -> {r['surface']}: {r['failed_at']} {r['code']} {r['message']}"
            for r in rows
            if not r["success"]
        ],
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "## Pick-and-place benchmark",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}",
        "",
        "| world | planner | trials | PICK success | PICK + PLACE success | PICK (median, simulated) "
        "| PLACE (median, simulated) |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, s in report["summaries"].items():
        world, planner = key.split("/")
        pick = f"{s['pick_s_median']:.1f} s" if s["pick_s_median"] is not None else "-"
        place = f"{s['place_s_median']:.1f} s" if s["place_s_median"] is not None else "-"
        lines.append(
            f"| {world} | {planner} | {s['trials']} | {s['pick_success']:.0%} | {s['success']:.0%} | {pick} | {place} |"
        )
    failures = [f"- {key}: {f}" for key, s in report["summaries"].items() for f in s["failures"]]
    if failures:
        lines += ["", "Failures:", "", *failures]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--worlds", nargs="+", default=list(WORLDS), choices=WORLDS)
    parser.add_argument("--planners", nargs="+", default=["search"], choices=sorted(PLANNERS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/manip_bench.py", *sys.argv[1:]]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "summaries": {},
        "rows": [],
    }
    for world in args.worlds:
        pairs = trials_of(world, args.seed)
        for planner in args.planners:
            rows = []
            for index, (object_id, surface) in enumerate(pairs):
                row = run_trial(world, object_id, surface, planner)
                rows.append(row)
                status = "ok  " if row["success"] else f"{row['failed_at']} {row['code']}"
                print(
                    f"[{world} {planner} {index + 1:2d}/{len(pairs)}] {status} {object_id} -> {surface} "
                    f"({row['wall_s']:.1f} s wall)",
                    file=sys.stderr,
                    flush=True,
                )
            report["summaries"][f"{world}/{planner}"] = summary(rows)
            report["rows"] += rows
    (args.out / "manip.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / "manip.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
