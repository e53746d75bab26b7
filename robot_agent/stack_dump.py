"""What a node that hangs is doing: SIGUSR1 prints every thread's Python stack, then a kill.

``run_node`` registers the handler in every node; the test helpers (robot_agent/testing.py) and
``robot-agent up`` (robot_agent/runner.py) send the signal to a node that ignored Ctrl-C, so the
stacks land in its output just before it is killed. By hand: ``kill -USR1 <pid>``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import subprocess
from pathlib import Path

STACK_DUMP_SIGNAL = signal.SIGUSR1
STACK_DUMP_WAIT_S = 1.0  # for the stacks to reach the output (or the process to end) before the kill


def print_stacks_on_signal() -> None:
    """From now on SIGUSR1 prints every thread's stack to stderr and the process goes on."""
    faulthandler.register(STACK_DUMP_SIGNAL, all_threads=True, chain=False)


def catches_stack_dump_signal(pid: int) -> bool:
    """Whether process ``pid`` handles SIGUSR1 (Linux /proc; elsewhere False): unhandled, it would end it."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next((line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) >> (STACK_DUMP_SIGNAL - 1) & 1)


def dump_stacks_then_kill(process: subprocess.Popen[bytes] | subprocess.Popen[str], group: bool = False) -> None:
    """SIGUSR1 to ``process`` where it handles it, then SIGKILL (to its process group if ``group``)."""
    send = (lambda sig: os.killpg(process.pid, sig)) if group else process.send_signal
    if catches_stack_dump_signal(process.pid):
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(STACK_DUMP_SIGNAL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STACK_DUMP_WAIT_S)
    with contextlib.suppress(ProcessLookupError):
        send(signal.SIGKILL)
