"""The waiting helpers and the background spinner under rclpy's thread races."""

from __future__ import annotations

import threading

from rclpy.context import Context
from rclpy.node import Node
from std_msgs.msg import String

from robot_agent.ros_wait import BackgroundSpinner, wait_for_message

TIMEOUT_S = 30.0


def test_the_spinner_survives_subscriptions_destroyed_while_it_waits(ros_context: Context) -> None:
    """wait_for_message destroys its subscription from the test thread while the executor spins;
    rclpy can then raise InvalidHandle in the executor (ros2/rclpy#1142). The spin must go on."""
    ros_node = Node("ros_wait_test", context=ros_context)
    spinner = BackgroundSpinner(ros_node, context=ros_context)
    publisher = ros_node.create_publisher(String, "/ros_wait_test", 10)
    stop = threading.Event()

    def keep_publishing() -> None:
        while not stop.wait(0.002):
            publisher.publish(String(data="tick"))

    talker = threading.Thread(target=keep_publishing, daemon=True)
    talker.start()
    try:
        for _ in range(200):  # each call creates and destroys a subscription under the spinning executor
            wait_for_message(ros_node, String, "/ros_wait_test", TIMEOUT_S)
        assert spinner.running
        assert wait_for_message(ros_node, String, "/ros_wait_test", TIMEOUT_S).data == "tick"
    finally:
        stop.set()
        talker.join(TIMEOUT_S)
        spinner.stop()
        ros_node.destroy_node()
