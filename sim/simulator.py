"""The embedded simulator: MuJoCo physics of a scenario, the robot's controllers and scripted events.

Plain Python, no rclpy: robot_agent/nodes/sim_node.py puts it on the ROS boundary. Not
thread-safe: the node serialises access with one lock.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import mujoco
import numpy as np
import numpy.typing as npt

from perception.geometry import Matrix4, make_transform
from sim import robot
from sim.mjcf import build_mjcf, placement_of, storage_slot
from sim.scenario import (
    AtTime,
    Event,
    Furniture,
    Holding,
    MoveEvent,
    RemoveEvent,
    RobotIn,
    RobotNear,
    Scenario,
    parse_condition,
)

LOGGER = logging.getLogger("sim")
ROBOT_LINKS = (
    "base_link", "link_lift", "link_arm", "link_wrist_yaw", "link_finger_left", "link_finger_right",
    "link_head_pan", "link_head_tilt",
)  # fmt: skip


class CommandError(ValueError):
    """A command to the simulated robot was rejected; the message says why."""


@dataclass
class TrajectoryPoint:
    time_s: float  # from the trajectory's start
    positions: dict[str, float]


@dataclass
class _ActiveTrajectory:
    start_time: float
    start_positions: dict[str, float]
    points: list[TrajectoryPoint]

    def targets(self, now: float) -> dict[str, float]:
        """Linear interpolation between the points (the start counts as a point at t=0)."""
        elapsed = now - self.start_time
        previous_time, previous = 0.0, self.start_positions
        for point in self.points:
            if elapsed <= point.time_s:
                span = point.time_s - previous_time
                ratio = 1.0 if span <= 0 else (elapsed - previous_time) / span
                return {j: previous[j] + ratio * (point.positions[j] - previous[j]) for j in point.positions}
            previous_time, previous = point.time_s, point.positions
        return dict(self.points[-1].positions)

    def done(self, now: float) -> bool:
        return now - self.start_time >= self.points[-1].time_s


@dataclass
class EventRecord:
    time_s: float
    description: str


@dataclass
class Simulator:
    scenario: Scenario
    seed: int = 0
    model: mujoco.MjModel = field(init=False)
    data: mujoco.MjData = field(init=False)

    def __post_init__(self) -> None:
        self.reset(self.scenario, self.seed)

    # --- set-up ------------------------------------------------------------------------------

    def reset(self, scenario: Scenario | None = None, seed: int | None = None) -> None:
        """Rebuild the world from a scenario (the current one by default); the clock restarts at 0."""
        if scenario is not None:
            self.scenario = scenario
        if seed is not None:
            self.seed = seed
        self.rng = np.random.default_rng(self.seed)
        self.model = mujoco.MjModel.from_xml_string(build_mjcf(self.scenario))
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._joint_qpos = {
            name: m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)]
            for name in ("base_x", "base_y", "base_yaw", "joint_lift", "joint_arm", "joint_wrist_yaw",
                         "joint_finger_left", "joint_finger_right", "joint_head_pan", "joint_head_tilt")
        }  # fmt: skip
        self._joint_qvel = {
            name: m.jnt_dofadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)] for name in self._joint_qpos
        }
        self._actuator = {m.actuator(i).name: i for i in range(m.nu)}
        self.object_ids = [o.id for o in self.scenario.all_objects()]
        self._object_body = {oid: m.body(f"object/{oid}").id for oid in self.object_ids}
        self._object_qpos = {oid: m.jnt_qposadr[m.joint(f"object/{oid}").id] for oid in self.object_ids}
        self._object_qvel = {oid: m.jnt_dofadr[m.joint(f"object/{oid}").id] for oid in self.object_ids}
        self._object_geom = {oid: m.geom(f"object/{oid}").id for oid in self.object_ids}
        self._finger_geoms = {m.geom("link_finger_left").id, m.geom("link_finger_right").id}
        self.present = {o.id for o in self.scenario.objects}
        x, y, yaw = self.scenario.robot.pose
        self.data.qpos[self._joint_qpos["base_x"]] = x
        self.data.qpos[self._joint_qpos["base_y"]] = y
        self.data.qpos[self._joint_qpos["base_yaw"]] = yaw
        for name, value in robot.HOME.items():
            self._set_joint_position(name, value)
        self._joint_targets = dict(robot.HOME)
        self._apply_joint_targets()
        self._base_command = np.zeros(3)
        self._base_command_time = -math.inf
        self._trajectories: dict[str, _ActiveTrajectory] = {}
        self._pending_events: list[Event] = list(self.scenario.events)
        self.event_log: list[EventRecord] = []
        mujoco.mj_forward(self.model, self.data)

    # --- time --------------------------------------------------------------------------------

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def timestep(self) -> float:
        return float(self.model.opt.timestep)

    def step(self, steps: int = 1) -> None:
        """Advance physics; controllers and scripted events run every step."""
        for _ in range(steps):
            self._update_base()
            self._update_trajectories()
            mujoco.mj_step(self.model, self.data)
            self._trigger_events()

    def advance(self, seconds: float) -> None:
        self.step(max(1, round(seconds / self.timestep)))

    # --- commands ----------------------------------------------------------------------------

    def command_base_velocity(self, linear_x: float, linear_y: float, angular_z: float) -> str | None:
        """Follow a body-frame velocity until the next command or the command timeout.

        Non-finite values are rejected (CommandError, the base stops); values beyond the limits
        are clamped, and the returned message says so.
        """
        values = (linear_x, linear_y, angular_z)
        if not all(math.isfinite(v) for v in values):
            self._base_command = np.zeros(3)
            raise CommandError(f"cmd_vel with non-finite values {values} rejected; the base stops")
        (linear_x, linear_y, angular_z), notes = robot.limit_base_velocity(
            linear_x, linear_y, angular_z, self.scenario.robot.base
        )
        self._base_command = np.array([linear_x, linear_y, angular_z])
        self._base_command_time = self.time
        return "; ".join(notes) or None

    def follow_trajectory(self, controller: str, joint_names: list[str], points: list[TrajectoryPoint]) -> str | None:
        """Start a joint trajectory on a controller, replacing the one it runs.

        Rejected (CommandError) when the controller or a joint is unknown, times do not increase,
        or a value is not finite; positions beyond the joint limits are clamped (the returned
        message says so).
        """
        allowed = robot.CONTROLLERS.get(controller)
        if allowed is None:
            raise CommandError(f"unknown controller {controller!r}; controllers: {', '.join(robot.CONTROLLERS)}")
        unknown = [j for j in joint_names if j not in allowed]
        if unknown or not joint_names:
            raise CommandError(f"{controller} moves {', '.join(allowed)}; not {', '.join(unknown) or 'no joints'}")
        if len(set(joint_names)) != len(joint_names):
            raise CommandError(f"{controller}: a joint is named twice in {joint_names}")
        if not points:
            raise CommandError(f"{controller}: the trajectory has no points")
        previous = -math.inf
        notes = []
        clamped_points = []
        for i, point in enumerate(points):
            if not math.isfinite(point.time_s) or point.time_s < 0 or point.time_s <= previous:
                raise CommandError(f"{controller}: point {i} time {point.time_s:g} s does not increase")
            previous = point.time_s
            if set(point.positions) != set(joint_names):
                raise CommandError(f"{controller}: point {i} must give a position for each of {joint_names}")
            positions = {}
            for joint, value in point.positions.items():
                if not math.isfinite(value):
                    raise CommandError(f"{controller}: point {i} {joint}={value} is not finite")
                spec = robot.JOINTS[joint]
                clamped = min(max(value, spec.lower), spec.upper)
                if clamped != value:
                    notes.append(f"{joint} {value:g} clamped to [{spec.lower:g}, {spec.upper:g}]")
                positions[joint] = clamped
            clamped_points.append(TrajectoryPoint(point.time_s, positions))
        current = {j: self._joint_targets[j] for j in joint_names}
        self._trajectories[controller] = _ActiveTrajectory(self.time, current, clamped_points)
        return "; ".join(notes) or None

    def trajectory_active(self, controller: str) -> bool:
        return controller in self._trajectories

    # --- events ------------------------------------------------------------------------------

    def apply_event(self, event: Event) -> str:
        """Carry out an event now (a person moving, removing or adding an object); a description."""
        if isinstance(event, MoveEvent):
            obj = next(o for o in self.scenario.all_objects() if o.id == event.object)
            place = placement_of(event.to, obj, self.scenario)
            self._place_object(obj.id, (place.x, place.y, place.z), place.yaw)
            self.present.add(obj.id)
            description = f"moved {obj.id}"
        elif isinstance(event, RemoveEvent):
            index = self.object_ids.index(event.object)
            self._place_object(event.object, storage_slot(index), 0.0)
            self.present.discard(event.object)
            description = f"removed {event.object}"
        else:
            obj = event.object
            if obj.id not in self._object_body:
                raise CommandError(f"object {obj.id!r} was not declared in the scenario, so it cannot be added")
            place = placement_of(obj.place, obj, self.scenario)
            self._place_object(obj.id, (place.x, place.y, place.z), place.yaw)
            self.present.add(obj.id)
            description = f"added {obj.id}"
        mujoco.mj_forward(self.model, self.data)
        self.event_log.append(EventRecord(self.time, description))
        LOGGER.info("event at %.2f s: %s", self.time, description)
        return description

    def _trigger_events(self) -> None:
        if not self._pending_events:
            return
        due = [e for e in self._pending_events if self._triggered(e)]
        for event in due:
            self._pending_events.remove(event)
            self.apply_event(event)

    def _triggered(self, event: Event) -> bool:
        trigger = event.when
        if isinstance(trigger, AtTime):
            return self.time >= trigger.at
        x, y, _ = self.base_pose()
        if isinstance(trigger, RobotIn):
            return self.scenario.room(trigger.robot_in).contains(x, y)
        if isinstance(trigger, RobotNear):
            target = self.position_of(trigger.robot_near)
            return target is not None and math.hypot(target[0] - x, target[1] - y) <= trigger.distance
        if isinstance(trigger, Holding):
            return self.holding(trigger.holding)
        return False

    # --- state -------------------------------------------------------------------------------

    def base_pose(self) -> tuple[float, float, float]:
        q = self.data.qpos
        return (float(q[self._joint_qpos["base_x"]]), float(q[self._joint_qpos["base_y"]]),
                float(q[self._joint_qpos["base_yaw"]]))  # fmt: skip

    def base_velocity(self) -> tuple[float, float, float]:
        """Body-frame velocity: forward, left, yaw rate."""
        v = self.data.qvel
        vx, vy = v[self._joint_qvel["base_x"]], v[self._joint_qvel["base_y"]]
        yaw = self.base_pose()[2]
        c, s = math.cos(yaw), math.sin(yaw)
        return (float(c * vx + s * vy), float(-s * vx + c * vy), float(v[self._joint_qvel["base_yaw"]]))

    def joint_positions(self) -> dict[str, float]:
        q = self.data.qpos
        positions = {name: float(q[self._joint_qpos[name]]) for name in robot.JOINTS if name != "joint_gripper"}
        positions["joint_gripper"] = float(
            q[self._joint_qpos["joint_finger_left"]] + q[self._joint_qpos["joint_finger_right"]]
        )
        return positions

    def joint_velocities(self) -> dict[str, float]:
        v = self.data.qvel
        velocities = {name: float(v[self._joint_qvel[name]]) for name in robot.JOINTS if name != "joint_gripper"}
        velocities["joint_gripper"] = float(
            v[self._joint_qvel["joint_finger_left"]] + v[self._joint_qvel["joint_finger_right"]]
        )
        return velocities

    def copy_state(self, target: mujoco.MjData | None = None) -> mujoco.MjData:
        """A copy of the simulation state (into ``target`` when it belongs to this model)."""
        if target is None or target.model is not self.model:
            target = mujoco.MjData(self.model)
        mujoco.mj_copyData(target, self.model, self.data)
        return target

    def object_geoms(self) -> list[int]:
        """Geom id of each object, in the order of ``object_ids``."""
        return [self._object_geom[oid] for oid in self.object_ids]

    def object_pose(self, object_id: str) -> Matrix4:
        """World pose of an object's centre (present or not)."""
        body = self._object_body[object_id]
        return make_transform(self.data.xpos[body], _xyzw(self.data.xquat[body]))

    def object_poses(self) -> dict[str, Matrix4]:
        """Poses of the objects that are in the world now."""
        return {oid: self.object_pose(oid) for oid in self.object_ids if oid in self.present}

    def position_of(self, entity_id: str) -> npt.NDArray[np.float64] | None:
        """Position of an object, a piece of furniture, a room's centre or the robot."""
        if entity_id == "robot":
            x, y, _ = self.base_pose()
            return np.array([x, y, 0.0])
        if entity_id in self._object_body:
            return self.object_pose(entity_id)[:3, 3] if entity_id in self.present else None
        for piece in self.scenario.furniture:
            if piece.id == entity_id:
                return np.array([piece.pose[0], piece.pose[1], piece.size[2]])
        for room in self.scenario.rooms:
            if room.id == entity_id:
                return np.array([(room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, 0.0])
        return None

    def link_pose(self, link: str) -> Matrix4:
        """World pose of a robot link (a body of the model)."""
        body = self.model.body(link).id
        return make_transform(self.data.xpos[body], _xyzw(self.data.xquat[body]))

    def camera_pose(self) -> Matrix4:
        """World pose of the camera's optical frame (z forward, x right, y down)."""
        camera = self.model.camera("head_camera").id
        pose = np.eye(4)
        # MuJoCo cameras look along -z with +y up; the optical frame flips y and z.
        pose[:3, :3] = self.data.cam_xmat[camera].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0])
        pose[:3, 3] = self.data.cam_xpos[camera]
        return pose

    def holding(self, object_id: str) -> bool:
        """True when both fingers touch the object and it is off every support."""
        geom = self._object_geom[object_id]
        touching = set()
        supported = False
        for contact in self.data.contact[: self.data.ncon]:
            pair = {int(contact.geom1), int(contact.geom2)}
            if geom in pair:
                other = (pair - {geom}).pop() if len(pair) == 2 else geom
                if other in self._finger_geoms:
                    touching.add(other)
                elif self.model.body_weldid[self.model.geom_bodyid[other]] == 0:  # welded to the world
                    supported = True
        return touching == self._finger_geoms and not supported

    def evaluate(self, condition: str) -> bool:
        """A task success condition such as ``on(red_cup, counter)`` against the true state."""
        negated, name, arguments = parse_condition(condition)
        return self._holds(name, arguments) != negated

    def _holds(self, name: str, arguments: tuple[str, ...]) -> bool:
        first = arguments[0]
        if name == "holding":
            return first in self.present and self.holding(first)
        position = self.position_of(first)
        if position is None:
            return False
        second = arguments[1]
        if name == "in":
            room = next((r for r in self.scenario.rooms if r.id == second), None)
            return room is not None and room.contains(position[0], position[1])
        piece = next((f for f in self.scenario.furniture if f.id == second), None)
        if name in ("at", "near"):
            radius = 1.0 if name == "at" else 0.5
            if piece is not None:  # from furniture's edge: a robot beside a long table is at it
                local_x, local_y = _in_footprint_frame(piece, position)
                outside = np.maximum(np.abs([local_x, local_y]) - np.asarray(piece.size[:2]) / 2, 0.0)
                return float(np.hypot(*outside)) <= radius
            target = self.position_of(second)
            return target is not None and math.hypot(*(position[:2] - target[:2])) <= radius
        # on(x, furniture): resting within the footprint, just above one of its surfaces
        if piece is None or first not in self._object_body:
            return False
        obj = next(o for o in self.scenario.all_objects() if o.id == first)
        local_x, local_y = _in_footprint_frame(piece, position)
        if abs(local_x) > piece.size[0] / 2 or abs(local_y) > piece.size[1] / 2:
            return False
        # Lowest point of its bounding box as it lies now: a carton that tipped over still rests on the table.
        rotation = self.object_pose(first)[:3, :3]
        bottom = position[2] - float(np.abs(rotation[2, :]) @ (np.asarray(obj.size, dtype=np.float64) / 2))
        return any(-0.03 <= bottom - h <= 0.05 for h in piece.surface_heights())

    # --- internals ---------------------------------------------------------------------------

    def _set_joint_position(self, name: str, value: float) -> None:
        if name == "joint_gripper":
            for finger in ("joint_finger_left", "joint_finger_right"):
                self.data.qpos[self._joint_qpos[finger]] = value / 2
        else:
            self.data.qpos[self._joint_qpos[name]] = value

    def _apply_joint_targets(self) -> None:
        for name, value in self._joint_targets.items():
            self.data.ctrl[self._actuator[name]] = value / 2 if name == "joint_gripper" else value

    def _update_base(self) -> None:
        if self.time - self._base_command_time > robot.BASE_LIMITS.command_timeout_s:
            self._base_command = np.zeros(3)
        vx, vy, wz = self._base_command
        yaw = self.base_pose()[2]
        c, s = math.cos(yaw), math.sin(yaw)
        self.data.ctrl[self._actuator["base_x"]] = c * vx - s * vy
        self.data.ctrl[self._actuator["base_y"]] = s * vx + c * vy
        self.data.ctrl[self._actuator["base_yaw"]] = wz

    def _update_trajectories(self) -> None:
        for controller, trajectory in list(self._trajectories.items()):
            self._joint_targets.update(trajectory.targets(self.time))
            if trajectory.done(self.time):
                del self._trajectories[controller]
        self._apply_joint_targets()

    def _place_object(self, object_id: str, position: tuple[float, float, float], yaw: float) -> None:
        address = self._object_qpos[object_id]
        self.data.qpos[address : address + 3] = position
        self.data.qpos[address + 3 : address + 7] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        velocity = self._object_qvel[object_id]
        self.data.qvel[velocity : velocity + 6] = 0.0


def _in_footprint_frame(piece: Furniture, position: npt.NDArray[np.float64]) -> tuple[float, float]:
    """A map point in the frame of a piece of furniture's footprint (its centre, its yaw)."""
    fx, fy, fyaw = piece.pose
    c, s = math.cos(fyaw), math.sin(fyaw)
    dx, dy = float(position[0]) - fx, float(position[1]) - fy
    return c * dx + s * dy, -s * dx + c * dy


def _xyzw(wxyz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])
