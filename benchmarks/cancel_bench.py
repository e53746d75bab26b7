"""Cancel benchmark: how soon the base is at rest after a GOTO is cancelled, idle and under load.

The sim node and the skill server run in their own processes over DDS (loopback, a domain of
this run's own), as in the ROS tests. Each trial sends GOTO to a piece of kitchen furniture,
cancels it once the base drives faster than 0.2 m/s, and measures, on the simulated clock, from
when the server heard the cancel (the result's ``cancel_requested_at``) to the first odometry
at rest. With ``--load N``, N busy processes compete for the CPU (a robot's computer is busy).

    python benchmarks/cancel_bench.py --trials 8 --load 0 2 --out reports/bench
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import load_scenario

TARGETS = ("sideboard", "dining_table", "counter")
TIMEOUT_S = 90.0
MOVING_M_S = 0.2


def _spin_forever() -> None:
    while True:
        pass


def first_rest(odom: Any, since: float) -> float | None:
    """The stamp of the first odometry at rest from ``since`` on (simulated seconds), or None."""
    from robot_agent.conversions import time_to_ns

    for m in list(odom.messages):
        stamp = time_to_ns(m.header.stamp) / 1e9
        if stamp >= since and abs(m.twist.twist.linear.x) < 0.02 and abs(m.twist.twist.angular.z) < 0.05:
            return stamp
    return None


def at_rest(odom: Any, since: float) -> bool:
    return first_rest(odom, since) is not None


def run_trials(trials: int, load: int) -> list[float]:
    """Cancel-to-rest delays in simulated seconds, one per trial that reached speed."""
    import rclpy
    from action_msgs.msg import GoalStatus
    from nav_msgs.msg import Odometry
    from rclpy.context import Context
    from rclpy.node import Node

    from robot_agent.conversions import arguments_from_msg
    from robot_agent.ros_wait import BackgroundSpinner, MessageCollector, wait_for_future, wait_for_message, wait_until
    from robot_agent.testing import NodeProcess, SkillCaller

    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"]["pose"] = [1.5, 2.5, 0.0]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        yaml.safe_dump(document, file)
    world = file.name
    common = ("-p", f"map_file:={world}", "-p", "use_sim_time:=true")
    processes = [
        NodeProcess("robot_agent.nodes.sim_node", "--ros-args", "-p", f"world:={world}"),
        NodeProcess("robot_agent.nodes.skill_server", "--ros-args", *common),
    ]
    burners = [multiprocessing.Process(target=_spin_forever, daemon=True) for _ in range(load)]
    for burner in burners:
        burner.start()
    context = Context()
    rclpy.init(context=context)
    node = Node(f"cancel_bench_{os.getpid()}", context=context)
    spinner = BackgroundSpinner(node, context=context)
    odom: MessageCollector[Odometry] = MessageCollector()
    node.create_subscription(Odometry, "/odom", odom, 50)
    delays: list[float] = []
    try:
        caller = SkillCaller(node, TIMEOUT_S)
        for trial in range(trials):
            handle = caller.send("GOTO", {"target": TARGETS[trial % len(TARGETS)]})
            try:
                wait_for_message(node, Odometry, "/odom", 30.0, predicate=lambda m: m.twist.twist.linear.x > MOVING_M_S)
            except TimeoutError:
                caller.result(handle)
                print(f"  trial {trial}: the base never reached {MOVING_M_S} m/s; skipped", flush=True)
                continue
            wait_for_future(handle.cancel_goal_async(), TIMEOUT_S, "cancel response")
            status, result = caller.result(handle)
            if status != GoalStatus.STATUS_CANCELED:
                print(f"  trial {trial}: ended {status} before the cancel; skipped", flush=True)
                continue
            cancelled_at = float(arguments_from_msg(result.outputs)["cancel_requested_at"])

            wait_until(functools.partial(at_rest, odom, cancelled_at), TIMEOUT_S, "the base at rest")
            delay = (first_rest(odom, cancelled_at) or cancelled_at) - cancelled_at
            delays.append(delay)
            print(f"  trial {trial}: at rest {delay * 1000:.0f} ms of simulated time after the cancel", flush=True)
    finally:
        for burner in burners:
            burner.terminate()
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        for process in reversed(processes):
            process.stop()
        Path(world).unlink(missing_ok=True)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--load", type=int, nargs="+", default=[0, 2], help="busy processes beside the stack")
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    options = parser.parse_args()

    from robot_agent.ros_env import loopback_environment

    os.environ.update(loopback_environment(100 + os.getpid() % 50))
    rows: list[dict[str, Any]] = []
    for load in options.load:
        print(f"cancel with {load} busy process(es) beside the stack ...", flush=True)
        delays = run_trials(options.trials, load)
        row = {
            "load": load,
            "trials": len(delays),
            "median_ms": round(statistics.median(delays) * 1000) if delays else None,
            "max_ms": round(max(delays) * 1000) if delays else None,
            "within_200_ms": sum(d <= 0.2 for d in delays),
        }
        rows.append(row)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "cancel_bench.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Cancel to rest (simulated time, GOTO in the kitchen)",
        "",
        f"CPUs: {os.cpu_count()}. Command: `python benchmarks/cancel_bench.py --trials {options.trials} --load "
        f"{' '.join(map(str, options.load))}`",
        "",
        "| busy processes | trials | median | max | within 200 ms |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['load']} | {row['trials']} | {row['median_ms']} ms | {row['max_ms']} ms | "
            f"{row['within_200_ms']}/{row['trials']} |"
        )
    (options.out / "cancel_bench.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
