"""``robot-agent up``'s supervisor on plain processes: output, deaths, a clean stop, a kill when ignored."""

from __future__ import annotations

import io
import signal
import sys
import threading
from pathlib import Path

import pytest

from planning.plan import AgentState, PlanStep, TaskErrorCode
from robot_agent.bringup import BringupError, BringupPlan, NodePlan, plan_bringup
from robot_agent.runner import Supervisor, include_command, node_command, run_bringup
from robot_agent.task_report import TaskReport

WAIT_S = 20.0


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


class Lines(io.StringIO):
    """Output that lets a test wait for a line."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Condition()

    def write(self, text: str) -> int:
        with self.arrived:
            written = super().write(text)
            self.arrived.notify_all()
        return written

    def wait_for(self, fragment: str, timeout_s: float = WAIT_S) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: fragment in self.getvalue(), timeout_s), self.getvalue()


def test_output_is_prefixed_and_a_death_is_reported() -> None:
    out = Lines()
    supervisor = Supervisor(out)
    supervisor.start("talker", python("print('hello'); import sys; sys.exit(3)"))
    out.wait_for("talker died with exit code 3")
    assert "[talker] hello" in out.getvalue()
    assert supervisor.died == ["talker"]
    supervisor.stop()


def test_stop_interrupts_every_process_and_returns_their_codes() -> None:
    out = Lines()
    supervisor = Supervisor(out)
    waiting = (
        "import signal, sys, threading\nsignal.signal(signal.SIGINT, lambda *_: sys.exit(0))\n"
        "print('ready', flush=True)\nthreading.Event().wait(60)"
    )
    supervisor.start("a", python(waiting))
    supervisor.start("b", python(waiting))
    out.wait_for("[a] ready")
    out.wait_for("[b] ready")
    assert supervisor.stop(grace_s=WAIT_S) == {"a": 0, "b": 0}
    assert supervisor.died == []  # stopped, not died


def test_a_process_that_ignores_the_interrupt_is_killed_after_the_grace_period() -> None:
    out = Lines()
    supervisor = Supervisor(out)
    stubborn = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"
    )
    supervisor.start("stubborn", python(stubborn))
    out.wait_for("[stubborn] ready")
    assert supervisor.stop(grace_s=0.5) == {"stubborn": -signal.SIGKILL}
    assert "did not stop within" in out.getvalue()


def test_node_command_carries_the_name_params_and_remappings(tmp_path: Path) -> None:
    plan = plan_bringup({"sim": "none", "depth_topic": "/d435/depth/image_rect_raw"})
    command = node_command(plan.node("perception"), tmp_path / "params.yaml", "warn")
    assert command[:3] == [sys.executable, "-m", "robot_agent.nodes.perception_node"]
    assert "__node:=perception" in command
    assert command[command.index("--params-file") + 1] == str(tmp_path / "params.yaml")
    assert command[command.index("--log-level") + 1] == "warn"
    assert "/camera/depth/image_raw:=/d435/depth/image_rect_raw" in command


def test_gazebo_without_ros2_launch_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(BringupError, match="robot-agent up sim:=none use_sim_time:=true"):
        include_command(plan_bringup({"sim": "gazebo"}))
    monkeypatch.setattr("shutil.which", lambda name: "/opt/ros/jazzy/bin/ros2")
    assert include_command(plan_bringup({"sim": "gazebo", "world": "office"})) == [
        ["/opt/ros/jazzy/bin/ros2", "launch", "robot_agent", "gazebo.launch.py", "world:=office", "headless:=false"]
    ]


def test_run_bringup_reports_a_node_that_cannot_start() -> None:
    # A node whose module does not exist dies at once; the runner says so and exits 1 when stopped.
    plan = plan_bringup({"sim": "none"})
    broken = NodePlan("agent", "agent", "robot_agent.nodes.no_such_node")
    plan = BringupPlan(plan.arguments, plan.params_file, (broken,))
    out = Lines()
    stop = threading.Event()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(run_bringup(plan, out=out, stop=stop)))
    worker.start()
    out.wait_for("agent died with exit code 1")
    stop.set()
    worker.join(WAIT_S)
    assert result == [1]
    assert "No module named robot_agent.nodes.no_such_node" in out.getvalue()


def test_task_report_prints_the_plan_once_each_step_and_the_result() -> None:
    out = io.StringIO()
    report = TaskReport(out, clock=100.0)
    plan = [PlanStep(0, "GOTO", {"target": "counter"}, "go to the counter"), PlanStep(1, "PICK", {"object": "red_cup"})]
    report.progress(AgentState.PLANNING, [], -1, "planning: bring the cup", 100.1)
    report.progress(AgentState.EXECUTING, plan, 0, "go to the counter", 100.5)
    report.progress(AgentState.EXECUTING, plan, 0, "go to the counter", 101.0)  # nothing new
    report.progress(AgentState.EXECUTING, plan, 1, "pick up the red cup", 120.0)
    report.response("I picked up the red cup.", 125.0)
    report.result(False, TaskErrorCode.SKILL_FAILED, "the grasp slipped", "", 130.0)
    text = out.getvalue()
    assert text.count("plan (2 steps):") == 1
    assert "1. GOTO(target=counter): go to the counter" in text
    assert "step 2/2: PICK(object=red_cup)" in text
    assert "[  25.0 s] robot: I picked up the red cup." in text
    assert text.rstrip().endswith("failed (SKILL_FAILED): the grasp slipped")
    assert text.count("executing") == 1
