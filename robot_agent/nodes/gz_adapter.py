"""Adapter between Gazebo (through ros_gz_bridge) and the robot's ROS contract.

Gazebo's systems differ from the contract in three places, which this node bridges on the ROS side:
/cmd_vel is clamped to the base limits and stops the base after the command timeout (Gazebo's
VelocityControl keeps the last command); /joint_states gains joint_gripper, the finger separation;
a trajectory for joint_gripper is split into the two finger joints. launch/gazebo.launch.py starts it.

    gz_adapter --base differential --ros-args -p use_sim_time:=true
"""

from __future__ import annotations

import argparse
import sys
from typing import Literal

import rclpy.utilities
from geometry_msgs.msg import Twist
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from robot_agent.node_main import run_node
from sim import gazebo
from sim.robot import BASE_LIMITS

GRIPPER_TOPIC = "/gripper_controller/joint_trajectory"


class GazeboAdapter(Node):
    """/cmd_vel, /joint_states and the gripper's trajectories with the embedded simulator's semantics."""

    def __init__(self, base: Literal["differential", "holonomic"]) -> None:
        super().__init__("gazebo_adapter")
        self._base = base
        topics = gazebo.ADAPTED_TOPICS
        self._twist_pub = self.create_publisher(Twist, topics["/cmd_vel"], 10)
        self._joint_pub = self.create_publisher(JointState, "/joint_states", 10)
        self._gripper_pub = self.create_publisher(JointTrajectory, topics[GRIPPER_TOPIC], 10)
        self.create_subscription(Twist, "/cmd_vel", self._on_cmd_vel, 10)
        self.create_subscription(JointState, topics["/joint_states"], self._on_joint_states, 10)
        self.create_subscription(JointTrajectory, GRIPPER_TOPIC, self._on_gripper, 10)
        self._moving_since: Time | None = None  # time of the last command that moves the base
        self.create_timer(0.05, self._stop_when_stale)

    def _on_cmd_vel(self, msg: Twist) -> None:
        (vx, vy, wz), note = gazebo.limit_base_command(msg.linear.x, msg.linear.y, msg.angular.z, self._base)
        if note:
            self.get_logger().warning(f"cmd_vel: {note}", throttle_duration_sec=2.0)
        out = Twist()
        out.linear.x, out.linear.y, out.angular.z = vx, vy, wz
        self._twist_pub.publish(out)
        self._moving_since = self.get_clock().now() if (vx, vy, wz) != (0.0, 0.0, 0.0) else None

    def _stop_when_stale(self) -> None:
        # Gazebo's VelocityControl keeps the last command; the contract stops after the timeout.
        if self._moving_since is None:
            return
        if (self.get_clock().now() - self._moving_since).nanoseconds > BASE_LIMITS.command_timeout_s * 1e9:
            self._twist_pub.publish(Twist())
            self._moving_since = None

    def _on_joint_states(self, msg: JointState) -> None:
        names, positions = gazebo.gripper_from_fingers(msg.name, msg.position)
        out = JointState(header=msg.header, name=names, position=positions)
        if len(msg.velocity) == len(msg.name):
            out.velocity = gazebo.gripper_from_fingers(msg.name, msg.velocity)[1]
        self._joint_pub.publish(out)

    def _on_gripper(self, msg: JointTrajectory) -> None:
        out = JointTrajectory(header=msg.header)
        out.joint_names = gazebo.fingers_from_gripper(msg.joint_names, [0.0] * len(msg.joint_names))[0]
        for point in msg.points:
            converted = JointTrajectoryPoint(time_from_start=point.time_from_start)
            for field in ("positions", "velocities", "accelerations"):
                values = getattr(point, field)
                if len(values) == len(msg.joint_names):
                    setattr(converted, field, gazebo.fingers_from_gripper(msg.joint_names, values)[1])
            if len(point.effort) == len(msg.joint_names):  # each finger pushes with the commanded force
                converted.effort = gazebo.fingers_from_gripper(msg.joint_names, point.effort, halve=False)[1]
            out.points.append(converted)
        self._gripper_pub.publish(out)


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", choices=["differential", "holonomic"], default="differential")
    options = parser.parse_args(rclpy.utilities.remove_ros_args(arguments)[1:])
    sys.exit(run_node(lambda: GazeboAdapter(options.base), args=arguments))


if __name__ == "__main__":
    main()
