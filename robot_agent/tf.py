"""/tf and /tf_static for nodes: broadcasters, and a listener that uses tf2_ros where it exists.

The messages are tf2_msgs/msg/TFMessage, so real ROS 2 tools and nodes read and write them. On a
robot tf2_ros is installed and ``make_transform_listener`` wraps its Buffer; on machines with ROS 2
from the PyPI wheels there is no tf2_ros, and robot_agent.tf_buffer does the same work.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np
from geometry_msgs.msg import TransformStamped
from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.time import Time
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage

from perception.geometry import Matrix4
from robot_agent.conversions import matrix_to_transform, ns_to_time, time_to_ns, transform_to_matrix
from robot_agent.tf_buffer import (
    ConnectivityError,
    ExtrapolationError,
    FrameNotFoundError,
    TransformBuffer,
    TransformError,
)

# The QoS profiles of tf2_ros (tf2_ros/qos.hpp).
TF_QOS = QoSProfile(depth=100, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
# This listener's /tf queue: short. A Python callback that falls behind a 50 Hz /tf (a busy CPU, the
# GIL shared with perception's worker) drains a queue of 100 two seconds late, and every frame
# newer than the newest transform is skipped; with 10 the backlog is 0.2 s and old ones drop (the
# buffer interpolates across the gap).
TF_LISTENER_QOS = QoSProfile(depth=10, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
TF_STATIC_LISTENER_QOS = QoSProfile(
    depth=100,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
TF_STATIC_BROADCASTER_QOS = QoSProfile(
    depth=1,
    history=HistoryPolicy.KEEP_LAST,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


def transform_stamped(parent: str, child: str, matrix: Matrix4, stamp_ns: int) -> TransformStamped:
    return TransformStamped(
        header=Header(frame_id=parent, stamp=ns_to_time(stamp_ns)),
        child_frame_id=child,
        transform=matrix_to_transform(matrix),
    )


class TransformBroadcaster:
    """Publishes timed transforms on /tf."""

    def __init__(self, node: Node) -> None:
        self.publisher = node.create_publisher(TFMessage, "/tf", TF_QOS)

    def send(self, transforms: Iterable[TransformStamped]) -> None:
        self.publisher.publish(TFMessage(transforms=list(transforms)))


class StaticTransformBroadcaster:
    """Publishes static transforms on /tf_static, latched; every send re-publishes all of them."""

    def __init__(self, node: Node) -> None:
        self.publisher = node.create_publisher(TFMessage, "/tf_static", TF_STATIC_BROADCASTER_QOS)
        self._by_child: dict[str, TransformStamped] = {}

    def send(self, transforms: Iterable[TransformStamped]) -> None:
        for transform in transforms:
            self._by_child[transform.child_frame_id] = transform
        self.publisher.publish(TFMessage(transforms=list(self._by_child.values())))


class TransformLookup(Protocol):
    """What nodes need from a transform listener."""

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> Matrix4:
        """T_target_source (maps source coordinates into target); raises TransformError."""
        ...

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool: ...


class TransformListener:
    """Fills a TransformBuffer from /tf and /tf_static. Malformed transforms are logged and skipped."""

    def __init__(self, node: Node, cache_time_s: float = 10.0) -> None:
        self.buffer = TransformBuffer(cache_time_s)
        self._logger = node.get_logger()
        self._subscriptions = [
            node.create_subscription(TFMessage, "/tf", lambda m: self._on_message(m, False), TF_LISTENER_QOS),
            node.create_subscription(
                TFMessage, "/tf_static", lambda m: self._on_message(m, True), TF_STATIC_LISTENER_QOS
            ),
        ]

    def _on_message(self, msg: TFMessage, static: bool) -> None:
        for transform in msg.transforms:
            try:
                self.buffer.set_transform(
                    transform.header.frame_id,
                    transform.child_frame_id,
                    time_to_ns(transform.header.stamp),
                    transform_to_matrix(transform.transform),
                    static=static,
                )
            except ValueError as error:
                self._logger.warning(f"ignoring transform: {error}", throttle_duration_sec=5.0)

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> Matrix4:
        return self.buffer.lookup(target, source, stamp_ns)

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool:
        return self.buffer.can_transform(target, source, stamp_ns)


class Tf2RosListener:
    """tf2_ros.Buffer and TransformListener behind the same small interface (robots with tf2_ros)."""

    def __init__(self, node: Node, cache_time_s: float = 10.0) -> None:
        import tf2_ros

        self._tf2_ros = tf2_ros
        self.buffer = tf2_ros.Buffer(cache_time=Duration(seconds=cache_time_s))
        self._listener = tf2_ros.TransformListener(self.buffer, node)

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> Matrix4:
        tf2 = self._tf2_ros
        try:
            msg = self.buffer.lookup_transform(target, source, Time(nanoseconds=stamp_ns))
        except tf2.LookupException as error:
            raise FrameNotFoundError(str(error)) from None
        except tf2.ConnectivityException as error:
            raise ConnectivityError(str(error)) from None
        except tf2.ExtrapolationException as error:
            raise ExtrapolationError(str(error)) from None
        except tf2.TransformException as error:
            raise TransformError(str(error)) from None
        return np.asarray(transform_to_matrix(msg.transform))

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool:
        return bool(self.buffer.can_transform(target, source, Time(nanoseconds=stamp_ns)))


def tf2_ros_available() -> bool:
    try:
        import tf2_ros  # noqa: F401
    except ImportError:
        return False
    return True


def make_transform_listener(node: Node, cache_time_s: float = 10.0) -> TransformLookup:
    """tf2_ros where it is installed, robot_agent's buffer otherwise."""
    if tf2_ros_available():
        return Tf2RosListener(node, cache_time_s)
    return TransformListener(node, cache_time_s)
