"""RobotInterface over ROS: odometry, transforms and joint states in; /cmd_vel and the head, arm
and gripper trajectory controllers out; the scene graph from perception, live obstacles from the
depth camera."""

from __future__ import annotations

import threading

from geometry_msgs.msg import Twist, Vector3
from nav_msgs.msg import Odometry
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSPresetProfiles
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from sensor_msgs.msg import CameraInfo, Image, JointState
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from control.arm.trajectory import JointTrajectoryPlan
from control.navigation.grid import OccupancyGrid
from control.navigation.obstacles import LiveObstacles
from control.robot import BasePose, RobotInterface
from perception.geometry import yaw_of
from perception.scene_graph import SceneGraph
from robot_agent import names
from robot_agent.conversions import (
    ImageConversionError,
    camera_info_to_intrinsics,
    depth_to_meters,
    image_to_numpy,
    pose_to_matrix,
    scene_graph_from_msg,
    seconds_to_duration,
    time_to_ns,
)
from robot_agent.tf import TransformLookup, make_transform_listener
from robot_agent.tf_buffer import TransformError

NS = 1e9
HEAD_JOINTS = ["joint_head_pan", "joint_head_tilt"]
TRAJECTORY_CONTROLLERS = ("arm_controller", "gripper_controller")
OBSTACLE_PERIOD_S = 0.2  # depth frames used for obstacles at most this often (robot clock)


