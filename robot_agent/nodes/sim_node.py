"""The embedded MuJoCo world on the robot's ROS 2 contract (shared/design.md).

Publishes what a real robot's drivers publish: colour, aligned depth (32FC1 metres) and
camera_info, /odom, /tf and /tf_static, /joint_states, and /clock (run the other nodes with
use_sim_time). Follows /cmd_vel and JointTrajectory on the arm, gripper and head controllers.
Sim-only: ground truth on /sim/ground_truth, the oracle segmentation on /sim/oracle/segmentation,
and the services /sim/reset, /sim/inject_event, /sim/check (task conditions against the true state)
and /sim/pause_camera (std_srvs/SetBool: the camera goes silent, as a failing driver would).

Physics runs in its own thread (real time, or faster with real_time_factor), the camera in
another (it owns the OpenGL context); the executor serves subscriptions and services.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseWithCovariance, Twist, TwistWithCovariance, Vector3
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSPresetProfiles, QoSProfile
from robot_agent_interfaces.msg import InstanceSegmentation
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.srv import CheckConditions, InjectEvent, ResetSimulation
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Header
from std_srvs.srv import SetBool
from trajectory_msgs.msg import JointTrajectory

from perception.geometry import invert, make_transform
from robot_agent import names
from robot_agent.conversions import (
    intrinsics_to_camera_info,
    matrix_to_pose,
    ns_to_time,
    numpy_to_image,
    scene_graph_to_msg,
)
from robot_agent.node_main import run_node
from robot_agent.tf import StaticTransformBroadcaster, TransformBroadcaster, transform_stamped
from sim import robot as robot_model
from sim.camera import CameraRenderer, Frame
from sim.ground_truth import ground_truth_graph
from sim.scenario import Scenario, ScenarioError, load_scenario, load_yaml, parse_scenario
from sim.simulator import ROBOT_LINKS, CommandError, Simulator, TrajectoryPoint

OPTICAL_FRAME = "camera_color_optical_frame"
PHYSICS_CHUNK_S = 0.01  # simulated time per physics iteration (/clock period)
GROUND_TRUTH_PERIOD_S = 0.5
SERVICE_TIMEOUT_S = 30.0
T = TypeVar("T")
NS = 1_000_000_000

# Parent link of each moving robot link, as in the URDF (sim/gazebo.py).
LINK_PARENTS = {
    "link_lift": "base_link",
    "link_arm": "link_lift",
    "link_wrist_yaw": "link_arm",
    "link_finger_left": "link_wrist_yaw",
    "link_finger_right": "link_wrist_yaw",
    "link_head_pan": "base_link",
    "link_head_tilt": "link_head_pan",
}


def _stamp(seconds: float) -> Time:
    return ns_to_time(round(seconds * NS))


class SimNode(Node):
    def __init__(self) -> None:
        super().__init__("sim")
        world = self._declare("world", "kitchen", "Built-in world name or scenario file path")
        seed = self._declare("seed", 0, "Seed of the depth noise", IntegerRange(from_value=0, to_value=2**31 - 1))
        self._real_time_factor = self._declare(
            "real_time_factor", 1.0, "Simulated seconds per wall second; 0 runs as fast as it can",
            FloatingPointRange(from_value=0.0, to_value=100.0),
        )  # fmt: skip
        self._state_rate_hz = self._declare(
            "state_rate_hz", 50.0, "Rate of /odom, /tf and /joint_states (simulated time)",
            FloatingPointRange(from_value=1.0, to_value=500.0),
        )  # fmt: skip
        self._camera_rate_hz = self._declare(
            "camera_rate_hz", 0.0, "Camera frame rate (simulated time); 0: the scenario's camera.rate_hz",
            FloatingPointRange(from_value=0.0, to_value=60.0),
        )  # fmt: skip
        self._camera_enabled = self._declare("camera_enabled", True, "Render and publish the camera")

        self._lock = threading.RLock()  # the simulator, shared by the physics and camera threads
        self._pending: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any] | None]] = queue.SimpleQueue()
        self._sim = Simulator(load_scenario(world), seed)
        self._world = world
        self._stop = threading.Event()
        self._frame_requested = threading.Event()  # physics -> camera: a state to render is ready
        self._camera_idle = threading.Event()  # camera -> physics: the last frame is out
        self._camera_idle.set()
        self._render_data: Any = None  # mujoco.MjData: sim_node never imports mujoco before sim picks GL
        self._render_data_model: Any = None

        sensor_qos = QoSPresetProfiles.SENSOR_DATA.value
        self._color_pub = self.create_publisher(Image, "/camera/color/image_raw", sensor_qos)
        self._depth_pub = self.create_publisher(Image, "/camera/depth/image_raw", sensor_qos)
        self._info_pub = self.create_publisher(CameraInfo, "/camera/color/camera_info", sensor_qos)
        self._depth_info_pub = self.create_publisher(CameraInfo, "/camera/depth/camera_info", sensor_qos)
        self._segmentation_pub = self.create_publisher(InstanceSegmentation, "/sim/oracle/segmentation", sensor_qos)
        self._odom_pub = self.create_publisher(Odometry, "/odom", 10)
        self._joint_pub = self.create_publisher(JointState, "/joint_states", 10)
        self._clock_pub = self.create_publisher(Clock, "/clock", QoSProfile(depth=1))
        self._truth_pub = self.create_publisher(SceneGraphMsg, names.SIM_GROUND_TRUTH_TOPIC, 10)
        self._tf = TransformBroadcaster(self)
        self._tf_static = StaticTransformBroadcaster(self)

        commands = MutuallyExclusiveCallbackGroup()
        self.create_subscription(Twist, "/cmd_vel", self._on_cmd_vel, 10, callback_group=commands)
        for controller in robot_model.CONTROLLERS:
            self.create_subscription(
                JointTrajectory,
                f"/{controller}/joint_trajectory",
                lambda msg, c=controller: self._on_trajectory(c, msg),
                10,
                callback_group=commands,
            )
        self.create_service(ResetSimulation, names.SIM_RESET_SERVICE, self._on_reset, callback_group=commands)
        self.create_service(InjectEvent, names.SIM_INJECT_EVENT_SERVICE, self._on_inject_event, callback_group=commands)
        self.create_service(CheckConditions, names.SIM_CHECK_SERVICE, self._on_check, callback_group=commands)
        self._camera_paused = threading.Event()
        self.create_service(SetBool, names.SIM_PAUSE_CAMERA_SERVICE, self._on_pause_camera, callback_group=commands)

        self._publish_static_transforms()
        self._physics_thread = threading.Thread(
            target=self._until_shutdown, args=(self._physics_loop,), name="physics", daemon=True
        )
        self._physics_thread.start()
        self._camera_thread: threading.Thread | None = None
        if self._camera_enabled:
            self._camera_thread = threading.Thread(
                target=self._until_shutdown, args=(self._camera_loop,), name="camera", daemon=True
            )
            self._camera_thread.start()
        self.get_logger().info(
            f"world {self._sim.scenario.name}: {len(self._sim.object_ids)} objects, "
            f"real-time factor {self._real_time_factor or 'unlimited'}, GL {os.environ.get('MUJOCO_GL')}"
        )

    def _declare(self, name: str, default: Any, description: str, value_range: Any = None) -> Any:
        descriptor = ParameterDescriptor(description=description, read_only=True)
        if isinstance(value_range, FloatingPointRange):
            descriptor.floating_point_range = [value_range]
        elif isinstance(value_range, IntegerRange):
            descriptor.integer_range = [value_range]
        return self.declare_parameter(name, default, descriptor).value

    def _until_shutdown(self, loop: Callable[[], None]) -> None:
        """Run a loop thread; publishing may fail once the context is shut down under it."""
        try:
            loop()
        except Exception as error:
            if self.context.ok() and not self._stop.is_set():
                self.get_logger().fatal(f"{threading.current_thread().name} thread failed: {error!r}")
                raise

    def begin_shutdown(self) -> None:
        """Tell the physics and camera threads to stop (run_node, before it stops the callbacks)."""
        self._stop.set()

    def destroy_node(self) -> None:
        self._stop.set()
        self._physics_thread.join(timeout=5.0)
        if self._camera_thread is not None:
            self._camera_thread.join(timeout=5.0)
        super().destroy_node()

    # --- commands ----------------------------------------------------------------------------

    def _on_cmd_vel(self, msg: Twist) -> None:
        def command() -> None:
            try:
                note = self._sim.command_base_velocity(msg.linear.x, msg.linear.y, msg.angular.z)
            except CommandError as error:
                self.get_logger().warning(str(error), throttle_duration_sec=2.0)
                return
            if note:
                self.get_logger().warning(f"cmd_vel: {note}", throttle_duration_sec=2.0)

        self._pending.put((command, None))

    def _on_trajectory(self, controller: str, msg: JointTrajectory) -> None:
        def command() -> None:
            try:
                points = []
                for i, point in enumerate(msg.points):
                    if len(point.positions) != len(msg.joint_names):
                        raise CommandError(
                            f"point {i} has {len(point.positions)} positions for {len(msg.joint_names)} joints"
                        )
                    seconds = point.time_from_start.sec + point.time_from_start.nanosec / NS
                    positions = dict(zip(msg.joint_names, point.positions, strict=True))
                    points.append(TrajectoryPoint(seconds, positions))
                note = self._sim.follow_trajectory(controller, list(msg.joint_names), points)
            except CommandError as error:
                self.get_logger().warning(f"{controller}: trajectory rejected: {error}")
                return
            if note:
                self.get_logger().warning(f"{controller}: {note}")

        self._pending.put((command, None))

    def _in_physics_thread(self, action: Callable[[], T]) -> T:
        """Run ``action`` on the physics thread between two steps; its result or its exception."""
        future: Future[T] = Future()
        self._pending.put((action, future))
        return future.result(timeout=SERVICE_TIMEOUT_S)

    def _run_pending(self) -> None:
        """Commands and service actions queued by callbacks; the physics thread runs them in order."""
        while True:
            try:
                action, future = self._pending.get_nowait()
            except queue.Empty:
                return
            try:
                result = action()
            except Exception as error:  # noqa: BLE001  # handed to the waiting service callback
                if future is None:
                    self.get_logger().error(f"command failed: {error!r}")
                else:
                    future.set_exception(error)
            else:
                if future is not None:
                    future.set_result(result)

    def _on_reset(self, request: ResetSimulation.Request, response: ResetSimulation.Response) -> Any:
        world = request.world or self._world
        try:
            scenario = load_scenario(world)
        except ScenarioError as error:
            response.success, response.error_msg = False, str(error)
            return response

        def reset() -> None:
            self._sim.reset(scenario, None if request.seed < 0 else int(request.seed))
            self._world = world
            self._publish_static_transforms()

        self._in_physics_thread(reset)
        self.get_logger().info(f"reset to {scenario.name} (seed {self._sim.seed})")
        response.success, response.world = True, world
        return response

    def _on_inject_event(self, request: InjectEvent.Request, response: InjectEvent.Response) -> Any:
        def inject() -> str:
            document = load_yaml(request.event)
            if not isinstance(document, dict):
                raise ScenarioError("event: expected a mapping such as {action: remove, object: red_cup}")
            document.setdefault("when", {"at": 0.0})
            scenario = self._sim.scenario
            checked = parse_scenario({**scenario.model_dump(mode="json"), "events": [document]}, "event")
            return self._sim.apply_event(checked.events[0])

        try:
            response.description = self._in_physics_thread(inject)
        except (ScenarioError, CommandError, ValueError) as error:
            response.success, response.error_msg = False, str(error).replace("event: events[0].", "event: ")
            return response
        response.success = True
        return response

    def _on_pause_camera(self, request: SetBool.Request, response: SetBool.Response) -> Any:
        if request.data:
            self._camera_paused.set()
        else:
            self._camera_paused.clear()
        response.success, response.message = True, "camera paused" if request.data else "camera publishing"
        self.get_logger().info(response.message)
        return response

    def _on_check(self, request: CheckConditions.Request, response: CheckConditions.Response) -> Any:
        def check() -> tuple[list[bool], tuple[float, float, float]]:
            return [bool(self._sim.evaluate(text)) for text in request.conditions], self._sim.base_pose()

        try:
            holds, (x, y, yaw) = self._in_physics_thread(check)
        except ValueError as error:
            response.success, response.error_msg = False, str(error)
            return response
        response.success, response.holds, response.all_hold = True, holds, all(holds)
        response.robot_pose = f"{x:.3f} {y:.3f} {yaw:.3f}"
        return response

    # --- physics -----------------------------------------------------------------------------

    def _physics_loop(self) -> None:
        steps = max(1, round(PHYSICS_CHUNK_S / self._sim.timestep))
        state_period = 1.0 / self._state_rate_hz
        next_state = next_truth = next_frame = 0.0
        wall_start, sim_start = time.monotonic(), self._sim.time
        events_seen = 0
        now = sim_start
        while not self._stop.is_set() and self.context.ok():
            with self._lock:
                self._run_pending()
                if self._sim.time < now:  # the world was reset: its clock restarted
                    wall_start, sim_start, events_seen = time.monotonic(), self._sim.time, 0
                    next_state = next_truth = next_frame = 0.0
                self._sim.step(steps)
                now = self._sim.time
                self._clock_pub.publish(Clock(clock=_stamp(now)))
                if now >= next_state - 1e-9:
                    self._publish_state()
                    next_state = max(next_state + state_period, now)
                if self._camera_enabled and now >= next_frame:
                    self._publish_state()  # transforms at the frame's stamp, for whoever projects it
                    self._hand_frame_to_camera()
                    next_frame = max(next_frame + 1.0 / self._frame_rate_hz(), now)
                new_events = len(self._sim.event_log) != events_seen
                events_seen = len(self._sim.event_log)
            if now >= next_truth or new_events:
                self._publish_ground_truth()
                next_truth = now + GROUND_TRUTH_PERIOD_S
            if self._real_time_factor > 0:
                ahead = (now - sim_start) / self._real_time_factor - (time.monotonic() - wall_start)
                if ahead > 0:
                    self._stop.wait(ahead)  # pacing to real time, not waiting for an event

    def _publish_state(self) -> None:
        """Odometry, joint states and moving transforms; the caller holds the lock."""
        sim = self._sim
        stamp = _stamp(sim.time)
        x, y, yaw = sim.base_pose()
        vx, vy, wz = sim.base_velocity()
        odom_pose = matrix_to_pose(make_transform((x, y, 0.0), (0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2))))
        covariance = np.diag([1e-4, 1e-4, 1e-6, 1e-6, 1e-6, 1e-4]).reshape(36).tolist()
        self._odom_pub.publish(
            Odometry(
                header=Header(frame_id="odom", stamp=stamp),
                child_frame_id="base_link",
                pose=PoseWithCovariance(pose=odom_pose, covariance=covariance),
                twist=TwistWithCovariance(
                    twist=Twist(linear=Vector3(x=vx, y=vy, z=0.0), angular=Vector3(x=0.0, y=0.0, z=wz)),
                    covariance=covariance,
                ),
            )
        )
        positions, velocities = sim.joint_positions(), sim.joint_velocities()
        # The URDF's two finger joints each move half of joint_gripper.
        for joints in (positions, velocities):
            joints["joint_finger_left"] = joints["joint_finger_right"] = joints["joint_gripper"] / 2
        self._joint_pub.publish(
            JointState(
                header=Header(stamp=stamp),
                name=list(positions),
                position=list(positions.values()),
                velocity=[velocities[name] for name in positions],
            )
        )
        stamp_ns = round(sim.time * NS)
        world_to_base = sim.link_pose("base_link")
        transforms = [transform_stamped("odom", "base_link", world_to_base, stamp_ns)]
        poses = {link: sim.link_pose(link) for link in ROBOT_LINKS}
        for link, parent in LINK_PARENTS.items():
            transforms.append(transform_stamped(parent, link, invert(poses[parent]) @ poses[link], stamp_ns))
        self._tf.send(transforms)

    def _publish_static_transforms(self) -> None:
        """map -> odom (the simulator stands in for localisation) and the fixed robot frames."""
        with self._lock:
            sim = self._sim
            tilt = sim.link_pose("link_head_tilt")
            optical = invert(tilt) @ sim.camera_pose()
            wrist = sim.link_pose("link_wrist_yaw")
            grasp = sim.data.site_xpos[sim.model.site("link_grasp_center").id]
            wrist_to_grasp = make_transform(invert(wrist)[:3, :3] @ grasp + invert(wrist)[:3, 3])
        self._tf_static.send(
            [
                transform_stamped("map", "odom", np.eye(4), 0),
                transform_stamped("link_head_tilt", OPTICAL_FRAME, optical, 0),
                transform_stamped("link_wrist_yaw", "link_grasp_center", wrist_to_grasp, 0),
            ]
        )

    def _publish_ground_truth(self) -> None:
        """Every object's true pose (SIMULATION ONLY), furniture, rooms and the on-relations."""
        with self._lock:
            graph = ground_truth_graph(self._sim)
        self._truth_pub.publish(scene_graph_to_msg(graph))

    # --- camera ------------------------------------------------------------------------------

    def _frame_rate_hz(self) -> float:
        return float(self._camera_rate_hz or self._sim.scenario.camera.rate_hz)

    def _hand_frame_to_camera(self) -> None:
        """Copy the state for the camera thread; a frame is dropped while the last one renders."""
        if self._camera_idle.is_set() and self._camera_subscribed():
            self._render_data = self._sim.copy_state(self._render_data)
            self._render_data_model = self._sim.model
            self._camera_idle.clear()
            self._frame_requested.set()

    def _camera_loop(self) -> None:
        renderer: CameraRenderer | None = None
        model = None
        try:
            while not self._stop.is_set() and self.context.ok():
                if not self._frame_requested.wait(0.1):
                    continue
                self._frame_requested.clear()
                if self._camera_paused.is_set():  # a camera that went silent (/sim/pause_camera)
                    self._camera_idle.set()
                    continue
                with self._lock:
                    data = self._render_data
                    if renderer is None or model is not self._render_data_model:
                        if renderer is not None:
                            renderer.close()
                        sim = self._sim
                        renderer = CameraRenderer(sim.model, sim.scenario.camera, sim.object_geoms(), sim.seed)
                        model, scenario, object_ids = sim.model, sim.scenario, list(sim.object_ids)
                assert data is not None
                frame = renderer.render(data, segmentation=self._segmentation_pub.get_subscription_count() > 0)
                self._publish_frame(frame, renderer, scenario, object_ids)
                self._camera_idle.set()
        finally:
            if renderer is not None:
                renderer.close()

    def _camera_subscribed(self) -> bool:
        publishers = (self._color_pub, self._depth_pub, self._info_pub, self._depth_info_pub, self._segmentation_pub)
        return any(p.get_subscription_count() > 0 for p in publishers)

    def _publish_frame(self, frame: Frame, renderer: CameraRenderer, scenario: Scenario, object_ids: list[str]) -> None:
        stamp_ns = round(frame.time_s * NS)
        color = numpy_to_image(frame.color, "rgb8", OPTICAL_FRAME, stamp_ns)
        depth = numpy_to_image(frame.depth, "32FC1", OPTICAL_FRAME, stamp_ns)
        info = intrinsics_to_camera_info(renderer.intrinsics, OPTICAL_FRAME, stamp_ns)
        self._color_pub.publish(color)
        self._depth_pub.publish(depth)
        self._info_pub.publish(info)
        self._depth_info_pub.publish(info)
        if frame.instances is None:
            return
        present = np.unique(frame.instances)
        present = present[present > 0]
        labels = {o.id: o.label for o in scenario.all_objects()}
        self._segmentation_pub.publish(
            InstanceSegmentation(
                header=Header(frame_id=OPTICAL_FRAME, stamp=ns_to_time(stamp_ns)),
                mask=numpy_to_image(frame.instances, "16UC1", OPTICAL_FRAME, stamp_ns),
                instance_ids=[int(i) for i in present],
                object_ids=[object_ids[i - 1] for i in present],
                labels=[labels[object_ids[i - 1]] for i in present],
                source="sim_oracle",
            )
        )


def main(args: list[str] | None = None) -> None:
    sys.exit(run_node(SimNode, args))


if __name__ == "__main__":
    main()
