"""Planner benchmark: the commands of benchmarks/planner_commands.yaml through a planner backend.

For each command, in its world's initial layout: does the backend make of it what the dataset
expects (the goal's conditions, a question naming the look-alikes, a refusal of the right kind,
an unknown-object reply, an answer naming the right things, an invalid-input reply), and does the
symbolic planner find a valid plan for the goal. Reports accuracy per category and latency.

    python benchmarks/planner_bench.py --backend offline --out reports/bench
    python benchmarks/planner_bench.py --backend llm_goal --model '{"kind": "openai", ...}' --cache-dir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from control.skills import load_catalog
from perception.scene_graph import SceneGraph
from planning.goals import Goal
from planning.interpretation import Interpretation, Outcome
from planning.planner import TaskPlanner, make_planner
from planning.symbolic import actions_of, initial_state
from robot_agent.paths import config_file
from sim.layout import layout_graph
from sim.scenario import load_scenario

DATASET = Path(__file__).with_name("planner_commands.yaml")
OFFLINE_ACCURACY_GOAL = 0.9
OFFLINE_LATENCY_GOAL_S = 0.05


def command_text(item: dict[str, Any]) -> str:
    if "repeat" in item:
        return str(item["repeat"]["text"]) * int(item["repeat"]["times"])
    return str(item["command"])


def same_goal(goal: Goal | None, stages: list[list[str]]) -> bool:
    """Equal stage by stage as sets of conditions; at(robot, room) and in(robot, room) count as one."""
    if goal is None:
        return False
    expected = Goal.parse(stages)

    def canonical(g: Goal) -> list[set[str]]:
        return [{str(c).replace("in(robot,", "at(robot,") for c in stage} for stage in g.stages]

    return canonical(goal) == canonical(expected)


def judge(item: dict[str, Any], result: Interpretation) -> tuple[bool, str]:
    """Whether the interpretation is what the item expects, and what was wrong if not."""
    expect = item["expect"]
    got = result.outcome.value
    if expect == "goal":
        if result.outcome != Outcome.GOAL:
            return False, f"expected a goal, got {got}: {result.message}"
        if not same_goal(result.goal, item["stages"]):
            return False, f"goal {result.goal} != {item['stages']}"
        return True, ""
    if got != expect:
        return False, f"expected {expect}, got {got}: {result.message or result.goal}"
    if expect == "clarify" and set(result.candidates) != set(item["candidates"]):
        return False, f"candidates {result.candidates} != {item['candidates']}"
    if expect == "refuse" and result.refusal_kind != item["reason"]:
        return False, f"refused as {result.refusal_kind}, expected {item['reason']}: {result.message}"
    if expect == "answer":
        missing = [m for m in item.get("mentions", []) if m not in result.candidates and m not in result.message]
        named = [m for m in missing if m.replace("_", " ") in result.message]
        if len(named) != len(missing):
            return False, f"the answer does not name {missing}: {result.message}"
    return True, ""


def run(planner: TaskPlanner, items: list[dict[str, Any]]) -> dict[str, Any]:
    catalog = load_catalog(config_file("skills.yaml"))
    actions = actions_of(catalog)
    graphs: dict[str, SceneGraph] = {}
    rows = []
    for index, item in enumerate(items):
        world = item["world"]
        if world not in graphs:
            graphs[world] = layout_graph(load_scenario(world))
        graph = graphs[world]
        text = command_text(item)
        started = time.perf_counter()
        result = planner.interpret(text, graph, catalog)
        plan_error = ""
        if result.outcome in (Outcome.GOAL, Outcome.PLAN):
            w, s = initial_state(graph)
            plan_error = planner.plan(result, actions, w, s).error
        seconds = time.perf_counter() - started
        right, why = judge(item, result)
        if right and plan_error:
            right, why = False, f"no valid plan: {plan_error}"
        answer_right = None
        if right and item["expect"] == "clarify" and "answer" in item:
            follow = planner.interpret(str(item["answer"]), graph, catalog, pending=result.pending)
            answer_right = same_goal(follow.goal, item["answer_stages"])
            if not answer_right:
                right, why = False, f"after the answer {item['answer']!r}: {follow.outcome.value} {follow.goal}"
        rows.append(
            {
                "id": item["id"],
                "world": world,
                "category": item["category"],
                "command": text if len(text) <= 80 else text[:77] + "...",
                "right": right,
                "why": why,
                "seconds": seconds,
                "outcome": result.outcome.value,
                "message": result.message,
                "notes": result.notes,
            }
        )
        print(f"[{index + 1:3d}/{len(items)}] {'ok  ' if right else 'MISS'} {item['id']} {why}", flush=True)
    return summarise(rows)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    latencies = sorted(r["seconds"] for r in rows)
    return {
        "commands": len(rows),
        "accuracy": sum(r["right"] for r in rows) / len(rows),
        "fallbacks": sum(any("used offline" in note for note in r["notes"]) for r in rows),
        "latency_s": {
            "median": statistics.median(latencies),
            "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
            "max": latencies[-1],
        },
        "categories": {
            name: {"commands": len(rs), "accuracy": sum(r["right"] for r in rs) / len(rs)}
            for name, rs in sorted(by_category.items())
        },
        "misses": [r for r in rows if not r["right"]],
        "rows": rows,
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"## Planner benchmark: backend `{report['backend']}`",
        "",
        f"Command: `{report['command']}`  ",
        f"Machine: {report['machine']}",
        "",
        f"{report['commands']} commands, **{report['accuracy']:.1%} right**, latency median "
        f"{report['latency_s']['median'] * 1000:.1f} ms, p95 {report['latency_s']['p95'] * 1000:.1f} ms, "
        f"max {report['latency_s']['max'] * 1000:.1f} ms (model load excluded: {report['warmup_s']:.1f} s).",
        "",
        *(
            [f"The model failed on {report['fallbacks']} commands; the offline parser answered those.", ""]
            if report["fallbacks"]
            else []
        ),
        "| category | commands | right |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {c['commands']} | {c['accuracy']:.0%} |" for name, c in report["categories"].items()]
    if report["misses"]:
        lines += ["", "Misses:", ""]
        lines += [f"- `{m['id']}` ({m['command']}): {m['why']}" for m in report["misses"]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", default="offline", choices=["offline", "llm_goal", "llm"])
    parser.add_argument("--model", default="", help="model client config as JSON (docs/models.md)")
    parser.add_argument("--no-fallback", action="store_true", help="a failing model is a miss, not offline")
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument(
        "--per-category", type=int, default=0, help="only the first N commands of each category (0: all)"
    )
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    items = yaml.safe_load(args.dataset.read_text(encoding="utf-8"))["commands"]
    if args.per_category > 0:
        by_category: dict[str, list[Any]] = defaultdict(list)
        for item in items:
            by_category[item["category"]].append(item)
        items = [item for group in by_category.values() for item in group[: args.per_category]]
    planner = make_planner(args.backend, json.loads(args.model) if args.model else None, not args.no_fallback)
    started = time.perf_counter()
    planner.warm_up()
    warmup = time.perf_counter() - started
    report = run(planner, items)
    report.update(
        backend=args.backend,
        warmup_s=warmup,
        command=" ".join(["python", "benchmarks/planner_bench.py", *sys.argv[1:]]),
        machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    )
    if args.backend == "offline":
        report["goals"] = {
            "accuracy": OFFLINE_ACCURACY_GOAL,
            "latency_s": OFFLINE_LATENCY_GOAL_S,
            "met": report["accuracy"] >= OFFLINE_ACCURACY_GOAL
            and report["latency_s"]["median"] < OFFLINE_LATENCY_GOAL_S,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"planner_{args.backend}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = markdown(report)
    (args.out / f"planner_{args.backend}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