class RosRobot(RobotInterface):
    """The robot as a node sees it. ``static_map`` None: no map, so nothing can be planned.

    Until perception publishes a scene graph, ``map_graph`` (the map's rooms and furniture) stands in.
    """

    def __init__(
        self,
        node: Node,
        static_map: OccupancyGrid | None,
        obstacles: LiveObstacles | None,
        map_graph: SceneGraph | None = None,
        map_frame: str = "map",
    ) -> None:
        self._node = node
        self._static_map = static_map
        self._map_graph = map_graph
        self._obstacles = obstacles
        self._map_frame = map_frame
        self._lock = threading.Lock()
        self._odom: Odometry | None = None
        self._head: tuple[float, float] | None = None
        self._joints: dict[str, float] | None = None
        self._scene: SceneGraph | None = None
        self._scene_msg: SceneGraphMsg | None = None
        self._depth_info: CameraInfo | None = None
        self._last_depth = -1.0
        self._tf: TransformLookup = make_transform_listener(node)
        sensors = MutuallyExclusiveCallbackGroup()
        node.create_subscription(Odometry, "/odom", self._on_odom, 10, callback_group=sensors)
        node.create_subscription(JointState, "/joint_states", self._on_joints, 10, callback_group=sensors)
        node.create_subscription(
            SceneGraphMsg, names.SCENE_GRAPH_TOPIC, self._on_scene, 10, callback_group=MutuallyExclusiveCallbackGroup()
        )
        if obstacles is not None:
            qos = QoSPresetProfiles.SENSOR_DATA.value
            depth_group = MutuallyExclusiveCallbackGroup()
            node.create_subscription(CameraInfo, "/camera/depth/camera_info", self._on_depth_info, qos,
                                     callback_group=depth_group)  # fmt: skip
            node.create_subscription(Image, "/camera/depth/image_raw", self._on_depth, qos, callback_group=depth_group)
        self._cmd_vel = node.create_publisher(Twist, "/cmd_vel", 10)
        self._head_pub = node.create_publisher(JointTrajectory, "/head_controller/joint_trajectory", 10)
        self._trajectory_pubs = {
            controller: node.create_publisher(JointTrajectory, f"/{controller}/joint_trajectory", 10)
            for controller in TRAJECTORY_CONTROLLERS
        }

    # --- input -------------------------------------------------------------------------------

    def _on_odom(self, msg: Odometry) -> None:
        with self._lock:
            self._odom = msg

    def _on_joints(self, msg: JointState) -> None:
        positions = {str(name): float(value) for name, value in zip(msg.name, msg.position, strict=False)}
        with self._lock:
            self._joints = {**(self._joints or {}), **positions}  # drivers may split joints over messages
            if all(j in positions for j in HEAD_JOINTS):
                self._head = (positions[HEAD_JOINTS[0]], positions[HEAD_JOINTS[1]])

    def _on_scene(self, msg: SceneGraphMsg) -> None:
        with self._lock:
            self._scene_msg = msg
            self._scene = None  # converted when asked for

    def _on_depth_info(self, msg: CameraInfo) -> None:
        self._depth_info = msg

    def _on_depth(self, msg: Image) -> None:
        info, pose, obstacles = self._depth_info, self.base_pose(), self._obstacles
        stamp = time_to_ns(msg.header.stamp) / NS
        if info is None or pose is None or obstacles is None or 0 <= stamp - self._last_depth < OBSTACLE_PERIOD_S:
            return
        self._last_depth = stamp
        try:
            depth = depth_to_meters(image_to_numpy(msg), msg.encoding)
            intrinsics = camera_info_to_intrinsics(info)
            camera = self._tf.lookup(self._map_frame, msg.header.frame_id, time_to_ns(msg.header.stamp))
        except (ImageConversionError, ValueError, TransformError) as error:
            self._node.get_logger().debug(f"depth frame not used for obstacles: {error}")
            return
        obstacles.add_frame(depth, intrinsics, camera, (pose.x, pose.y), stamp)

    # --- RobotInterface ----------------------------------------------------------------------

    def base_pose(self) -> BasePose | None:
        with self._lock:
            odom = self._odom
        if odom is None:
            return None
        try:
            map_to_odom = self._tf.lookup(self._map_frame, odom.header.frame_id, 0)
        except TransformError:
            return None
        base = map_to_odom @ pose_to_matrix(odom.pose.pose)
        return BasePose(float(base[0, 3]), float(base[1, 3]), yaw_of(base), time_to_ns(odom.header.stamp) / NS)

    def drive(self, linear: float, angular: float) -> None:
        self._cmd_vel.publish(Twist(linear=Vector3(x=float(linear)), angular=Vector3(z=float(angular))))

    def point_head(self, pan: float, tilt: float, seconds: float) -> None:
        point = JointTrajectoryPoint(positions=[float(pan), float(tilt)], time_from_start=seconds_to_duration(seconds))
        self._head_pub.publish(JointTrajectory(joint_names=HEAD_JOINTS, points=[point]))

    def head_angles(self) -> tuple[float, float] | None:
        with self._lock:
            return self._head

    def joint_positions(self) -> dict[str, float] | None:
        with self._lock:
            return dict(self._joints) if self._joints is not None else None

    def send_trajectory(self, controller: str, plan: JointTrajectoryPlan) -> None:
        publisher = self._trajectory_pubs.get(controller)
        if publisher is None:
            raise ValueError(f"unknown controller {controller!r}; controllers: {', '.join(self._trajectory_pubs)}")
        points = [
            JointTrajectoryPoint(
                positions=[float(v) for v in point.positions],
                velocities=[float(v) for v in point.velocities],
                time_from_start=seconds_to_duration(point.time_from_start),
            )
            for point in plan.points
        ]
        publisher.publish(JointTrajectory(joint_names=list(plan.joint_names), points=points))

    def scene(self) -> SceneGraph | None:
        with self._lock:
            if self._scene is None and self._scene_msg is not None:
                self._scene = scene_graph_from_msg(self._scene_msg)
            return self._scene if self._scene is not None else self._map_graph

    def static_map(self) -> OccupancyGrid | None:
        return self._static_map

    def obstacle_map(self) -> OccupancyGrid | None:
        if self._static_map is None:
            return None
        if self._obstacles is None:
            return self._static_map
        now = self._node.get_clock().now().nanoseconds / NS
        points = self._obstacles.points(now)
        return self._static_map.with_obstacles(points) if len(points) else self._static_map
