"""Planner benchmark: the commands of benchmarks/planner_commands.yaml (or other sets) through a planner backend.

For each command, in its world's initial layout: does the backend make of it what the dataset
expects (the goal's conditions; a question naming the look-alikes in options that read apart; a
refusal of the right kind, never an invalid-input reply instead; an unknown-object reply naming the
unknown words and offering the known similar things; an answer naming the right things and not
everything; an invalid-input reply), and does the symbolic planner find a valid plan for the goal.
Reports accuracy per split, per category and split, and latency (median, p95).

--dataset may be given several times; --split dev|test|all picks items by their `split` field. An
item without one (all of planner_commands.yaml, whose parser rules were written against it) is dev.
The measured sets are benchmarks/generated_commands.yaml and benchmarks/handwritten_commands.yaml:

    python benchmarks/planner_bench.py --backend offline --out reports/bench
    python benchmarks/planner_bench.py --backend offline --dataset benchmarks/generated_commands.yaml \
        --dataset benchmarks/handwritten_commands.yaml --split test --out reports/bench_test
    python benchmarks/planner_bench.py --backend llm_goal --model '{"kind": "openai", ...}' --cache-dir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
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
SPLITS = ("dev", "test")
WORDS = re.compile(r"[a-z0-9]+")
OFFLINE_ACCURACY_GOAL = 0.9
OFFLINE_LATENCY_GOAL_S = 0.05


def command_text(item: dict[str, Any]) -> str:
    if "repeat" in item:
        return str(item["repeat"]["text"]) * int(item["repeat"]["times"])
    return str(item["command"])


def same_goal(goal: Goal | None, stages: list[list[str]]) -> bool:
    """Equal stage by stage as sets of conditions; at(robot, room) and in(robot, room) count as one, and
    a stage of only holding(x) right before x is put somewhere is no stage of its own ("grab the cup
    and bring it to the table": holding it on the way is part of bringing it)."""
    if goal is None:
        return False
    expected = Goal.parse(stages)

    def canonical(g: Goal) -> list[set[str]]:
        plain = [{_canonical(str(c)) for c in stage} for stage in g.stages]
        kept = []
        for index, stage in enumerate(plain):
            after = plain[index + 1] if index + 1 < len(plain) else set()
            held = [c[len("holding(") : -1] for c in stage if c.startswith("holding(")]
            if held and len(held) == len(stage) and all(_put_somewhere(x, after) for x in held):
                continue
            kept.append(stage)
        return kept

    return canonical(goal) == canonical(expected)


def _canonical(condition: str) -> str:
    """One spelling of one condition: at(robot, room) for in(robot, room); "left of" for "to the left of"."""
    condition = condition.replace("in(robot,", "at(robot,")
    return re.sub(r"\b(?:to|on|at) the (left|right)(?: hand)?(?: side)? of\b", r"\1 of", condition)


def _put_somewhere(thing: str, stage: set[str]) -> bool:
    return any(c.startswith((f"on({thing},", f"in({thing},", f"manipulated({thing},")) for c in stage)


ANSWER_ALLOWANCE = 2  # an answer may name this many things (or as many as it must) besides those it must
NOT_KNOWN = "i do not know of any"


def phrases_of(graph: SceneGraph) -> dict[tuple[str, ...], set[str]]:
    """The word sequences that name each thing of the graph: its id, its label, its colour and label."""
    phrases: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for obj in graph:
        names = {obj.id.replace("_", " "), obj.label}
        colour = obj.attributes.get("color")
        if colour:
            names.add(f"{colour} {obj.label}")
        for name in names:
            phrases[tuple(WORDS.findall(name.lower()))].add(obj.id)
    return phrases


def named_things(text: str, graph: SceneGraph) -> list[set[str]]:
    """What the text names, longest phrase first: one set of ids per phrase (two or more where it fits several)."""
    phrases = phrases_of(graph)
    longest = max((len(p) for p in phrases), default=0)
    words = WORDS.findall(text.lower().replace("_", " "))
    found: list[set[str]] = []
    index = 0
    while index < len(words):
        for length in range(min(longest, len(words) - index), 0, -1):
            ids = phrases.get(tuple(words[index : index + length]))
            if ids:
                found.append(set(ids))
                index += length
                break
        else:
            index += 1
    return found


def question_options(message: str) -> list[str] | None:
    """The options of "Which cup do you mean: the red cup on the counter or the blue cup on the counter?"."""
    if ":" not in message:
        return None
    listed = message.split(":", 1)[1].strip().rstrip("?").strip()
    head, _, last = listed.rpartition(" or ")
    options = [*(o.strip() for o in head.split(", ") if o.strip()), last.strip()] if head else [listed]
    return [o for o in options if o]


def judge(item: dict[str, Any], result: Interpretation, graph: SceneGraph | None = None) -> tuple[bool, str]:
    """Whether the interpretation is what the item expects, and what was wrong if not.

    Besides the outcome: a goal's stages; a question's candidates, and that its options read apart; a refusal's
    kind (a refusal is never met by an invalid or not-understood reply); an unknown-object reply names every
    unknown term and, where the item gives known_similar, offers those; an answer names every mentioned thing,
    is no "I do not know of any ..." and names at most max(2, len(mentions)) things more.
    """
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
    if expect == "clarify":
        if set(result.candidates) != set(item["candidates"]):
            return False, f"candidates {result.candidates} != {item['candidates']}"
        options = question_options(result.message)
        if options is None or len(options) != len(result.candidates):
            return False, f"the question does not list its {len(result.candidates)} options: {result.message}"
        plain = [" ".join(WORDS.findall(o.lower())) for o in options]
        if len(set(plain)) != len(plain):
            return False, f"two options read the same: {result.message}"
    if expect == "refuse" and result.refusal_kind != item["reason"]:
        return False, f"refused as {result.refusal_kind}, expected {item['reason']}: {result.message}"
    if expect == "unknown_object":
        said = " ".join(WORDS.findall(result.message.lower()))
        unnamed = [t for t in item.get("unknown_terms", []) if " ".join(WORDS.findall(str(t).lower())) not in said]
        if unnamed:
            return False, f"the reply does not name {unnamed}: {result.message}"
        missing = [k for k in item.get("known_similar") or [] if k not in result.candidates]
        if missing:
            return False, f"the reply does not offer {missing} (candidates {result.candidates}): {result.message}"
    if expect == "answer":
        mentions = [str(m) for m in item.get("mentions", [])]
        if mentions and NOT_KNOWN in result.message.lower():
            return False, f"the answer knows nothing of it: {result.message}"
        phrases = named_things(result.message, graph) if graph is not None else []
        named = set(result.candidates) | {next(iter(p)) for p in phrases if len(p) == 1}
        named |= {m for m in mentions if m in result.message or m.replace("_", " ") in result.message.lower()}
        missing = [m for m in mentions if m not in named]
        if missing:
            return False, f"the answer does not name {missing}: {result.message}"
        extra = (named - set(mentions)) | {min(p) for p in phrases if len(p) > 1 and not p & named}
        if len(extra) > max(ANSWER_ALLOWANCE, len(mentions)):
            return False, f"the answer names {len(extra)} things besides {mentions}: {result.message}"
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
        right, why = judge(item, result, graph)
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
                "split": split_of(item),
                "dataset": item.get("dataset", ""),
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


def split_of(item: dict[str, Any]) -> str:
    """An item's split; planner_commands.yaml has none: its rules were written against it, so it is dev."""
    return str(item.get("split", "dev"))


def latency(rows: list[dict[str, Any]]) -> dict[str, float]:
    latencies = sorted(r["seconds"] for r in rows)
    if not latencies:
        return {"median": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "median": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "max": latencies[-1],
    }


def accuracy(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"commands": len(rows), "accuracy": sum(r["right"] for r in rows) / len(rows) if rows else 0.0}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_split_category: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_category[row["category"]].append(row)
        by_split[row["split"]].append(row)
        by_split_category[row["split"]][row["category"]].append(row)
    return {
        "commands": len(rows),
        "accuracy": accuracy(rows)["accuracy"],
        "fallbacks": sum(any("used offline" in note for note in r["notes"]) for r in rows),
        "latency_s": latency(rows),
        "categories": {name: accuracy(rs) for name, rs in sorted(by_category.items())},
        "splits": {
            split: {
                **accuracy(rs),
                "latency_s": latency(rs),
                "categories": {name: accuracy(c) for name, c in sorted(by_split_category[split].items())},
            }
            for split, rs in sorted(by_split.items())
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
        f"Datasets: {', '.join(f'`{d}`' for d in report['datasets'])}; split: {report['split']} "
        "(an item without a split, as in planner_commands.yaml, counts as dev).",
        "",
        "| split | commands | right | latency median | p95 |",
        "|---|---|---|---|---|",
    ]
    for split, s in report["splits"].items():
        lines.append(
            f"| {split} | {s['commands']} | {s['accuracy']:.1%} | {s['latency_s']['median'] * 1000:.1f} ms "
            f"| {s['latency_s']['p95'] * 1000:.1f} ms |"
        )
    splits = list(report["splits"])
    lines += [
        "",
        "| category | " + " | ".join(f"{s} commands | {s} right" for s in splits) + " |",
        "|---|" + "---|---|" * len(splits),
    ]
    for name in report["categories"]:
        cells = []
        for split in splits:
            c = report["splits"][split]["categories"].get(name)
            cells += [str(c["commands"]), f"{c['accuracy']:.0%}"] if c else ["", ""]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if report["misses"]:
        lines += ["", "Misses:", ""]
        lines += [f"- `{m['id']}` [{m['split']}] ({m['command']}): {m['why']}" for m in report["misses"]]
    return "\n".join(lines)


def load_items(datasets: list[Path]) -> list[dict[str, Any]]:
    """The items of the files, each with its file's name; ids must be unique across them."""
    items: list[dict[str, Any]] = []
    for path in datasets:
        for item in yaml.safe_load(path.read_text(encoding="utf-8"))["commands"]:
            items.append({**item, "dataset": path.name})
    ids = [item["id"] for item in items]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SystemExit(f"ids used in more than one item: {twice[:10]}")
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", default="offline", choices=["offline", "llm_goal", "llm"])
    parser.add_argument("--model", default="", help="model client config as JSON (docs/models.md)")
    parser.add_argument("--no-fallback", action="store_true", help="a failing model is a miss, not offline")
    parser.add_argument(
        "--dataset", type=Path, action="append", help=f"a command file; repeat for several (default {DATASET.name})"
    )
    parser.add_argument("--split", default="all", choices=["dev", "test", "all"], help="only the items of a split")
    parser.add_argument("--ids", default="", help="only the items whose id matches this regular expression")
    parser.add_argument(
        "--per-category", type=int, default=0, help="only the first N commands of each category (0: all)"
    )
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    args = parser.parse_args()
    datasets: list[Path] = args.dataset or [DATASET]
    items = load_items(datasets)
    if args.split != "all":
        items = [item for item in items if split_of(item) == args.split]
    if args.ids:
        items = [item for item in items if re.search(args.ids, item["id"])]
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
        datasets=[str(d) for d in datasets],
        split=args.split,
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
