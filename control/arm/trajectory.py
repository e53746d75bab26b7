"""Joint trajectories for the arm: time parameterisation, Cartesian paths through IK, interpolation.

Timing (``time_parameterise``): the robot stops at each waypoint, and between two waypoints all
joints move along the straight joint-space segment with one shared trapezoidal speed profile
(accelerate, cruise, decelerate), as short as each joint's velocity limit (times the segment's
speed scale) and acceleration limit allow. Consecutive segments in the same joint-space direction
with the same scale are merged, so points along a line are passed without stopping. The plan is
sampled every ``sample_period_s`` with positions and velocities, so that a controller that
interpolates linearly between points (the simulator's) or with cubics (ros2_controllers') follows
the trapezoid closely.

With a constant wrist yaw the grasp centre is an affine function of the joints, so a straight
joint-space segment is a straight Cartesian one: ``cartesian_path_to_joints`` then needs no
intermediate points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from control.arm.kinematics import (
    ARM_JOINT_NAMES,
    DEFAULT_GEOMETRY,
    ArmGeometry,
    ArmJoints,
    BasePose,
    FloatArray,
    IkFailure,
    IkSolution,
    inverse,
)
from sim.robot import JOINTS

DEFAULT_RAMP_TIME_S = 0.5  # default acceleration limit: full speed reached in this time
_MOTION_EPSILON = 1e-9
_MIN_INTERVAL_S = 1e-6


class TrajectoryError(ValueError):
    """Waypoints, limits or scales that no trajectory can be made of; the message says why."""


@dataclass(frozen=True)
class JointLimit:
    lower: float
    upper: float
    max_velocity: float  # m/s or rad/s
    max_acceleration: float  # m/s^2 or rad/s^2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower <= self.upper):
            raise ValueError(f"joint range [{self.lower}, {self.upper}] must be finite and ordered")
        if not (self.max_velocity > 0.0 and self.max_acceleration > 0.0):
            raise ValueError(f"velocity {self.max_velocity} and acceleration {self.max_acceleration} must be > 0")


def default_limits(
    joint_names: Sequence[str] = ARM_JOINT_NAMES, ramp_time_s: float = DEFAULT_RAMP_TIME_S
) -> dict[str, JointLimit]:
    """Limits from sim/robot.py's JOINTS; the acceleration reaches full speed in ``ramp_time_s``."""
    if not ramp_time_s > 0.0:
        raise ValueError(f"ramp_time_s must be > 0, got {ramp_time_s}")
    limits = {}
    for name in joint_names:
        spec = JOINTS[name]
        limits[name] = JointLimit(spec.lower, spec.upper, spec.max_velocity, spec.max_velocity / ramp_time_s)
    return limits


@dataclass(frozen=True)
class PlanPoint:
    time_from_start: float  # s
    positions: tuple[float, ...]  # in the plan's joint order
    velocities: tuple[float, ...]


@dataclass(frozen=True)
class JointTrajectoryPlan:
    """A trajectory for one controller: joint names and timed points (the first at time 0 is the
    start). The shape of a trajectory_msgs/JointTrajectory."""

    joint_names: tuple[str, ...]
    points: tuple[PlanPoint, ...]

    def __post_init__(self) -> None:
        if not self.joint_names or len(set(self.joint_names)) != len(self.joint_names):
            raise TrajectoryError(f"a plan needs distinct joint names, got {self.joint_names}")
        if not self.points:
            raise TrajectoryError("a plan needs at least one point")
        previous = -math.inf
        for i, point in enumerate(self.points):
            if len(point.positions) != len(self.joint_names) or len(point.velocities) != len(self.joint_names):
                raise TrajectoryError(f"point {i} does not give a position and a velocity for each joint")
            if not (math.isfinite(point.time_from_start) and point.time_from_start >= 0.0):
                raise TrajectoryError(f"point {i} time {point.time_from_start} is not a finite time >= 0")
            if point.time_from_start <= previous:
                raise TrajectoryError(f"point {i} time {point.time_from_start} does not increase")
            previous = point.time_from_start

    @property
    def duration(self) -> float:
        return self.points[-1].time_from_start

    def positions_at(self, index: int) -> dict[str, float]:
        return dict(zip(self.joint_names, self.points[index].positions, strict=True))

    @property
    def goal(self) -> dict[str, float]:
        return self.positions_at(-1)

    def times(self) -> FloatArray:
        return np.array([p.time_from_start for p in self.points])

    def position_array(self) -> FloatArray:
        """(points, joints)."""
        return np.array([p.positions for p in self.points], dtype=np.float64)


