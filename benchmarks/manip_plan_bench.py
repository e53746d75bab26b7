"""Manipulation planning benchmark: value-map composition and both planners on random table-top scenes.

Each trial builds a random scene on a table (seeded) of one of three kinds: ``open`` (the target
and a few objects away from the way), ``cluttered`` (many random boxes on the table between the
end effector and the target) and ``trap`` (a cup-shaped box, open toward the end effector, between
it and the target, the trap that stops steepest descent). Half the trials are PICK (go to an object
on the table, ``default_pick_spec``), half PLACE (carry a held object above a bowl,
``default_place_spec``). The grid is ``workspace_around`` the start and the target, 100^3 by
default. Reports composition time, planning time of each planner (median, p95), success, and
paths that enter an obstacle core (should be none); draws the first trap scene's maps and paths.

    python benchmarks/manip_plan_bench.py --trials 30 --out reports/bench
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from planning.value_maps import (
    DEFAULT_PLANNER,
    PLANNERS,
    ManipulationPath,
    SceneItem,
    ValueMapSpec,
    compose,
    default_pick_spec,
    default_place_spec,
    render_slices,
    workspace_around,
)
from planning.value_maps.planners import hits

KINDS = ("open", "cluttered", "trap")
BLUR_SIGMA = inspect.signature(compose).parameters["blur_sigma"].default
TABLE_TOP = 0.72


def box(
    item_id: str, centre: tuple[float, float, float], size: tuple[float, float, float], yaw: float = 0.0
) -> SceneItem:
    return SceneItem(item_id, item_id.rstrip("_0123456789"), np.array(centre), np.array(size), yaw=yaw)


def on_table(item_id: str, x: float, y: float, size: tuple[float, float, float], yaw: float = 0.0) -> SceneItem:
    return box(item_id, (x, y, TABLE_TOP + 0.5 * size[2]), size, yaw)


def cup_shape(centre: np.ndarray, facing: float, side: float, wall: float) -> list[SceneItem]:
    """Five walls of a box open toward ``facing`` (the yaw its opening looks along), standing on the table."""
    c, s = math.cos(facing), math.sin(facing)
    forward, left = np.array([c, s, 0.0]), np.array([-s, c, 0.0])
    half = 0.5 * side
    z = TABLE_TOP + half
    base = np.array([centre[0], centre[1], z])
    walls = [
        ("trap_back", base - forward * half, (wall, side, side)),
        ("trap_left", base + left * half, (side, wall, side)),
        ("trap_right", base - left * half, (side, wall, side)),
        ("trap_top", base + np.array([0.0, 0.0, half]), (side, side, wall)),
        ("trap_bottom", base - np.array([0.0, 0.0, half - 0.5 * wall]), (side, side, wall)),
    ]
    return [box(name, (float(p[0]), float(p[1]), float(p[2])), size, facing) for name, p, size in walls]


def scene(kind: str, rng: random.Random) -> tuple[list[SceneItem], np.ndarray, ValueMapSpec, str]:
    """A random scene of a kind: items, the end-effector start, the spec and the task's name."""
    table = box("table", (0.65, 0.0, TABLE_TOP - 0.02), (0.8, 1.2, 0.04))
    side = rng.choice((-1.0, 1.0))
    start = np.array([0.3, side * rng.uniform(0.1, 0.3), TABLE_TOP + rng.uniform(0.08, 0.2)])
    goal_xy = np.array([rng.uniform(0.75, 0.9), -side * rng.uniform(0.0, 0.25)])
    trap_side = rng.uniform(0.2, 0.28)
    if kind == "trap":  # the end effector in front of the trap's opening
        start[2] = TABLE_TOP + 0.5 * trap_side + rng.uniform(-0.03, 0.03)
    items = [table]
    if rng.random() < 0.5:
        target = on_table("block", float(goal_xy[0]), float(goal_xy[1]), (0.04, 0.06, 0.06), rng.uniform(-1.0, 1.0))
        items.append(target)
        spec, task = default_pick_spec(target.id), f"pick {target.id}"
    else:
        target = on_table("bowl", float(goal_xy[0]), float(goal_xy[1]), (0.14, 0.14, 0.06))
        held = box("cup", (float(start[0]), float(start[1]), float(start[2]) - 0.06), (0.06, 0.06, 0.08))
        items += [target, held]
        spec, task = default_place_spec(held.id, target.id), f"place cup above {target.id}"
    if kind == "open":
        for i in range(3):
            x, y = rng.uniform(0.35, 0.95), rng.uniform(-0.5, 0.5)
            if abs(y - goal_xy[1]) > 0.2 and abs(y - start[1]) > 0.2:
                items.append(on_table(f"thing_{i}", x, y, (0.05, 0.05, rng.uniform(0.05, 0.2))))
    elif kind == "cluttered":
        count = rng.randint(10, 20)
        placed = 0
        while placed < count:
            t = rng.uniform(0.15, 0.85)
            x, y = (1 - t) * start[:2] + t * goal_xy + np.array([rng.uniform(-0.12, 0.12), rng.uniform(-0.15, 0.15)])
            if math.hypot(x - goal_xy[0], y - goal_xy[1]) < 0.12 or math.hypot(x - start[0], y - start[1]) < 0.08:
                continue
            size = (rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.08), rng.uniform(0.05, 0.3))
            items.append(on_table(f"clutter_{placed}", float(x), float(y), size, rng.uniform(-1.5, 1.5)))
            placed += 1
    else:
        t = rng.uniform(0.45, 0.6)
        centre = (1 - t) * start[:2] + t * goal_xy
        facing = math.atan2(start[1] - centre[1], start[0] - centre[0])
        items += cup_shape(centre, facing, trap_side, 0.02)
    return items, start, spec, task


