"""Lines a person reads while a task runs: plan, step changes, replies, the result (``robot-agent say``).

Plain Python: the ROS client (robot_agent/say.py) feeds it converted messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from planning.plan import AgentState, PlanStep, TaskErrorCode


def describe_step(step: PlanStep) -> str:
    arguments = ", ".join(f"{name}={value}" for name, value in step.arguments.items())
    text = f"{step.skill}({arguments})"
    return f"{text}: {step.description}" if step.description else text


def state_name(state: int) -> str:
    try:
        return AgentState(state).name.lower().replace("_", " ")
    except ValueError:
        return f"state {state}"


def error_name(code: int) -> str:
    try:
        return TaskErrorCode(code).name
    except ValueError:
        return f"error {code}"


class TaskReport:
    """Prints what changed since the last update, each line stamped with seconds since the start."""

    def __init__(self, out: TextIO, clock: float = 0.0) -> None:
        self._out = out
        self._start = clock
        self._state: int | None = None
        self._plan: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
        self._step = -1
        self._message = ""

    def line(self, text: str, clock: float) -> None:
        self._out.write(f"[{clock - self._start:6.1f} s] {text}\n")
        self._out.flush()

    def progress(self, state: int, plan: Sequence[PlanStep], current_step: int, message: str, clock: float) -> None:
        if state != self._state:
            self._state = state
            self.line(state_name(state), clock)
        key = tuple((step.skill, tuple(sorted(step.arguments.items()))) for step in plan)
        if plan and key != self._plan:
            self._plan = key
            self.line(f"plan ({len(plan)} steps):", clock)
            for step in plan:
                self._out.write(f"           {step.index + 1}. {describe_step(step)}\n")
            self._step = -1
        if 0 <= current_step < len(plan) and current_step != self._step:
            self._step = current_step
            self.line(f"step {current_step + 1}/{len(plan)}: {describe_step(plan[current_step])}", clock)
        if message and message != self._message:
            self._message = message
            self.line(f"  {message}", clock)

    def response(self, text: str, clock: float) -> None:
        self.line(f"robot: {text}", clock)

    def result(self, success: bool, error_code: int, error_msg: str, summary: str, clock: float) -> None:
        if success:
            self.line(f"done: {summary}" if summary else "done", clock)
        else:
            reason = error_msg or summary or "no reason given"
            self.line(f"failed ({error_name(error_code)}): {reason}", clock)