def _waypoint_array(
    waypoints: Sequence[ArmJoints | Mapping[str, float]], joint_names: Sequence[str] | None
) -> tuple[tuple[str, ...], FloatArray]:
    if not waypoints:
        raise TrajectoryError("no waypoints")
    first = waypoints[0]
    if joint_names is not None:
        names = tuple(joint_names)
    elif isinstance(first, ArmJoints):
        names = ARM_JOINT_NAMES
    else:
        names = tuple(first)
    rows = []
    for i, waypoint in enumerate(waypoints):
        values = waypoint.as_dict() if isinstance(waypoint, ArmJoints) else dict(waypoint)
        if set(values) != set(names):
            raise TrajectoryError(f"waypoint {i} names {sorted(values)}, expected {sorted(names)}")
        rows.append([float(values[name]) for name in names])
    array = np.array(rows, dtype=np.float64)
    if not np.isfinite(array).all():
        raise TrajectoryError("a waypoint has a value that is not finite")
    return names, array


def _segment_scales(speed_scale: float | Sequence[float], segments: int) -> list[float]:
    scales = [float(speed_scale)] * segments if isinstance(speed_scale, (int, float)) else list(speed_scale)
    if len(scales) != segments:
        raise TrajectoryError(f"{len(scales)} speed scales for {segments} segments")
    for scale in scales:
        if not (math.isfinite(scale) and 0.0 < scale <= 1.0):
            raise TrajectoryError(f"speed scale {scale} is not in (0, 1]")
    return scales


def _merge_segments(positions: FloatArray, scales: list[float]) -> tuple[FloatArray, list[float]]:
    """Drops waypoints that repeat the previous one, and those in the middle of a straight run."""
    kept: list[FloatArray] = [positions[0]]
    kept_scales: list[float] = []
    for point, scale in zip(positions[1:], scales, strict=True):
        step = point - kept[-1]
        if np.abs(step).max() <= _MOTION_EPSILON:
            continue
        if kept_scales and scale == kept_scales[-1]:
            previous = kept[-1] - kept[-2]
            cosine = float(step @ previous) / (float(np.linalg.norm(step)) * float(np.linalg.norm(previous)))
            if cosine > 1.0 - 1e-12:
                kept[-1] = point
                continue
        kept.append(point)
        kept_scales.append(scale)
    return np.array(kept), kept_scales