def run_kind(
    kind: str, trials: int, seed: int, shape: int, blur_sigma: float, picture: Path | None
) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}-{kind}")
    rows = []
    for trial in range(trials):
        items, start, spec, task = scene(kind, rng)
        target = next(i for i in items if i.id in ("block", "bowl"))
        grid = workspace_around(
            [start, target.center], margin=0.15, shape=(shape, shape, shape), floor=TABLE_TOP - 0.06
        )
        started = time.perf_counter()
        maps = compose(spec, grid, items, observer_yaw=0.0, blur_sigma=blur_sigma)
        compose_ms = (time.perf_counter() - started) * 1000
        row: dict[str, Any] = {
            "kind": kind,
            "trial": trial,
            "task": task,
            "items": len(items),
            "compose_ms": compose_ms,
        }
        paths: list[ManipulationPath] = []
        for name, planner in PLANNERS.items():
            started = time.perf_counter()
            path = planner(maps, start)
            elapsed = (time.perf_counter() - started) * 1000
            paths.append(path)
            row[name] = {
                "success": path.success,
                "reason": path.reason,
                "plan_ms": elapsed,
                "length_m": path.length,
                "cost": path.cost,
                "collides": path.success and hits(grid, maps.impassable, path.waypoints),
                "corridors": path.stats.get("corridors", 0.0),
            }
        rows.append(row)
        outcome = "  ".join(
            f"{name} {'ok' if row[name]['success'] else row[name]['reason'] or 'fail'} {row[name]['plan_ms']:.0f} ms"
            for name in PLANNERS
        )
        print(
            f"[{kind} {trial + 1:2d}/{trials}] {task}: compose {compose_ms:.0f} ms; {outcome}",
            file=sys.stderr,
            flush=True,
        )
        if picture is not None and trial == 0:
            render_slices(maps, paths, picture, title=f"{kind}: {task}")
    return rows


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else math.nan


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "trials": len(rows),
        "compose_ms_median": statistics.median(r["compose_ms"] for r in rows),
        "compose_ms_p95": percentile([r["compose_ms"] for r in rows], 95),
    }
    for name in PLANNERS:
        times = [r[name]["plan_ms"] for r in rows]
        result[name] = {
            "success": sum(r[name]["success"] for r in rows) / len(rows),
            "plan_ms_median": statistics.median(times),
            "plan_ms_p95": percentile(times, 95),
            "collisions": sum(bool(r[name]["collides"]) for r in rows),
            "failures": sorted({r[name]["reason"] for r in rows if not r[name]["success"]}),
            "fallbacks": sum(r[name]["corridors"] > 1 for r in rows),
        }
    return result


def markdown(report: dict[str, Any]) -> str:
    names = list(PLANNERS)
    lines = [
        "## Manipulation planning benchmark (value maps)",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}  ",
        f"Grid: {report['shape']}^3 voxels; avoidance blur sigma {report['blur_sigma']} m; "
        f"default planner: `{DEFAULT_PLANNER}`",
        "",
        "| scenes | trials | compose median / p95 | "
        + " | ".join(f"{n} success | {n} plan median / p95" for n in names)
        + " |",
        "|---|---|---|" + "---|---|" * len(names),
    ]
    for kind, s in report["kinds"].items():
        cells = [f"{s['compose_ms_median']:.0f} / {s['compose_ms_p95']:.0f} ms"]
        for name in names:
            p = s[name]
            cells += [f"{p['success']:.0%}", f"{p['plan_ms_median']:.1f} / {p['plan_ms_p95']:.1f} ms"]
        lines.append(f"| {kind} | {s['trials']} | " + " | ".join(cells) + " |")
    notes = []
    for kind, s in report["kinds"].items():
        for name in names:
            p = s[name]
            if p["failures"]:
                notes.append(f"- {kind}, {name}: failures: {'; '.join(p['failures'])}")
            if p["collisions"]:
                notes.append(f"- {kind}, {name}: {p['collisions']} successful paths enter an obstacle core")
            if p["fallbacks"]:
                notes.append(f"- {kind}, {name}: {p['fallbacks']} plans searched beyond the coarse route's corridor")
    if notes:
        lines += ["", *notes]
    if report.get("picture"):
        lines += ["", f"![value maps and paths]({report['picture']})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=30, help="scenes per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--shape", type=int, default=100, help="voxels per axis")
    parser.add_argument("--blur-sigma", type=float, default=BLUR_SIGMA, help="avoidance blur (metres)")
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/manip_plan_bench.py", *sys.argv[1:]]),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "shape": args.shape,
        "blur_sigma": args.blur_sigma,
        "kinds": {},
        "rows": [],
    }
    picture = args.out / "manip_value_maps.png"
    drawn = False
    for kind in args.kinds:
        draw_here = kind == "trap" or (kind == args.kinds[-1] and not drawn)
        chosen_picture = picture if draw_here and not drawn else None
        rows = run_kind(kind, args.trials, args.seed, args.shape, args.blur_sigma, chosen_picture)
        drawn = drawn or draw_here
        report["kinds"][kind] = summary(rows)
        report["rows"] += rows
    report["picture"] = picture.name if drawn else None
    (args.out / "manip_plan.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(report)
    (args.out / "manip_plan.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
