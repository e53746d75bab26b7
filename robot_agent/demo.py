"""``make demo`` / ``robot-agent demo``: the embedded world and the whole stack, two tasks, a report.

Starts the bringup (the same graph as ``ros2 launch robot_agent bringup.launch.py``) headless,
gives a multi-step command, then one during which a scripted person moves the target object
while the robot drives to it, prints progress as it goes and writes a report folder
(README.md with success against ground truth, timings and plans, camera frames, top-down maps).
Exit status 0 when every task was done, 1 when one was not, 2 when the stack did not come up.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from robot_agent.bringup import plan_bringup
from robot_agent.report import StepRecord, TrialResult, write_report
from sim.scenario import load_scenario

STARTUP_TIMEOUT_S = 240.0


@dataclass(frozen=True)
class DemoTask:
    name: str
    command: str
    success: tuple[str, ...]
    timeout_s: float
    # An event to inject when the plan's step with this index starts: (index, event YAML).
    event_at_step: tuple[int, str] | None = None


KITCHEN_TASKS = (
    DemoTask("bring_red_cup", "bring the red cup to the dining table", ("on(red_cup, dining_table)",), 300.0),
    DemoTask(
        "moved_blue_cup",
        "bring the blue cup to the dining table",
        ("on(blue_cup, dining_table)",),
        420.0,
        # While the robot drives to the cup, a person carries it over to the kitchen table.
        (0, "{action: move, object: blue_cup, to: {on: kitchen_table, at: [-0.4, -0.2]}}"),
    ),
)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _confine_discovery() -> None:
    """Keep DDS on this machine unless the caller chose otherwise; a domain of the demo's own."""
    if not os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") and not os.environ.get("ROS_LOCALHOST_ONLY"):
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("ROS_DOMAIN_ID", str(150 + os.getpid() % 80))


def run_demo(out_dir: Path, world: str = "kitchen", tasks: tuple[DemoTask, ...] = KITCHEN_TASKS) -> int:
    _confine_discovery()
    import rclpy
    from rclpy.node import Node

    from robot_agent.ros_wait import BackgroundSpinner
    from robot_agent.runner import run_bringup
    from robot_agent.trial import TrialClient, TrialError

    start = time.monotonic()
    if threading.current_thread() is threading.main_thread():  # SIGTERM stops the stack as Ctrl-C does
        signal.signal(signal.SIGTERM, _interrupt)

    def say(text: str) -> None:
        print(f"[demo {time.monotonic() - start:6.1f} s] {text}", flush=True)

    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "nodes.log"
    plan = plan_bringup({"world": world})
    say(f"starting the stack on the embedded {world} world: {', '.join(n.name for n in plan.nodes)} "
        f"(node output: {log_path}, ROS_DOMAIN_ID {os.environ['ROS_DOMAIN_ID']})")  # fmt: skip
    stop = threading.Event()
    status: list[int] = []
    log = log_path.open("w")
    stack = threading.Thread(target=lambda: status.append(run_bringup(plan, out=log, stop=stop)), daemon=True)
    stack.start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("robot_agent_demo", context=context)
    spinner = BackgroundSpinner(node, context=context, num_threads=4)
    results: list[TrialResult] = []
    try:
        client = TrialClient(node)
        try:
            client.wait_ready(STARTUP_TIMEOUT_S, progress=say)
        except TrialError as error:
            say(f"the stack did not come up: {error}; see {log_path}")
            return 2
        say("the stack is up")
        for number, task in enumerate(tasks, 1):
            say(f"task {number}/{len(tasks)}: '{task.command}'")

            def on_step(record: StepRecord, step: object, number: int = number) -> None:
                arguments = " ".join(record.arguments.values())
                say(f"  task {number}, step {record.index + 1}: {record.skill} {arguments}")

            events = dict([task.event_at_step]) if task.event_at_step else None
            result = client.run(
                task.command,
                task.success,
                task.timeout_s,
                on_step=on_step,
                on_event=lambda text: say(f"  a person acts: {text}"),
                events_at_step=events,
            )
            result.name = task.name
            results.append(result)
            verdict = "done" if result.success else f"NOT done ({result.error_msg or 'conditions do not hold'})"
            say(f"task {number}: {verdict} in {result.duration_s:.1f} s, {len(result.steps)} steps, "
                f"{result.replans} replans")  # fmt: skip
    finally:
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        stop.set()
        stack.join(30.0)
        log.close()
    if stack.is_alive() or (status and status[0] != 0):
        say(f"warning: a node died during the demo; see {log_path}")
    report = write_report(
        out_dir,
        load_scenario(world),
        results,
        "robot_agent demo",
        notes=[
            f"Started with `robot-agent up world:={world}` (the graph of bringup.launch.py); node output in "
            "[nodes.log](nodes.log)."
        ],
    )
    done = sum(r.success for r in results)
    say(f"{done} of {len(results)} tasks done; report: {report}")
    return 0 if done == len(results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robot-agent demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/demo"), help="report folder")
    options = parser.parse_args(argv)
    try:
        return run_demo(options.out)
    except KeyboardInterrupt:
        print("[demo] interrupted; the stack was stopped", flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
