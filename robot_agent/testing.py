"""Helpers for tests that run real nodes: the rclpy.init guard, node processes, a skill client.

Used by test/ros and test/e2e; usable by anyone testing against robot_agent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.node import Node
from robot_agent_interfaces.action import ExecuteSkill

from robot_agent import names
from robot_agent.conversions import arguments_to_msg, seconds_to_duration
from robot_agent.ros_env import require_loopback_discovery
from robot_agent.ros_wait import BackgroundSpinner, wait_for_action_server, wait_for_future
from robot_agent.stack_dump import (
    STACK_DUMP_SIGNAL,
    STACK_DUMP_WAIT_S,
    catches_stack_dump_signal,
    dump_stacks_then_kill,
)


@contextmanager
def spun_test_node(prefix: str = "test") -> Iterator[Node]:
    """A node in a fresh rclpy context, spun by a background executor, torn down afterwards."""
    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(context=context)
    node = Node(f"{prefix}_{uuid.uuid4().hex[:8]}", context=context)
    spinner = BackgroundSpinner(node, context=context)
    try:
        yield node
    finally:
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def guard_rclpy_init() -> None:
    """Wrap rclpy.init so that it refuses to start unless discovery is confined to loopback."""
    import rclpy

    if getattr(rclpy.init, "_loopback_guard", False):
        return
    unguarded = rclpy.init

    def guarded_init(*args: Any, **kwargs: Any) -> Any:
        require_loopback_discovery()
        return unguarded(*args, **kwargs)

    guarded_init._loopback_guard = True  # type: ignore[attr-defined]
    rclpy.init = guarded_init


class NodeProcess:
    """A Python module (``python -m module args``) or script (a path ending in .py) as its own process.

    Every one started is kept in ``NodeProcess.started`` so that a failing test can show what its
    nodes printed and were doing (``failure_report``).
    """

    started: ClassVar[list[NodeProcess]] = []

    def __init__(self, module: str, *args: str, env: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if env is None else env)
        require_loopback_discovery(environ)
        self.module = module
        self._log = tempfile.NamedTemporaryFile(prefix=f"{Path(module).stem}-", suffix=".log", delete=False)  # noqa: SIM115
        target = [module] if module.endswith(".py") else ["-m", module]
        self.process = subprocess.Popen(
            [sys.executable, *target, *args],
            env=environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        NodeProcess.started.append(self)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the process printed so far."""
        return Path(self._log.name).read_text(errors="replace")

    def wait(self, timeout_s: float) -> int:
        """The exit code once the process ends by itself (subprocess.TimeoutExpired after ``timeout_s``)."""
        return self.process.wait(timeout_s)

    def output_tail(self, chars: int = 6000) -> str:
        text = self.output()
        return text if len(text) <= chars else "...\n" + text[-chars:]

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT, then SIGKILL after ``timeout_s``; the exit code.

        Before the kill, SIGUSR1 asks a node (robot_agent.node_main.run_node) to print every
        thread's stack into its output, to show what held it up (robot_agent/stack_dump.py).
        """
        if self.running:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                dump_stacks_then_kill(self.process)
                self.process.wait(timeout_s)
        self._log.close()
        return self.process.returncode


def failure_report(processes: list[NodeProcess]) -> list[tuple[str, str]]:
    """One (title, text) per process: each running one's thread stacks (SIGUSR1), then its output.

    For a test that failed while its nodes ran: a request nobody answered shows here as the
    server's log and what each of its threads was waiting on.
    """
    running = [p for p in processes if p.running and catches_stack_dump_signal(p.process.pid)]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.process.send_signal(STACK_DUMP_SIGNAL)
    deadline = time.monotonic() + STACK_DUMP_WAIT_S
    for process in running:  # a process that exits meanwhile has printed what it could
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.process.wait(max(0.0, deadline - time.monotonic()))
    sections = []
    for process in processes:
        state = "running" if process.running else f"exited {process.process.returncode}"
        sections.append((f"node {process.module} (pid {process.process.pid}, {state})", process.output_tail()))
    return sections


class SkillCaller:
    """Sends ExecuteSkill goals and records their feedback."""

    def __init__(self, node: Node, timeout_s: float = 20.0) -> None:
        self.timeout_s = timeout_s
        self.client: ActionClient = ActionClient(node, ExecuteSkill, names.EXECUTE_SKILL_ACTION)
        self.feedback: list[ExecuteSkill.Feedback] = []
        self.feedback_arrived = threading.Event()
        wait_for_action_server(self.client, timeout_s)

    def send(self, skill: str, arguments: dict[str, str], timeout_s: float = 0.0) -> ClientGoalHandle:
        goal = ExecuteSkill.Goal(
            skill=skill, arguments=arguments_to_msg(arguments), timeout=seconds_to_duration(timeout_s)
        )
        handle = wait_for_future(self.client.send_goal_async(goal, self._on_feedback), self.timeout_s, "goal response")
        assert handle.accepted
        return handle

    def _on_feedback(self, message: ExecuteSkill.Impl.FeedbackMessage) -> None:
        self.feedback.append(message.feedback)
        self.feedback_arrived.set()

    def result(self, handle: ClientGoalHandle) -> tuple[int, ExecuteSkill.Result]:
        response = wait_for_future(handle.get_result_async(), self.timeout_s, "skill result")
        return response.status, response.result
