"""A node that hangs shows where: its threads' stacks, on SIGUSR1 (robot_agent/stack_dump.py) and
when a callback outlives the shutdown (robot_agent/node_main.py)."""

from __future__ import annotations

from pathlib import Path

from robot_agent.node_main import STUCK_EXIT_CODE
from robot_agent.ros_wait import wait_until
from robot_agent.testing import NodeProcess, failure_report

STUCK_NODE = str(Path(__file__).parent / "helpers" / "stuck_node.py")


def stuck_node() -> NodeProcess:
    node = NodeProcess(STUCK_NODE)
    wait_until(lambda: "stuck node blocks" in node.output(), 60.0, "the stuck node's blocking callback")
    return node


def test_a_callback_that_outlives_the_shutdown_ends_the_node_with_its_stack() -> None:
    node = stuck_node()
    code = node.stop(timeout_s=60.0)
    output = node.output()
    assert code == STUCK_EXIT_CODE, output
    assert "callbacks still running" in output and "block_forever" in output, output


def test_a_node_killed_for_not_stopping_prints_its_stacks_first() -> None:
    node = stuck_node()
    code = node.stop(timeout_s=0.5)  # shorter than run_node's own bound
    output = node.output()
    assert code == -9, output
    assert "most recent call first" in output and "block_forever" in output, output


def test_a_failure_report_shows_each_running_node_and_what_it_is_doing() -> None:
    node = stuck_node()
    try:
        [(title, text)] = failure_report([node])
        assert "stuck_node" in title and "running" in title
        assert "stuck node blocks" in text and "block_forever" in text, text
        assert node.running  # the report does not stop it
    finally:
        node.stop(timeout_s=0.5)


def test_ctrl_c_stops_a_node_whose_callback_would_swallow_the_interrupt() -> None:
    """Ctrl-C sets a flag the spin loop reads; raised inside a callback, a C extension would turn
    it into an ordinary error that is logged, and the node would spin on."""
    node = NodeProcess(str(Path(__file__).parent / "helpers" / "busy_node.py"))
    wait_until(lambda: "busy node works" in node.output(), 60.0, "the busy node's callback")
    code = node.stop(timeout_s=30.0)
    output = node.output()
    assert code == 0, output
    assert "a callback failed" not in output, output
