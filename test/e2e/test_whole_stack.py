"""The whole stack under ``robot-agent up``: a command by ``robot-agent say`` judged against ground
truth, a node killed and reported, and a clean stop on Ctrl-C. (Pick and place through the whole
stack is measured by ``robot-agent bench``; as a test here it failed 2 of 3 runs under CI load.)

One stack for the whole module: it takes most of a minute to come up on a small machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from rclpy.node import Node

from robot_agent.ros_wait import wait_until
from robot_agent.testing import NodeProcess
from robot_agent.trial import TrialClient

STARTUP_S = 240.0
WORLD = "kitchen"


@pytest.fixture(scope="module")
def stack() -> Iterator[NodeProcess]:
    process = NodeProcess("robot_agent.cli", "up", f"world:={WORLD}")
    yield process
    process.stop(timeout_s=30.0)


def _pids(output: str) -> dict[str, int]:
    return {name: int(pid) for name, pid in re.findall(r"\[runner\] started (\w+) \(pid (\d+)\)", output)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_spoken_command_is_carried_out(stack: NodeProcess, ros_node: Node) -> None:
    trial = TrialClient(ros_node)
    trial.wait_ready(STARTUP_S)
    said = subprocess.run(
        [sys.executable, "-m", "robot_agent.cli", "say", "go to the dining room", "--timeout", "180"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert said.returncode == 0, said.stdout + said.stderr
    assert "you: go to the dining room" in said.stdout
    assert "GOTO(target=dining_room)" in said.stdout
    assert "done: " in said.stdout
    holds, pose = trial.check(["in(robot, dining_room)", "in(robot, kitchen)"])
    assert holds == [True, False], pose


def test_a_dead_node_is_reported_and_ctrl_c_stops_the_rest(stack: NodeProcess) -> None:
    pids = _pids(stack.output())
    assert set(pids) == {"sim", "skill_server", "perception", "agent"}
    os.kill(pids["perception"], 9)
    died = "perception died with exit code -9; the other nodes keep running"
    wait_until(lambda: died in stack.output(), 30.0, "the runner's report of the dead node")
    code = stack.stop(timeout_s=30.0)
    assert code == 1  # a node died on the way
    assert "[runner] stopped:" in stack.output()
    assert not any(_alive(pid) for pid in pids.values())
