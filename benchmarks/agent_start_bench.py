"""Seconds from starting the agent node's process to its "agent ready" log line.

    python benchmarks/agent_start_bench.py [--runs N] [-- agent args...]

Runs on loopback discovery with a domain id of its own; the agent is stopped after each run.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from robot_agent.ros_env import loopback_environment

READY = "agent ready"


def measure(agent_args: list[str], timeout_s: float) -> float:
    env = loopback_environment(150 + os.getpid() % 50)
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "robot_agent.nodes.agent_node", *agent_args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if READY in line:
                return time.monotonic() - start
            if time.monotonic() - start > timeout_s:
                break
        raise RuntimeError(f"no {READY!r} line within {timeout_s} s")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("agent_args", nargs="*")
    options = parser.parse_args()
    times = [measure(options.agent_args, options.timeout) for _ in range(options.runs)]
    print("agent ready after " + ", ".join(f"{t:.2f}" for t in times) + f" s (min {min(times):.2f} s)")


if __name__ == "__main__":
    main()
