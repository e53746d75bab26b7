"""Helpers for tests that run real nodes: the rclpy.init guard and node processes.

Used by test/ros and test/e2e; usable by anyone testing against robot_agent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from robot_agent.ros_env import require_loopback_discovery


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
    """A Python module (``python -m module args``) or script (a path ending in .py) as its own process."""

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

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Everything the process printed so far."""
        return Path(self._log.name).read_text(errors="replace")

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT, then SIGKILL after ``timeout_s``; the exit code."""
        if self.running:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        self._log.close()
        return self.process.returncode
