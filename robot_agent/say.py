"""``robot-agent say "..."``: one command to the agent, its progress and replies streamed until it ends.

Sends the command as an ExecuteTask goal (the command topic carries no result), prints the plan, each
step, what the robot says on /robot_agent/response and the result. Works against any running
stack: the embedded world, Gazebo or a robot (with ROS_DOMAIN_ID and discovery set to reach it).
Exit status: 0 done, 1 failed, 2 no agent answered, 3 timed out (the goal is cancelled), 130 Ctrl-C.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO

import rclpy
from rclpy.action import ActionClient
from rclpy.node import Node
from robot_agent_interfaces.action import ExecuteTask
from std_msgs.msg import String

from robot_agent import names
from robot_agent.conversions import plan_step_from_msg
from robot_agent.ros_wait import BackgroundSpinner
from robot_agent.task_report import TaskReport

EXIT_DONE, EXIT_FAILED, EXIT_NO_AGENT, EXIT_TIMEOUT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def say(command: str, timeout_s: float, server_wait_s: float = 10.0, out: TextIO | None = None) -> int:
    """Run ``command`` through the agent and report it on ``out``; the exit status (module docstring)."""
    out = out if out is not None else sys.stdout
    if not command.strip():
        out.write("robot-agent say: the command is empty\n")
        return EXIT_FAILED
    report = TaskReport(out, time.monotonic())
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("robot_agent_say", context=context, start_parameter_services=False)
    spinner = BackgroundSpinner(node, context=context, num_threads=2)
    goal_handle: Any = None
    try:
        node.create_subscription(
            String, names.RESPONSE_TOPIC, lambda msg: report.response(msg.data, time.monotonic()), 10
        )
        client: ActionClient = ActionClient(node, ExecuteTask, names.EXECUTE_TASK_ACTION)
        if not client.wait_for_server(timeout_sec=server_wait_s):
            out.write(
                f"robot-agent say: no agent answers on {names.EXECUTE_TASK_ACTION} within {server_wait_s:.0f} s "
                f"(is the stack up? `robot-agent up`; same ROS_DOMAIN_ID?)\n"
            )
            return EXIT_NO_AGENT

        def on_feedback(message: Any) -> None:
            feedback = message.feedback
            plan = [plan_step_from_msg(step) for step in feedback.plan]
            report.progress(feedback.state, plan, feedback.current_step, feedback.message, time.monotonic())

        report.line(f"you: {command}", time.monotonic())
        sent = client.send_goal_async(ExecuteTask.Goal(command=command), feedback_callback=on_feedback)
        accepted = threading.Event()
        sent.add_done_callback(lambda _: accepted.set())
        if not accepted.wait(server_wait_s):
            out.write("robot-agent say: the agent did not answer the goal\n")
            return EXIT_NO_AGENT
        goal_handle = sent.result()
        if not goal_handle.accepted:
            out.write("robot-agent say: the agent rejected the command\n")
            return EXIT_FAILED
        finished = threading.Event()
        result_future = goal_handle.get_result_async()
        result_future.add_done_callback(lambda _: finished.set())
        if not finished.wait(timeout_s):
            report.line(f"no result within {timeout_s:.0f} s: cancelling", time.monotonic())
            goal_handle.cancel_goal_async()
            return EXIT_TIMEOUT
        goal_handle = None
        result = result_future.result().result
        report.result(result.success, result.error_code, result.error_msg, result.summary, time.monotonic())
        return EXIT_DONE if result.success else EXIT_FAILED
    except KeyboardInterrupt:
        if goal_handle is not None:
            report.line("interrupted: cancelling the task", time.monotonic())
            done = threading.Event()
            goal_handle.cancel_goal_async().add_done_callback(lambda _: done.set())
            done.wait(3.0)
        return EXIT_INTERRUPTED
    finally:
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
