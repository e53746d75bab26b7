"""The Gazebo contract adapter: base limits and command timeout, gripper joint to fingers and back."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from geometry_msgs.msg import Twist, Vector3
from rclpy.node import Node
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from robot_agent.conversions import seconds_to_duration
from robot_agent.ros_wait import MessageCollector, wait_for_subscribers, wait_until
from robot_agent.testing import NodeProcess
from sim.gazebo import ADAPTED_TOPICS

TIMEOUT_S = 20.0


def test_adapter_limits_times_out_and_maps_the_gripper(
    node_process: Callable[..., NodeProcess], ros_node: Node
) -> None:
    adapter = node_process("robot_agent.nodes.gz_adapter", "--base", "differential")
    twists: list[Twist] = []
    stopped = threading.Event()

    def on_twist(msg: Twist) -> None:
        twists.append(msg)
        if len(twists) > 1 and msg.linear.x == 0.0:
            stopped.set()

    twist_subscription = ros_node.create_subscription(Twist, ADAPTED_TOPICS["/cmd_vel"], on_twist, 10)
    cmd_vel = ros_node.create_publisher(Twist, "/cmd_vel", 10)
    wait_for_subscribers(cmd_vel, 1, TIMEOUT_S)
    wait_until(lambda: twist_subscription.get_publisher_count() >= 1, TIMEOUT_S, "the adapter's base topic")
    cmd_vel.publish(Twist(linear=Vector3(x=3.0, y=0.4)))
    assert stopped.wait(TIMEOUT_S), adapter.output()
    assert twists[0].linear.x == pytest.approx(0.5) and twists[0].linear.y == 0.0  # clamped, no sideways
    assert "clamped" in adapter.output()

    joint_states: MessageCollector[JointState] = MessageCollector()
    joint_subscription = ros_node.create_subscription(JointState, "/joint_states", joint_states, 10)
    gazebo_joints = ros_node.create_publisher(JointState, ADAPTED_TOPICS["/joint_states"], 10)
    wait_for_subscribers(gazebo_joints, 1, TIMEOUT_S)
    wait_until(lambda: ros_node.count_publishers("/joint_states") >= 1, TIMEOUT_S, "the adapter's /joint_states")
    wait_until(lambda: joint_subscription.get_publisher_count() >= 1, TIMEOUT_S, "a matched /joint_states")
    fingers = JointState(name=["joint_lift", "joint_finger_left", "joint_finger_right"], position=[0.6, 0.03, 0.03])
    gazebo_joints.publish(fingers)
    joints = joint_states.wait(TIMEOUT_S)
    positions = dict(zip(joints.name, joints.position, strict=True))
    assert positions["joint_gripper"] == pytest.approx(0.06) and positions["joint_lift"] == pytest.approx(0.6)

    finger_trajectories: MessageCollector[JointTrajectory] = MessageCollector()
    finger_subscription = ros_node.create_subscription(
        JointTrajectory, ADAPTED_TOPICS["/gripper_controller/joint_trajectory"], finger_trajectories, 10
    )
    gripper = ros_node.create_publisher(JointTrajectory, "/gripper_controller/joint_trajectory", 10)
    wait_for_subscribers(gripper, 1, TIMEOUT_S)
    wait_until(lambda: finger_subscription.get_publisher_count() >= 1, TIMEOUT_S, "the adapter's finger topic")
    gripper.publish(
        JointTrajectory(
            joint_names=["joint_gripper"],
            points=[JointTrajectoryPoint(positions=[0.08], time_from_start=seconds_to_duration(1.0))],
        )
    )
    split = finger_trajectories.wait(TIMEOUT_S)
    assert sorted(split.joint_names) == ["joint_finger_left", "joint_finger_right"]
    assert list(split.points[0].positions) == pytest.approx([0.04, 0.04])
