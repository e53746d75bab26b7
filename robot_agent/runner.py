"""``robot-agent up``: the bringup's nodes as processes, where ``ros2 launch`` is not installed.

Starts every node of robot_agent.bringup's plan with ``python -m <module> --ros-args ...`` and
one generated params file, prefixes each output line with the node's name (as ``ros2 launch``
does), reports a node that dies (the others keep running, as under ``ros2 launch``) and, on
Ctrl-C or SIGTERM, stops them all: SIGINT, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

import yaml

from robot_agent.bringup import BringupError, BringupPlan, NodePlan
from robot_agent.stack_dump import dump_stacks_then_kill

STOP_GRACE_S = 10.0


def node_command(node: NodePlan, params_file: Path, log_level: str) -> list[str]:
    """The command line of one node: its module with the generated params file and remappings."""
    command = [sys.executable, "-m", node.module, "--ros-args", "-r", f"__node:={node.name}"]
    command += ["--params-file", str(params_file), "--log-level", log_level]
    for source, target in node.remappings:
        command += ["-r", f"{source}:={target}"]
    return command


def write_params_file(plan: BringupPlan, folder: Path) -> Path:
    """Every node's parameters (the params file's, then the launch arguments') in one ROS 2 params file."""
    path = folder / "params.yaml"
    document = {node.name: {"ros__parameters": dict(node.parameters)} for node in plan.nodes}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def include_command(plan: BringupPlan) -> list[list[str]]:
    """Included launch files run through ``ros2 launch`` (Gazebo); a clear error where it is missing."""
    commands = []
    for include in plan.includes:
        ros2 = shutil.which("ros2")
        if ros2 is None:
            raise BringupError(
                f"sim:={plan.arguments['sim']} starts {include.launch_file} with `ros2 launch`, which is not "
                "installed here; start the simulator yourself and run `robot-agent up sim:=none use_sim_time:=true "
                f"map_file:={plan.arguments['world']}`"
            )
        arguments = [f"{name}:={value}" for name, value in include.arguments.items()]
        commands.append([ros2, "launch", "robot_agent", include.launch_file, *arguments])
    return commands


@dataclass
class ManagedProcess:
    name: str
    command: list[str]
    process: subprocess.Popen[str] | None = None
    exit_code: int | None = None
    tail: list[str] = field(default_factory=list)  # the last lines it printed


class Supervisor:
    """Starts processes, streams their output with a name prefix, reports deaths, stops them all."""

    TAIL_LINES = 20

    def __init__(self, out: TextIO | None = None, on_exit: Callable[[ManagedProcess], None] | None = None) -> None:
        self.processes: list[ManagedProcess] = []
        self.died: list[str] = []  # names of processes that ended before stop()
        self._out = out if out is not None else sys.stdout
        self._write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._on_exit = on_exit

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> ManagedProcess:
        managed = ManagedProcess(name, command)
        # Own session: a terminal's Ctrl-C reaches only the runner, which then stops each node once.
        managed.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.processes.append(managed)
        threading.Thread(target=self._pump, args=(managed,), name=f"out-{name}", daemon=True).start()
        self.print(f"[runner] started {name} (pid {managed.process.pid})")
        return managed

    def print(self, line: str) -> None:
        with self._write_lock:
            self._out.write(line + "\n")
            self._out.flush()

    def _pump(self, managed: ManagedProcess) -> None:
        assert managed.process is not None
        stream: IO[str] | None = managed.process.stdout
        assert stream is not None
        for line in stream:
            text = line.rstrip("\n")
            managed.tail = [*managed.tail[-(self.TAIL_LINES - 1) :], text]
            self.print(f"[{managed.name}] {text}")
        code = managed.process.wait()
        with self._changed:
            managed.exit_code = code
            self._changed.notify_all()
        if not self._stopping.is_set():
            self.died.append(managed.name)
            self.print(f"[runner] {managed.name} died with exit code {code}; the other nodes keep running")
            if self._on_exit is not None:
                self._on_exit(managed)

    def wait_for_change(self, timeout_s: float) -> None:
        """Return when a process ends, or after ``timeout_s``."""
        with self._changed:
            self._changed.wait(timeout_s)

    def stop(self, grace_s: float = STOP_GRACE_S) -> dict[str, int | None]:
        """SIGINT to every running process, SIGKILL to those still running after ``grace_s``; exit codes."""
        self._stopping.set()
        running = [m for m in self.processes if m.process is not None and m.process.poll() is None]
        for managed in running:
            assert managed.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(managed.process.pid, signal.SIGINT)
        for managed in running:
            assert managed.process is not None
            try:
                managed.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self.print(f"[runner] {managed.name} did not stop within {grace_s:.0f} s: its stacks, then killed")
                dump_stacks_then_kill(managed.process, group=True)
                managed.process.wait()
        return {m.name: (m.process.returncode if m.process is not None else None) for m in self.processes}


def run_bringup(plan: BringupPlan, out: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Start the plan's nodes and supervise them until ``stop`` is set (or Ctrl-C / SIGTERM); exit status.

    0 when every node was running until the end, 1 when one died on the way.
    """
    stop = stop if stop is not None else threading.Event()
    supervisor = Supervisor(out)
    folder = Path(tempfile.mkdtemp(prefix="robot_agent_up_"))
    params_file = write_params_file(plan, folder)
    includes = include_command(plan)

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {
        signum: signal.signal(signum, on_signal)
        for signum in (signal.SIGINT, signal.SIGTERM)
        if threading.current_thread() is threading.main_thread()
    }
    try:
        supervisor.print("[runner] " + ", ".join(f"{name}:={value}" for name, value in plan.arguments.items() if value))
        supervisor.print(f"[runner] parameters: {plan.params_file} -> {params_file}")
        for index, command in enumerate(includes):
            supervisor.start(f"include{index}", command)
        for node in plan.nodes:
            supervisor.start(node.name, node_command(node, params_file, plan.arguments["log_level"]))
        while not stop.is_set():
            supervisor.wait_for_change(0.5)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        supervisor.print("[runner] stopping")
        codes = supervisor.stop()
        supervisor.print("[runner] stopped: " + ", ".join(f"{name} {code}" for name, code in codes.items()))
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if supervisor.died else 0