@dataclass(frozen=True)
class _Profile:
    """A trapezoidal profile of the path parameter s from 0 to 1 (triangular when it is short)."""

    duration: float
    ramp: float  # s spent accelerating (and decelerating)
    acceleration: float  # of s
    peak: float  # top speed of s

    @classmethod
    def fastest(cls, speed: float, acceleration: float) -> _Profile:
        if speed * speed / acceleration >= 1.0:  # never reaches ``speed``
            ramp = 1.0 / math.sqrt(acceleration)
            return cls(2.0 * ramp, ramp, acceleration, acceleration * ramp)
        ramp = speed / acceleration
        return cls(1.0 / speed + ramp, ramp, acceleration, speed)

    def corners(self) -> FloatArray:
        return np.array([self.ramp, self.duration - self.ramp])

    def at(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """s and ds/dt at times t in [0, duration]."""
        a, ramp, peak, end = self.acceleration, self.ramp, self.peak, self.duration
        s = np.where(
            t < ramp,
            0.5 * a * t * t,
            np.where(t <= end - ramp, 0.5 * a * ramp * ramp + peak * (t - ramp), 1.0 - 0.5 * a * (end - t) ** 2),
        )
        rate = np.where(t < ramp, a * t, np.where(t <= end - ramp, peak, a * (end - t)))
        return np.clip(s, 0.0, 1.0), rate


def time_parameterise(
    waypoints: Sequence[ArmJoints | Mapping[str, float]],
    limits: Mapping[str, JointLimit] | None = None,
    speed_scale: float | Sequence[float] = 1.0,
    sample_period_s: float = 0.1,
    joint_names: Sequence[str] | None = None,
    limit_margin: float = 1e-3,
) -> JointTrajectoryPlan:
    """A timed plan through joint waypoints (the first is where the joints are now), stopping at each.

    ``waypoints``: ArmJoints, or joint positions by name (all naming the same joints; any joints
    of JOINTS, e.g. ``{"joint_gripper": 0.02}``). ``limits``: per joint, by default
    ``default_limits``. ``speed_scale``: the share of each joint's velocity limit to use, one for the
    whole plan or one per segment (len(waypoints) - 1), each in (0, 1]. Waypoints up to
    ``limit_margin`` outside a joint's range are moved onto it (joint states read at a limit
    overshoot it a little); farther out, non-finite values or bad scales raise TrajectoryError.
    """
    names, positions = _waypoint_array(waypoints, joint_names)
    if limits is None:
        unknown = [n for n in names if n not in JOINTS]
        if unknown:
            raise TrajectoryError(f"no default limits for {unknown}: pass limits")
        limits = default_limits(names)
    missing = [n for n in names if n not in limits]
    if missing:
        raise TrajectoryError(f"no limits for {missing}")
    if not (math.isfinite(sample_period_s) and sample_period_s > 0.0):
        raise TrajectoryError(f"sample_period_s must be > 0, got {sample_period_s}")
    lower = np.array([limits[n].lower for n in names])
    upper = np.array([limits[n].upper for n in names])
    outside = np.argwhere((positions < lower - limit_margin) | (positions > upper + limit_margin))
    if len(outside):
        i, j = (int(v) for v in outside[0])
        raise TrajectoryError(f"waypoint {i}: {names[j]} {positions[i, j]:g} is outside [{lower[j]:g}, {upper[j]:g}]")
    positions = np.clip(positions, lower, upper)
    scales = _segment_scales(speed_scale, len(positions) - 1)
    velocity = np.array([limits[n].max_velocity for n in names])
    acceleration = np.array([limits[n].max_acceleration for n in names])
    kept, kept_scales = _merge_segments(positions, scales)

    zero = tuple(0.0 for _ in names)
    points = [PlanPoint(0.0, tuple(float(v) for v in kept[0]), zero)]
    start_time = 0.0
    for start, end, scale in zip(kept[:-1], kept[1:], kept_scales, strict=True):
        delta = end - start
        moving = np.abs(delta) > _MOTION_EPSILON
        # The path parameter's limits: the tightest over the moving joints.
        speed = float(np.min(velocity[moving] * scale / np.abs(delta[moving])))
        accel = float(np.min(acceleration[moving] / np.abs(delta[moving])))
        profile = _Profile.fastest(speed, accel)
        count = max(math.ceil(profile.duration / sample_period_s - 1e-9), 2)
        # Samples, and the profile's corners, so that each interval lies in one phase of it.
        t = np.unique(np.concatenate([np.linspace(0.0, profile.duration, count + 1)[1:], profile.corners()]))
        t = t[np.concatenate([[t[0] > _MIN_INTERVAL_S], np.diff(t) > _MIN_INTERVAL_S])]
        t[-1] = profile.duration
        s, rate = profile.at(t)
        sampled = start + s[:, None] * delta
        rates = rate[:, None] * delta
        rates[-1] = 0.0
        sampled[-1] = end
        for time, position, rate_row in zip(t, sampled, rates, strict=True):
            points.append(
                PlanPoint(
                    start_time + float(time), tuple(float(v) for v in position), tuple(float(v) for v in rate_row)
                )
            )
        start_time += profile.duration
    return JointTrajectoryPlan(names, tuple(points))


def interpolate_array(plan: JointTrajectoryPlan, times: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Positions and velocities, (len(times), joints), at times from the plan's start (held before
    the first point and after the last): cubic Hermite between points, from their positions and
    velocities, as ros2_controllers' joint_trajectory_controller interpolates."""
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    knots = plan.times()
    q = plan.position_array()
    v = np.array([p.velocities for p in plan.points], dtype=np.float64)
    if len(knots) == 1:
        return np.repeat(q, len(t), axis=0), np.zeros((len(t), q.shape[1]))
    clipped = np.clip(t, knots[0], knots[-1])
    index = np.clip(np.searchsorted(knots, clipped, side="right") - 1, 0, len(knots) - 2)
    h = (knots[index + 1] - knots[index])[:, None]
    u = ((clipped - knots[index])[:, None]) / h
    q0, q1, v0, v1 = q[index], q[index + 1], v[index] * h, v[index + 1] * h
    u2, u3 = u * u, u * u * u
    positions = (2 * u3 - 3 * u2 + 1) * q0 + (u3 - 2 * u2 + u) * v0 + (-2 * u3 + 3 * u2) * q1 + (u3 - u2) * v1
    rates = ((6 * u2 - 6 * u) * q0 + (3 * u2 - 4 * u + 1) * v0 + (-6 * u2 + 6 * u) * q1 + (3 * u2 - 2 * u) * v1) / h
    held = (t < knots[0]) | (t > knots[-1])
    rates[held] = 0.0
    return positions, rates


def interpolate(plan: JointTrajectoryPlan, t: float) -> dict[str, float]:
    """The planned positions by joint name at ``t`` seconds from the plan's start."""
    positions, _ = interpolate_array(plan, [t])
    return dict(zip(plan.joint_names, (float(v) for v in positions[0]), strict=True))


def interpolate_velocities(plan: JointTrajectoryPlan, t: float) -> dict[str, float]:
    """The planned velocities by joint name at ``t`` seconds from the plan's start."""
    _, velocities = interpolate_array(plan, [t])
    return dict(zip(plan.joint_names, (float(v) for v in velocities[0]), strict=True))


@dataclass(frozen=True)
class CartesianPathFailure:
    """The first waypoint of a Cartesian path that inverse kinematics cannot reach, and why."""

    index: int
    point: tuple[float, float, float]
    failure: IkFailure

    @property
    def message(self) -> str:
        x, y, z = self.point
        return f"waypoint {self.index} ({x:.3f}, {y:.3f}, {z:.3f}) is unreachable: {self.failure.message}"

    def __str__(self) -> str:
        return self.message


def cartesian_path_to_joints(
    waypoints_xyz: npt.ArrayLike,
    base: BasePose,
    geometry: ArmGeometry = DEFAULT_GEOMETRY,
    wrist_yaws: float | Sequence[float | None] | None = None,
    gripper_yaws_map: float | Sequence[float | None] | None = None,
    start_wrist_yaw: float | None = None,
) -> list[ArmJoints] | CartesianPathFailure:
    """Arm joints for each grasp-centre waypoint (K, 3) in the map frame, the base fixed.

    ``wrist_yaws`` / ``gripper_yaws_map``: one value for all waypoints or one per waypoint (None:
    free), passed to ``inverse``. Where the wrist is free and no gripper yaw is asked for, each
    waypoint keeps the wrist yaw nearest the previous waypoint's (the first: ``start_wrist_yaw``,
    else 0), so the wrist does not flip along the path.
    """
    points = np.asarray(waypoints_xyz, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"waypoints must be (K, 3), got shape {points.shape}")

    def per_waypoint(value: float | Sequence[float | None] | None, name: str) -> list[float | None]:
        if value is None or isinstance(value, (int, float)):
            return [value] * len(points)
        if len(value) != len(points):
            raise ValueError(f"{len(value)} {name} for {len(points)} waypoints")
        return list(value)

    wrists, yaws = per_waypoint(wrist_yaws, "wrist_yaws"), per_waypoint(gripper_yaws_map, "gripper_yaws_map")
    joints: list[ArmJoints] = []
    near = start_wrist_yaw
    for index, (point, wrist, yaw) in enumerate(zip(points, wrists, yaws, strict=True)):
        result = inverse(point, base, geometry, wrist_yaw=wrist, gripper_yaw_map=yaw, near_wrist_yaw=near)
        if not isinstance(result, IkSolution):
            return CartesianPathFailure(index, (float(point[0]), float(point[1]), float(point[2])), result)
        joints.append(result.joints)
        near = result.joints.wrist_yaw
    return joints
