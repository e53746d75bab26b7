"""``robot-agent bench``: task scenarios through the whole stack, judged against ground truth.

    robot-agent bench --scenarios benchmarks/scenarios [--backend offline] [--ablation none] [--kinds moved,hidden]

Every task gets a fresh stack (the bringup's nodes, as ``robot-agent up`` starts them) on its own
copy of the world with the task's scripted events, so no task sees another's leftovers. Reliability
tasks add a disturbance: a node killed and restarted, a silent camera, an unreachable model
server, a flood of commands, malformed commands. Results: results.json, results.md and
success_by_kind.png in the output folder, with each task's node output under logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from robot_agent.bringup import BringupError, load_params_file, plan_bringup
from robot_agent.paths import config_file
from robot_agent.report import StepRecord
from robot_agent.task_report import error_name
from sim.scenario import ScenarioError
from sim.suite import Flood, LoadedSuite, SuiteTask, load_suites, wilson_interval

ABLATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "none": {},
    "no_filtering": {"perception": {"dynamic_filtering": False}},  # no missing objects: last-seen positions
    "no_replanning": {"agent": {"max_replans": 0}},
    "no_identity": {"perception": {"identity_hypotheses": False}},  # the tracker before issue 14
}
UNREACHABLE_MODEL = (
    '{"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "unreachable", "timeout_s": 2, "retries": 0}'
)
STARTUP_TIMEOUT_S = 240.0


@dataclass
class BenchSettings:
    backend: str = "offline"
    model: str = ""
    ablation: str = "none"
    real_time_factor: float = 1.0


@dataclass
class TaskOutcome:
    suite: str
    world: str
    id: str
    kind: str
    command: str
    success: bool
    reason: str  # why not, or what held
    duration_s: float
    steps: list[str] = field(default_factory=list)
    replans: int = 0
    agent_error: str = ""
    holds: list[bool] = field(default_factory=list)
    nodes_died: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _params_file(folder: Path, ablation: str) -> Path:
    """The bundled params with the ablation's changes; perception keeps its graph in a file, as on a
    robot (config/profiles), so a restarted perception node resumes it."""
    parameters = load_params_file(config_file("robot_agent.yaml"))
    parameters.setdefault("perception", {})["state_file"] = str(folder / "scene_graph.json")
    for node, changes in ABLATIONS[ablation].items():
        parameters.setdefault(node, {}).update(changes)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump({n: {"ros__parameters": p} for n, p in parameters.items()}, sort_keys=False))
    return path


class TaskBench:
    """Runs one task on a fresh stack; the ROS side of the benchmark."""

    def __init__(self, settings: BenchSettings, out: Path, say: Any) -> None:
        self.settings = settings
        self.out = out
        self.say = say

    def run(self, loaded: LoadedSuite, task: SuiteTask) -> TaskOutcome:
        import rclpy
        from rclpy.node import Node

        from robot_agent.ros_wait import BackgroundSpinner
        from robot_agent.runner import Supervisor, node_command, write_params_file
        from robot_agent.trial import TrialClient, TrialError

        folder = self.out / "logs" / task.id
        folder.mkdir(parents=True, exist_ok=True)
        world = folder / "world.yaml"
        world.write_text(yaml.safe_dump(loaded.task_scenario(task), sort_keys=False))
        disturbance = task.disturbance
        arguments = {
            "world": str(world),
            "backend": self.settings.backend,
            "model": self.settings.model,
            "real_time_factor": str(self.settings.real_time_factor),
            "params_file": str(_params_file(folder, self.settings.ablation)),
        }
        if disturbance is not None and disturbance.model_unreachable:
            arguments.update(backend="llm_goal", model=UNREACHABLE_MODEL)
        plan = plan_bringup(arguments)
        params = write_params_file(plan, folder)
        commands = {node.name: node_command(node, params, "info") for node in plan.nodes}
        outcome = TaskOutcome(loaded.name, loaded.scenario.name, task.id, task.kind, task.command, False, "", 0.0)
        killed: list[str] = []
        with (folder / "nodes.log").open("w") as log:
            supervisor = Supervisor(out=log)
            context = rclpy.Context()
            rclpy.init(context=context)
            node = Node(f"bench_{os.getpid()}", context=context)
            spinner = BackgroundSpinner(node, context=context, num_threads=4)
            try:  # from the first node started: whatever happens (Ctrl-C too), the stack is stopped
                for name, command in commands.items():
                    supervisor.start(name, command)
                client = TrialClient(node)
                client.wait_ready(STARTUP_TIMEOUT_S)
                accepted: list[str] = []  # malformed commands that were not refused
                if disturbance is not None:
                    accepted = self._send_malformed(client, disturbance.malformed, outcome)
                    if disturbance.flood is not None:
                        self._flood(node, disturbance.flood, outcome)

                disturbed = threading.Event()

                def disturb(step: StepRecord, _: object) -> None:
                    if disturbance is None or step.index != disturbance.at_step or disturbed.is_set():
                        return
                    disturbed.set()
                    if disturbance.kill_node is not None:
                        killed.append(disturbance.kill_node)
                        threading.Thread(target=self._restart, args=(supervisor, disturbance.kill_node,
                                         commands[disturbance.kill_node], disturbance.restart_after_s, outcome),
                                         daemon=True).start()  # fmt: skip
                    if disturbance.camera_silent_s is not None:
                        threading.Thread(target=self._silence, args=(client, disturbance.camera_silent_s, outcome),
                                         daemon=True).start()  # fmt: skip

                result = client.run(task.command, task.success, task.timeout_s, task.expect_refusal, on_step=disturb,
                                    frames=False)  # fmt: skip
                outcome.duration_s = result.duration_s
                outcome.steps = [f"{s.skill}({','.join(s.arguments.values())})" for s in result.steps]
                outcome.replans = result.replans
                outcome.holds = result.holds
                outcome.agent_error = "" if result.agent_success else error_name(result.error_code)
                outcome.success = result.success
                if not result.success:
                    outcome.reason = (
                        result.error_msg
                        or "the agent said done, but "
                        + ", ".join(c for c, h in zip(task.success, result.holds, strict=True) if not h)
                        + " does not hold"
                    )
                else:
                    outcome.reason = result.summary or result.error_msg
                if disturbance is not None and disturbance.model_unreachable:
                    reported = "offline" in (result.summary + result.error_msg)
                    outcome.notes.append("fallback reported" if reported else "fallback NOT reported")
                    outcome.success = outcome.success and reported
                if accepted:
                    outcome.success = False
                    outcome.reason = f"malformed commands were not refused: {', '.join(repr(a[:24]) for a in accepted)}"
            except (TrialError, BringupError) as error:
                outcome.reason = f"{type(error).__name__}: {error}"
            finally:
                spinner.stop()
                node.destroy_node()
                rclpy.try_shutdown(context=context)
                supervisor.stop()
        died = list(supervisor.died)
        for name in killed:  # the one killed on purpose; a second death of it still counts
            if name in died:
                died.remove(name)
        outcome.nodes_died = died
        if died:
            outcome.success = False
            outcome.reason = f"{', '.join(died)} died; {outcome.reason}"
        return outcome

    @staticmethod
    def _send_malformed(client: Any, texts: Sequence[str], outcome: TaskOutcome) -> list[str]:
        """Send each text as a command; the ones the agent did not refuse with a reason."""
        accepted = []
        for text in texts:
            answer = client.run(text, [], 60.0, frames=False)
            refused = not answer.agent_success and bool(answer.error_msg)
            outcome.notes.append(
                f"{text[:24]!r}: {'refused' if refused else 'NOT refused'} ({error_name(answer.error_code)})"
            )
            if not refused:
                accepted.append(text)
        return accepted

    @staticmethod
    def _flood(node: Any, flood: Flood, outcome: TaskOutcome) -> None:
        """Publish ``flood.rate_hz`` commands a second on the command topic for ``flood.duration_s``."""
        from std_msgs.msg import String

        from robot_agent import names

        publisher = node.create_publisher(String, names.COMMAND_TOPIC, 1000)
        count = round(flood.rate_hz * flood.duration_s)
        started = time.monotonic()
        pace = threading.Event()  # never set: waits keep the rate
        for index in range(count):
            publisher.publish(String(data=flood.command))
            pace.wait(max(0.0, started + (index + 1) / flood.rate_hz - time.monotonic()))
        outcome.notes.append(f"flooded {count} commands in {time.monotonic() - started:.1f} s")

    def _restart(self, supervisor: Any, name: str, command: list[str], after_s: float, outcome: TaskOutcome) -> None:
        import signal

        managed = next(m for m in reversed(supervisor.processes) if m.name == name)
        os.killpg(managed.process.pid, signal.SIGKILL)
        outcome.notes.append(f"killed {name}")
        threading.Event().wait(after_s)
        supervisor.start(name, command)
        outcome.notes.append(f"restarted {name} after {after_s:.0f} s")

    def _silence(self, client: Any, seconds: float, outcome: TaskOutcome) -> None:
        client.pause_camera(True)
        threading.Event().wait(seconds)
        client.pause_camera(False)
        outcome.notes.append(f"camera silent for {seconds:.0f} s")


def summarize(outcomes: Sequence[TaskOutcome], group: str) -> list[dict[str, Any]]:
    """Success per value of ``group`` ("kind" or "world"): count, rate, 95% interval, median time of successes."""
    rows = []
    for value in sorted({getattr(o, group) for o in outcomes}):
        chosen = [o for o in outcomes if getattr(o, group) == value]
        done = [o for o in chosen if o.success]
        low, high = wilson_interval(len(done), len(chosen))
        times = [o.duration_s for o in done]
        rows.append({group: value, "tasks": len(chosen), "done": len(done), "rate": len(done) / len(chosen),
                     "low": low, "high": high, "median_s": statistics.median(times) if times else None})  # fmt: skip
    return rows


def _table(rows: list[dict[str, Any]], group: str) -> list[str]:
    lines = [
        f"| {group} | tasks | done | success (95% interval) | median time of successes (s) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        median = "" if row["median_s"] is None else f"{row['median_s']:.0f}"
        lines.append(f"| {row[group]} | {row['tasks']} | {row['done']} | {row['rate']:.0%} "
                     f"({row['low']:.0%}-{row['high']:.0%}) | {median} |")  # fmt: skip
    return lines


def write_results(out: Path, outcomes: Sequence[TaskOutcome], settings: BenchSettings, command: str) -> Path:
    """results.json, results.md and success_by_kind.png; the Markdown's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    by_kind, by_world = summarize(outcomes, "kind"), summarize(outcomes, "world")
    (out / "results.json").write_text(json.dumps(
        {"settings": asdict(settings), "command": command, "tasks": [asdict(o) for o in outcomes],
         "by_kind": by_kind, "by_world": by_world}, indent=2))  # fmt: skip
    done = sum(o.success for o in outcomes)
    lines = [
        f"# Task benchmark: backend {settings.backend}, ablation {settings.ablation}",
        "",
        f"`{command}`: **{done} of {len(outcomes)}** tasks done, judged against the simulator's ground truth.",
        "",
        *_table(by_kind, "kind"),
        "",
        *_table(by_world, "world"),
        "",
        "![success by kind](success_by_kind.png)",
        "",
        "| task | kind | result | time (s) | steps | replans | why / notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        why = (o.reason if not o.success else "; ".join(o.notes)).replace("|", "/").replace("\n", " ")[:300]
        lines.append(f"| {o.id} | {o.kind} | {'done' if o.success else 'failed'} | {o.duration_s:.0f} | "
                     f"{' '.join(o.steps)} | {o.replans} | {why} |")  # fmt: skip
    path = out / "results.md"
    path.write_text("\n".join(lines) + "\n")
    figure, axes = plt.subplots(figsize=(7, 3.5), dpi=100)
    names = [row["kind"] for row in by_kind]
    rates = [row["rate"] * 100 for row in by_kind]
    errors = [
        [(row["rate"] - row["low"]) * 100 for row in by_kind],
        [(row["high"] - row["rate"]) * 100 for row in by_kind],
    ]
    axes.bar(names, rates, yerr=errors, capsize=4, color="tab:blue")
    axes.set_ylabel("tasks done (%)")
    axes.set_ylim(0, 105)
    axes.set_title(f"backend {settings.backend}, ablation {settings.ablation}: {done}/{len(outcomes)} done")
    axes.tick_params(axis="x", labelrotation=20)
    figure.savefig(out / "success_by_kind.png", bbox_inches="tight")
    plt.close(figure)
    return path


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robot-agent bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, nargs="+", default=[Path("benchmarks/scenarios")],
                        help="folders or files of task scenarios (sim/suite.py format)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None, help="results folder (default reports/bench/tasks/<label>)")
    parser.add_argument("--backend", default="offline", choices=["offline", "llm_goal", "llm"])
    parser.add_argument("--model", default="", help="model client config JSON for the llm backends")
    parser.add_argument("--ablation", default="none", choices=sorted(ABLATIONS))
    parser.add_argument("--kinds", default="", help="only these kinds, comma-separated (e.g. moved,hidden)")
    parser.add_argument("--tasks", default="", help="only these task ids, comma-separated")
    parser.add_argument("--real-time-factor", type=float, default=1.0, help="simulated seconds per wall second")
    options = parser.parse_args(argv)
    if not os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") and not os.environ.get("ROS_LOCALHOST_ONLY"):
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 80))
    try:
        suites = load_suites(options.scenarios)
    except ScenarioError as error:
        print(f"robot-agent bench: {error}", file=sys.stderr)
        return 2
    kinds = {k for k in options.kinds.split(",") if k}
    ids = {i for i in options.tasks.split(",") if i}
    chosen = [(s, t) for s in suites for t in s.suite.tasks
              if (not kinds or t.kind in kinds) and (not ids or t.id in ids)]  # fmt: skip
    if not chosen:
        print("robot-agent bench: no task matches --kinds/--tasks", file=sys.stderr)
        return 2
    settings = BenchSettings(options.backend, options.model, options.ablation, options.real_time_factor)
    label = settings.backend + ("" if settings.ablation == "none" else f"_{settings.ablation}")
    out = options.out or Path("reports/bench/tasks") / label
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[bench {time.monotonic() - started:7.1f} s] {text}", flush=True)

    command = "robot-agent bench " + " ".join(sys.argv[1:] if argv is None else argv)
    bench = TaskBench(settings, out, say)
    outcomes: list[TaskOutcome] = []
    signal.signal(signal.SIGTERM, _interrupt)  # a task's stack is stopped on SIGTERM as on Ctrl-C
    try:
        for number, (suite, task) in enumerate(chosen, 1):
            say(f"{number}/{len(chosen)} {suite.name}/{task.id} ({task.kind}): {task.command!r}")
            outcome = bench.run(suite, task)
            outcomes.append(outcome)
            verdict = "done" if outcome.success else f"FAILED: {outcome.reason[:160]}"
            notes = f" ({'; '.join(outcome.notes)})" if outcome.notes else ""
            say(f"    {verdict} in {outcome.duration_s:.0f} s{notes}")
            write_results(out, outcomes, settings, command)
    except KeyboardInterrupt:
        say(f"interrupted after {len(outcomes)} tasks; results so far: {out / 'results.md'}")
        return 130
    done = sum(o.success for o in outcomes)
    say(f"{done} of {len(outcomes)} tasks done; results: {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
