"""Arm kinematics, trajectory timing and execution monitoring, against each other and the MuJoCo sim."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from control.arm import (
    ARM_JOINT_NAMES,
    DEFAULT_GEOMETRY,
    ArmGeometry,
    ArmJoints,
    CartesianPathFailure,
    GraspCheck,
    GraspOutcome,
    IkFailure,
    IkFailureReason,
    IkSolution,
    JointLimit,
    JointTrajectoryPlan,
    MonitorState,
    MonitorStatus,
    TrajectoryError,
    TrajectoryMonitor,
    base_offset_for,
    cartesian_path_to_joints,
    default_limits,
    forward,
    interpolate,
    interpolate_array,
    interpolate_velocities,
    inverse,
    reachable,
    time_parameterise,
    wrap_angle,
)
from control.navigation import Pose2D, grasp_point
from sim.robot import CONTROLLERS, GRIPPER_LENGTH, MAST_XY, grasp_reach
from sim.scenario import load_scenario, parse_scenario
from sim.simulator import Simulator, TrajectoryPoint

RNG_SEED = 7
OPEN_FLOOR = (3.8, 2.4, 0.4)  # a kitchen pose whose arm sweeps empty floor


def random_joints(rng: np.random.Generator, geometry: ArmGeometry = DEFAULT_GEOMETRY) -> ArmJoints:
    return ArmJoints(
        float(rng.uniform(*geometry.lift_range)),
        float(rng.uniform(*geometry.arm_range)),
        float(rng.uniform(*geometry.wrist_yaw_range)),
    )


def random_base(rng: np.random.Generator) -> tuple[float, float, float]:
    return (float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)), float(rng.uniform(-math.pi, math.pi)))


def failure(result: IkSolution | IkFailure) -> IkFailure:
    assert isinstance(result, IkFailure), result
    return result


def solution(result: IkSolution | IkFailure) -> IkSolution:
    assert isinstance(result, IkSolution), result
    return result


def in_base_link(base: tuple[float, float, float], x: float, y: float, z: float) -> np.ndarray:
    """A map point from base_link coordinates."""
    c, s = math.cos(base[2]), math.sin(base[2])
    return np.array([base[0] + c * x - s * y, base[1] + s * x + c * y, z])


# --- kinematics ------------------------------------------------------------------------------


def test_joint_order_is_the_arm_controllers() -> None:
    assert CONTROLLERS["arm_controller"] == ARM_JOINT_NAMES
    joints = ArmJoints(0.7, 0.2, 0.1)
    assert ArmJoints.from_dict({**joints.as_dict(), "joint_gripper": 0.05}) == joints


def test_forward_agrees_with_navigations_reach_and_the_yaw_convention() -> None:
    base = (1.0, 2.0, 0.7)
    for arm in (0.0, 0.25, 0.52):
        grasp = forward(ArmJoints(0.8, arm, 0.0), base)
        assert np.allclose(grasp.position[:2], grasp_point(Pose2D(*base), arm), atol=1e-12)
        assert grasp.position[2] == pytest.approx(0.8)  # the grasp centre is at the lift's height
        assert grasp.yaw == pytest.approx(wrap_angle(0.7 - math.pi / 2))  # straight out along -y
    # A positive wrist yaw turns the gripper counter-clockwise, towards the base's forward (+x).
    origin = (0.0, 0.0, 0.0)
    quarter = forward(ArmJoints(0.8, 0.1, math.pi / 2), origin)
    wrist_y = MAST_XY[1] - grasp_reach(0.1) + GRIPPER_LENGTH
    assert np.allclose(quarter.position, [MAST_XY[0] + GRIPPER_LENGTH, wrist_y, 0.8])
    assert quarter.yaw == pytest.approx(0.0)


def test_inverse_round_trips_random_reachable_points() -> None:
    rng = np.random.default_rng(RNG_SEED)
    for _ in range(300):
        joints, base = random_joints(rng), random_base(rng)
        pose = forward(joints, base)
        # Free wrist: lands on the point, nearest the requested gripper yaw (here the exact one).
        found = solution(inverse(pose.position, base, gripper_yaw_map=pose.yaw))
        assert found.residual < 1e-3
        assert np.linalg.norm(forward(found.joints, base).position - pose.position) < 1e-3
        assert DEFAULT_GEOMETRY.within_limits(found.joints)
        assert abs(found.yaw_error) < 1e-6
        assert wrap_angle(found.joints.wrist_yaw - joints.wrist_yaw) == pytest.approx(0.0, abs=1e-6)
        assert found.joints.arm == pytest.approx(joints.arm, abs=1e-6)
        # Fixed wrist: the same joints.
        fixed = solution(inverse(pose.position, base, wrist_yaw=joints.wrist_yaw))
        assert np.allclose(fixed.joints, joints, atol=1e-6)
        # No preference: still on the point, within limits.
        free = solution(inverse(pose.position, base))
        assert free.residual < 1e-3 and DEFAULT_GEOMETRY.within_limits(free.joints)
        assert reachable(pose.position, base)


def test_free_wrist_prefers_straight_out_then_the_requested_gripper_yaw() -> None:
    base = (0.0, 0.0, 0.0)
    # A point 8 cm ahead of the arm's plane, at an extension where both wrist solutions fit.
    target = in_base_link(base, MAST_XY[0] + 0.08, MAST_XY[1] - 0.23 - 0.25, 0.7)
    outward = solution(inverse(target, base))
    assert outward.joints.wrist_yaw == pytest.approx(math.asin(0.08 / GRIPPER_LENGTH))
    assert math.cos(outward.joints.wrist_yaw) > 0  # pointing away from the mast
    # Asking for the gripper to point back at the mast (+y in map here) picks the other solution.
    back = solution(inverse(target, base, gripper_yaw_map=math.pi / 2))
    assert back.joints.wrist_yaw == pytest.approx(math.pi - math.asin(0.08 / GRIPPER_LENGTH))
    assert back.residual < 1e-9 and abs(back.yaw_error) == pytest.approx(math.asin(0.08 / GRIPPER_LENGTH))
    assert back.joints.arm > outward.joints.arm  # the wrist goes past the target and points back
    # Straight ahead of the arm (gripper yaw 0 in map with base yaw 0 = wrist yaw pi/2).
    ahead = in_base_link(base, MAST_XY[0] + GRIPPER_LENGTH, MAST_XY[1] - 0.23 - 0.3, 0.7)
    side = solution(inverse(ahead, base, gripper_yaw_map=0.0))
    assert side.joints.wrist_yaw == pytest.approx(math.pi / 2) and side.joints.arm == pytest.approx(0.3)


def test_unreachable_targets_fail_with_the_reason_and_what_they_need() -> None:
    base = (2.0, 1.0, math.pi / 3)
    low_z, high_z = DEFAULT_GEOMETRY.height_range
    in_plane_y = MAST_XY[1] - grasp_reach(0.2)

    too_high = failure(inverse(in_base_link(base, MAST_XY[0], in_plane_y, 1.3), base))
    assert too_high.reason is IkFailureReason.OUT_OF_HEIGHT
    assert too_high.needed == pytest.approx(1.3) and too_high.allowed == (low_z, high_z)
    assert "above" in too_high.message
    too_low = failure(inverse(in_base_link(base, MAST_XY[0], in_plane_y, 0.05), base))
    assert too_low.reason is IkFailureReason.OUT_OF_HEIGHT and "below" in str(too_low)

    far = failure(inverse(in_base_link(base, MAST_XY[0], MAST_XY[1] - grasp_reach(0.6), 0.8), base))
    assert far.reason is IkFailureReason.TOO_FAR
    assert far.needed == pytest.approx(0.6) and far.allowed == DEFAULT_GEOMETRY.arm_range

    # Between the mast and the flipped gripper's reach: too close for any extension.
    close = failure(inverse(in_base_link(base, MAST_XY[0], MAST_XY[1] - 0.05, 0.8), base))
    assert close.reason is IkFailureReason.TOO_CLOSE
    assert close.needed == pytest.approx(0.05 - 0.23 + GRIPPER_LENGTH)  # -0.02: short of retracted

    behind = failure(inverse(in_base_link(base, MAST_XY[0], MAST_XY[1] + 0.2, 0.8), base))
    assert behind.reason is IkFailureReason.BEHIND_MAST and "turn" in behind.message

    ahead = in_base_link(base, MAST_XY[0] + 0.3, in_plane_y, 0.8)
    off = failure(inverse(ahead, base))
    assert off.reason is IkFailureReason.OFF_ARM_PLANE and off.base_offset == pytest.approx(0.3)
    assert not reachable(ahead, base)

    # A fixed wrist yaw sweeps one line: a point beside it is off the plane by the miss distance.
    beside = failure(inverse(in_base_link(base, MAST_XY[0] + 0.05, in_plane_y, 0.8), base, wrist_yaw=0.0))
    assert beside.reason is IkFailureReason.OFF_ARM_PLANE and beside.base_offset == pytest.approx(0.05)

    outside = failure(inverse(in_base_link(base, MAST_XY[0], in_plane_y, 0.8), base, wrist_yaw=-2.0))
    assert outside.reason is IkFailureReason.WRIST_YAW_LIMIT and outside.allowed == DEFAULT_GEOMETRY.wrist_yaw_range
    # Near the mast and well ahead of it only the gripper turned back (wrist yaw 1.93) reaches: a
    # wrist limited to +-1 rad cannot.
    flipped_only = in_base_link(base, MAST_XY[0] + 0.15, MAST_XY[1] - 0.18, 0.8)
    assert solution(inverse(flipped_only, base)).joints.wrist_yaw == pytest.approx(math.pi - math.asin(0.15 / 0.16))
    narrow = failure(inverse(flipped_only, base, ArmGeometry(wrist_yaw_range=(-1.0, 1.0))))
    assert narrow.reason is IkFailureReason.WRIST_YAW_LIMIT and narrow.allowed == (-1.0, 1.0)

    nan = failure(inverse([math.nan, 0.0, 0.8], base))
    assert nan.reason is IkFailureReason.NOT_FINITE
    with pytest.raises(ValueError, match="not both"):
        inverse([0.0, 0.0, 0.8], base, wrist_yaw=0.0, gripper_yaw_map=0.0)
    with pytest.raises(ValueError, match="no yaw"):
        inverse([0.0, 0.0, 0.8], Pose2D(0.0, 0.0))


def test_base_offset_brings_an_off_plane_target_into_reach() -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    for _ in range(50):
        base = random_base(rng)
        target = in_base_link(base, float(rng.uniform(-1.5, 1.5)), MAST_XY[1] - grasp_reach(0.3), 0.9)
        for wrist in (0.0, 0.6):
            offset = base_offset_for(target, base, wrist_yaw=wrist)
            moved = (base[0] + offset * math.cos(base[2]), base[1] + offset * math.sin(base[2]), base[2])
            found = solution(inverse(target, moved, wrist_yaw=wrist))
            assert found.residual < 1e-9
        if not reachable(target, base):
            assert failure(inverse(target, base)).base_offset == pytest.approx(base_offset_for(target, base))


def test_a_robots_own_geometry_is_respected() -> None:
    geometry = ArmGeometry(
        mast_xy=(0.0, 0.0), retracted_reach=0.3, gripper_length=0.2, grasp_height_offset=-0.05, lift_range=(0.2, 1.0)
    )
    base = (0.0, 0.0, 0.0)
    grasp = forward(ArmJoints(0.5, 0.1, 0.0), base, geometry)
    assert np.allclose(grasp.position, [0.0, -0.6, 0.45])
    assert geometry.height_range == pytest.approx((0.15, 0.95))
    assert solution(inverse([0.0, -0.6, 0.45], base, geometry)).joints == pytest.approx((0.5, 0.1, 0.0))
    assert failure(inverse([0.0, -0.6, 0.97], base, geometry)).reason is IkFailureReason.OUT_OF_HEIGHT
    with pytest.raises(ValueError, match="lower <= upper"):
        ArmGeometry(arm_range=(0.5, 0.1))


# --- trajectories ----------------------------------------------------------------------------


def check_limits(plan: JointTrajectoryPlan, limits: dict[str, JointLimit], scale: float = 1.0) -> None:
    """Positions within range, velocities and accelerations within the limits, densely sampled."""
    times = np.linspace(0.0, plan.duration, 4001)
    positions, velocities = interpolate_array(plan, times)
    for j, name in enumerate(plan.joint_names):
        limit = limits[name]
        assert positions[:, j].min() >= limit.lower - 1e-9 and positions[:, j].max() <= limit.upper + 1e-9
        assert np.abs(velocities[:, j]).max() <= limit.max_velocity * scale * (1 + 1e-6)
        # Accelerations from the planned velocities at the points (exact), and between them.
        knots = plan.times()
        rates = np.array([p.velocities[j] for p in plan.points])
        assert np.all(np.abs(np.diff(rates)) <= limit.max_acceleration * np.diff(knots) * (1 + 1e-6) + 1e-12)
    for point in plan.points:
        values = dict(zip(plan.joint_names, point.positions, strict=True))
        assert all(limits[n].lower - 1e-9 <= v <= limits[n].upper + 1e-9 for n, v in values.items())


def test_trapezoid_for_one_joint_has_the_analytic_duration() -> None:
    limits = default_limits()  # lift 0.3 m/s, 0.6 m/s^2: 0.5 s ramps
    plan = time_parameterise([ArmJoints(0.3, 0.0, 0.0), ArmJoints(0.9, 0.0, 0.0)], limits)
    assert plan.joint_names == ARM_JOINT_NAMES
    assert plan.duration == pytest.approx(0.6 / 0.3 + 0.5)
    assert interpolate_velocities(plan, 1.25)["joint_lift"] == pytest.approx(0.3)
    assert interpolate(plan, 0.5)["joint_lift"] == pytest.approx(0.3 + 0.5 * 0.6 * 0.25, abs=1e-4)
    check_limits(plan, limits)
    # A short move never reaches full speed: triangular, 2 sqrt(d / a).
    short = time_parameterise([ArmJoints(0.3, 0.0, 0.0), ArmJoints(0.35, 0.0, 0.0)], limits)
    assert short.duration == pytest.approx(2 * math.sqrt(0.05 / 0.6))
    check_limits(short, limits)
    # Half the speed: longer, and within half the velocity limit.
    slow = time_parameterise([ArmJoints(0.3, 0.0, 0.0), ArmJoints(0.9, 0.0, 0.0)], limits, speed_scale=0.5)
    assert slow.duration == pytest.approx(0.6 / 0.15 + 0.25)
    check_limits(slow, limits, scale=0.5)


def test_random_multi_joint_plans_respect_limits_and_pass_the_waypoints_at_rest() -> None:
    rng = np.random.default_rng(RNG_SEED + 2)
    limits = default_limits(ramp_time_s=0.4)
    for _ in range(10):
        waypoints = [random_joints(rng) for _ in range(4)]
        scales = [float(s) for s in rng.uniform(0.2, 1.0, 3)]
        plan = time_parameterise(waypoints, limits, speed_scale=scales)
        check_limits(plan, limits)
        stops = [p.time_from_start for p in plan.points if not any(p.velocities)]
        assert len(stops) == 4 and stops[0] == 0.0
        for stop, waypoint in zip(stops, waypoints, strict=True):
            assert np.allclose(list(interpolate(plan, stop).values()), waypoint, atol=1e-9)
        # The slowest joint of each segment sets its time: at least distance / scaled velocity.
        for (start, end), scale, (t0, t1) in zip(
            itertools.pairwise(waypoints), scales, itertools.pairwise(stops), strict=True
        ):
            needed = max(
                abs(e - s) / (limits[n].max_velocity * scale)
                for n, s, e in zip(ARM_JOINT_NAMES, start, end, strict=True)
            )
            assert t1 - t0 >= needed - 1e-9
    assert interpolate(plan, -1.0) == interpolate(plan, 0.0)
    assert interpolate(plan, plan.duration + 5.0) == plan.goal


def test_collinear_waypoints_are_passed_without_stopping_and_repeats_dropped() -> None:
    line = [ArmJoints(0.5, 0.1 * k, 0.0) for k in range(5)]
    plan = time_parameterise([line[0], line[0], *line[1:]])
    stops = [p.time_from_start for p in plan.points if not any(p.velocities)]
    assert stops == [0.0, plan.duration]
    assert plan.duration == pytest.approx(0.4 / 0.3 + 0.5)
    assert interpolate(plan, plan.duration)["joint_arm"] == pytest.approx(0.4)


def test_bad_waypoints_and_scales_raise() -> None:
    with pytest.raises(TrajectoryError, match=r"waypoint 1: joint_arm 0.6 is outside \[0, 0.52\]"):
        time_parameterise([ArmJoints(0.5, 0.0, 0.0), ArmJoints(0.5, 0.6, 0.0)])
    with pytest.raises(TrajectoryError, match="speed scale"):
        time_parameterise([ArmJoints(0.5, 0.0, 0.0), ArmJoints(0.5, 0.3, 0.0)], speed_scale=1.5)
    with pytest.raises(TrajectoryError, match="2 speed scales for 1 segments"):
        time_parameterise([ArmJoints(0.5, 0.0, 0.0), ArmJoints(0.5, 0.3, 0.0)], speed_scale=[0.5, 0.5])
    with pytest.raises(TrajectoryError, match="waypoint 1 names"):
        time_parameterise([{"joint_gripper": 0.1}, {"joint_arm": 0.1}])
    with pytest.raises(TrajectoryError, match="not finite"):
        time_parameterise([ArmJoints(0.5, 0.0, 0.0), ArmJoints(math.nan, 0.0, 0.0)])
    # Any joints by name: the gripper, with its own limits (0.1 m/s).
    gripper = time_parameterise([{"joint_gripper": 0.1}, {"joint_gripper": 0.0}])
    assert gripper.joint_names == ("joint_gripper",) and gripper.goal == {"joint_gripper": 0.0}
    check_limits(gripper, default_limits(["joint_gripper"]))
    single = time_parameterise([ArmJoints(0.5, 0.0, 0.0)])
    assert single.duration == 0.0 and interpolate(single, 3.0) == ArmJoints(0.5, 0.0, 0.0).as_dict()


def test_cartesian_path_runs_ik_per_waypoint_and_names_the_first_unreachable() -> None:
    base = (1.0, -2.0, 2.0)
    start = in_base_link(base, MAST_XY[0], MAST_XY[1] - grasp_reach(0.1), 0.9)
    down = np.array([start + np.array([0.0, 0.0, -0.05 * k]) for k in range(6)])  # a straight descent
    joints = cartesian_path_to_joints(down, base, wrist_yaws=0.0)
    assert not isinstance(joints, CartesianPathFailure)
    assert [j.lift for j in joints] == pytest.approx([0.9 - 0.05 * k for k in range(6)])
    assert all(j.arm == pytest.approx(0.1) and DEFAULT_GEOMETRY.within_limits(j) for j in joints)
    plan = time_parameterise(joints)
    assert [p.time_from_start for p in plan.points if not any(p.velocities)] == [0.0, plan.duration]
    # An arc of the grasp centre around the wrist (arm at 0.5) with the gripper turned back: each
    # point has two solutions; from a turned-back start the path keeps turned back, not flipping.
    arc_yaws = np.linspace(3.0, 2.0, 6)
    arc = np.array([forward(ArmJoints(0.8, 0.5, float(w)), base).position for w in arc_yaws])
    around = cartesian_path_to_joints(arc, base, start_wrist_yaw=3.0)
    assert not isinstance(around, CartesianPathFailure)
    assert [j.wrist_yaw for j in around] == pytest.approx(arc_yaws)
    assert [j.arm for j in around] == pytest.approx([0.5] * 6)
    default = cartesian_path_to_joints(arc, base)  # no start: straight out is preferred, and kept
    assert not isinstance(default, CartesianPathFailure)
    assert [j.wrist_yaw for j in default] == pytest.approx(math.pi - arc_yaws)
    for j, point in zip(default, arc, strict=True):
        assert np.linalg.norm(forward(j, base).position - point) < 1e-6
    # Too far at index 3.
    out = np.array([start, start, start, in_base_link(base, MAST_XY[0], -2.0, 0.9)])
    failed = cartesian_path_to_joints(out, base)
    assert isinstance(failed, CartesianPathFailure)
    assert failed.index == 3 and failed.failure.reason is IkFailureReason.TOO_FAR
    assert failed.message.startswith("waypoint 3 (")
    with pytest.raises(ValueError, match="2 wrist_yaws for 6 waypoints"):
        cartesian_path_to_joints(down, base, wrist_yaws=[0.0, 0.0])


# --- monitoring ------------------------------------------------------------------------------


def arm_plan() -> JointTrajectoryPlan:
    return time_parameterise([ArmJoints(0.6, 0.0, 0.0), ArmJoints(0.8, 0.3, 0.5)])


def run(monitor: TrajectoryMonitor, positions: Any, until: float, dt: float = 0.05) -> list[MonitorState]:
    """Checks every dt with positions(t) until a verdict or ``until``."""
    states = []
    for t in np.arange(0.0, until, dt):
        states.append(monitor.check(float(t), positions(float(t))))
        if states[-1].done:
            break
    return states


def test_perfect_or_lagging_tracking_succeeds_at_the_end() -> None:
    plan = arm_plan()
    monitor = TrajectoryMonitor(plan)
    states = run(monitor, lambda t: interpolate(plan, t - 0.2), plan.duration + 2.0)  # 0.2 s behind
    assert all(s.status is MonitorStatus.RUNNING for s in states[:-1])
    final = states[-1]
    assert final.status is MonitorStatus.SUCCESSFUL
    assert final.status.error_code == 0
    assert plan.duration <= final.time_s <= plan.duration + 0.3
    assert monitor.result is final and monitor.check(final.time_s + 1.0, None) is final  # the verdict sticks


def test_a_stalled_joint_violates_the_path_tolerance() -> None:
    plan = arm_plan()
    monitor = TrajectoryMonitor(plan)

    def stalled(t: float) -> dict[str, float]:
        positions = interpolate(plan, t)
        positions["joint_arm"] = min(positions["joint_arm"], 0.1)  # blocked at 10 cm
        return positions

    final = run(monitor, stalled, plan.duration + 2.0)[-1]
    assert final.status is MonitorStatus.PATH_TOLERANCE_VIOLATED and final.status.error_code == -4
    assert final.joint == "joint_arm" and final.error is not None and 0.02 < final.error < 0.036
    assert final.time_s < plan.duration
    assert "joint_arm" in final.message
    # Lagging by more than the allowance trips it too; a wider allowance accepts the same lag.
    late = run(TrajectoryMonitor(plan), lambda t: interpolate(plan, t - 0.6), plan.duration + 2.0)[-1]
    assert late.status is MonitorStatus.PATH_TOLERANCE_VIOLATED
    patient = TrajectoryMonitor(plan, lag_s=0.7, goal_time_tolerance_s=1.0)
    assert run(patient, lambda t: interpolate(plan, t - 0.6), plan.duration + 2.0)[-1].status is (
        MonitorStatus.SUCCESSFUL
    )


def test_stopping_short_of_the_goal_violates_the_goal_tolerance() -> None:
    plan = arm_plan()
    monitor = TrajectoryMonitor(plan, tolerances={"joint_lift": 0.03}, goal_tolerances={"joint_lift": 0.01})
    short = {**plan.goal, "joint_lift": plan.goal["joint_lift"] - 0.02}  # inside the path, outside the goal

    def stops_short(t: float) -> dict[str, float]:
        positions = interpolate(plan, t)
        positions["joint_lift"] = min(positions["joint_lift"], short["joint_lift"])
        return positions

    states = run(monitor, stops_short, plan.duration + 3.0)
    final = states[-1]
    assert final.status is MonitorStatus.GOAL_TOLERANCE_VIOLATED and final.status.error_code == -5
    assert final.joint == "joint_lift" and final.error == pytest.approx(0.02)
    assert final.time_s > plan.duration + monitor.goal_time_tolerance_s
    settling = [s for s in states if s.time_s >= plan.duration and not s.done]
    assert settling and all(s.status is MonitorStatus.RUNNING and "settling" in s.message for s in settling)


def test_still_moving_at_the_goal_time_or_no_joint_states_is_a_timeout() -> None:
    plan = arm_plan()
    slow = TrajectoryMonitor(plan, lag_s=10.0, goal_time_tolerance_s=0.5)  # lag allowed, the goal time is not
    final = run(slow, lambda t: interpolate(plan, t / 2), 2 * plan.duration)[-1]
    assert final.status is MonitorStatus.TIMEOUT and "still moving" in final.message
    assert final.status.error_code == -5  # what control_msgs clients see
    silent = TrajectoryMonitor(plan, feedback_timeout_s=0.5)
    assert silent.check(0.0, interpolate(plan, 0.0)).status is MonitorStatus.RUNNING
    assert silent.check(0.4, None).status is MonitorStatus.RUNNING
    assert silent.check(0.45, {"joint_lift": 0.6}).status is MonitorStatus.RUNNING  # not every joint
    gone = silent.check(0.6, None)
    assert gone.status is MonitorStatus.TIMEOUT and "no joint states" in gone.message


def test_grasp_check_decides_from_the_finger_separation() -> None:
    cup = GraspCheck(object_width=0.08)
    held = cup.evaluate(commanded=0.0, measured=0.079)
    assert held.holding and held.outcome is GraspOutcome.HOLDING and "0.079" in held.reason
    missed = cup.evaluate(commanded=0.0, measured=0.001)
    assert not missed.holding and missed.outcome is GraspOutcome.MISSED and "nothing" in missed.reason
    assert cup.evaluate(0.0, 0.05, speed=0.08).outcome is GraspOutcome.CLOSING
    assert cup.evaluate(0.09, 0.09).outcome is GraspOutcome.NOT_CLOSED
    narrower = cup.evaluate(0.0, 0.03)
    assert not narrower.holding and narrower.outcome is GraspOutcome.UNEXPECTED_WIDTH and "narrower" in narrower.reason
    assert cup.evaluate(0.0, 0.11).outcome is GraspOutcome.UNEXPECTED_WIDTH
    # A partial close that reached its command is empty too, even above closed_width.
    assert GraspCheck().evaluate(commanded=0.02, measured=0.02).outcome is GraspOutcome.MISSED
    assert GraspCheck().evaluate(commanded=0.0, measured=0.04).holding  # size unknown: anything stopping it


# --- against the MuJoCo simulator -------------------------------------------------------------


def kitchen(pose: tuple[float, float, float]) -> Simulator:
    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"]["pose"] = list(pose)
    return Simulator(parse_scenario(document))


def sim_points(plan: JointTrajectoryPlan) -> list[TrajectoryPoint]:
    return [TrajectoryPoint(p.time_from_start, plan.positions_at(i)) for i, p in enumerate(plan.points)]


def execute(sim: Simulator, plan: JointTrajectoryPlan, monitor: TrajectoryMonitor, dt: float = 0.05) -> MonitorState:
    controller = "arm_controller" if plan.joint_names == ARM_JOINT_NAMES else "gripper_controller"
    sim.follow_trajectory(controller, list(plan.joint_names), sim_points(plan))
    start = sim.time
    while True:
        sim.advance(dt)
        state = monitor.check(sim.time - start, sim.joint_positions())
        if state.done:
            return state


def current_arm(sim: Simulator) -> ArmJoints:
    return ArmJoints.from_dict(sim.joint_positions())


def grasp_centre(sim: Simulator) -> np.ndarray:
    """The midpoint between the finger bodies (the grasp centre site lies on it)."""
    left, right = sim.link_pose("link_finger_left")[:3, 3], sim.link_pose("link_finger_right")[:3, 3]
    return np.asarray((left + right) / 2)


def test_sim_grasp_centre_lands_on_ik_targets_and_the_monitor_reports_success() -> None:
    sim = kitchen(OPEN_FLOOR)
    base = sim.base_pose()
    assert np.allclose(grasp_centre(sim), forward(current_arm(sim), base).position, atol=1e-3)
    rng = np.random.default_rng(RNG_SEED + 3)
    for _ in range(3):
        wanted = random_joints(rng)
        target, yaw = forward(ArmJoints(float(rng.uniform(0.3, 1.05)), *wanted[1:]), base)
        found = solution(inverse(target, base, gripper_yaw_map=yaw))
        plan = time_parameterise([current_arm(sim), found.joints])
        final = execute(sim, plan, TrajectoryMonitor(plan))
        assert final.status is MonitorStatus.SUCCESSFUL, final.message
        assert np.linalg.norm(grasp_centre(sim) - target) < 0.015
        assert np.linalg.norm(sim.data.site("link_grasp_center").xpos - target) < 0.015


def test_sim_arm_blocked_by_a_table_violates_the_path_tolerance() -> None:
    sim = kitchen((2.2, 2.05, 0.0))  # the arm over the kitchen table (top at 0.75 m)
    base = sim.base_pose()
    above = solution(inverse(in_base_link(base, MAST_XY[0], MAST_XY[1] - grasp_reach(0.3), 0.9), base))
    plan = time_parameterise([current_arm(sim), above.joints])
    assert execute(sim, plan, TrajectoryMonitor(plan)).status is MonitorStatus.SUCCESSFUL
    into = time_parameterise([current_arm(sim), above.joints._replace(lift=0.5)])
    final = execute(sim, into, TrajectoryMonitor(into))
    assert final.status is MonitorStatus.PATH_TOLERANCE_VIOLATED and final.joint == "joint_lift"
    assert final.time_s < into.duration
    sim.advance(1.0)
    assert 0.75 < sim.joint_positions()["joint_lift"] < 0.8  # the gripper rests on the top


def send(sim: Simulator, plan: JointTrajectoryPlan, settle_s: float = 0.3) -> None:
    controller = "arm_controller" if plan.joint_names == ARM_JOINT_NAMES else "gripper_controller"
    sim.follow_trajectory(controller, list(plan.joint_names), sim_points(plan))
    sim.advance(plan.duration + settle_s)


def test_sim_grasp_check_tells_a_held_cup_from_an_empty_close() -> None:
    sim = kitchen((1.53, 3.0, math.pi))  # beside the counter, the arm reaching over it to the red cup
    base = sim.base_pose()
    cup = sim.object_pose("red_cup")[:3, 3]
    reach = solution(inverse(cup, base, wrist_yaw=0.0, tolerance=0.02))
    assert reach.residual < 0.02
    # Open, rise to the cup's height, then extend: the open fingers pass either side of it.
    send(sim, time_parameterise([{"joint_gripper": sim.joint_positions()["joint_gripper"]}, {"joint_gripper": 0.12}]))
    plan = time_parameterise([current_arm(sim), reach.joints._replace(arm=0.0), reach.joints])
    assert execute(sim, plan, TrajectoryMonitor(plan)).status is MonitorStatus.SUCCESSFUL
    close = time_parameterise([{"joint_gripper": 0.12}, {"joint_gripper": 0.0}])
    send(sim, close)
    check = GraspCheck(object_width=0.08)
    gripper = sim.joint_positions()["joint_gripper"], sim.joint_velocities()["joint_gripper"]
    verdict = check.evaluate(0.0, *gripper)
    assert verdict.holding, verdict.reason
    lift = time_parameterise([current_arm(sim), reach.joints._replace(lift=cup[2] + 0.1)])
    assert execute(sim, lift, TrajectoryMonitor(lift)).status is MonitorStatus.SUCCESSFUL
    assert sim.holding("red_cup") and sim.object_pose("red_cup")[2, 3] == pytest.approx(cup[2] + 0.1, abs=0.01)
    # Open: the cup drops back onto the counter; closing again finds nothing.
    send(sim, time_parameterise([{"joint_gripper": 0.0 + gripper[0]}, {"joint_gripper": 0.12}]), settle_s=0.5)
    assert not sim.holding("red_cup") and sim.evaluate("on(red_cup, counter)")
    empty = execute(sim, close, TrajectoryMonitor(close))
    assert empty.status is MonitorStatus.SUCCESSFUL
    verdict = check.evaluate(0.0, sim.joint_positions()["joint_gripper"])
    assert verdict.outcome is GraspOutcome.MISSED and not verdict.holding
