"""Watching a trajectory's execution, and judging a grasp from the gripper's finger separation.

``TrajectoryMonitor`` follows control_msgs/FollowJointTrajectory's result codes
(SUCCESSFUL, PATH_TOLERANCE_VIOLATED, GOAL_TOLERANCE_VIOLATED) and the way ros2_controllers'
joint_trajectory_controller applies them, with two additions: RUNNING while it is undecided, and
TIMEOUT where the goal time ran out with the joints still moving or joint states stopped coming.

Path tolerance and tracking lag: position controllers trail a moving set point (the simulated
wrist by about 35 ms, a real Stretch by more), so comparing the joints with the plan at the same
instant either trips a tight tolerance or needs a loose one. The monitor instead allows a lag:
during the motion a joint is within the path tolerance when it is within that tolerance of where
the plan had it at some moment in the last ``lag_s`` seconds (per joint). A stalled or blocked
joint falls behind by more than the lag and trips it; a joint that merely trails does not. The
goal is then checked tightly at the end, once the plan's time plus ``goal_time_tolerance_s`` has
given it time to settle.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from control.arm.trajectory import JointTrajectoryPlan, interpolate_array
from sim.robot import JOINTS

PRISMATIC_TOLERANCE = 0.02  # m
REVOLUTE_TOLERANCE = 0.05  # rad


class MonitorStatus(enum.Enum):
    RUNNING = "running"
    SUCCESSFUL = "successful"  # control_msgs: SUCCESSFUL = 0
    PATH_TOLERANCE_VIOLATED = "path_tolerance_violated"  # control_msgs: -4
    GOAL_TOLERANCE_VIOLATED = "goal_tolerance_violated"  # control_msgs: -5
    TIMEOUT = "timeout"  # reported to control_msgs clients as GOAL_TOLERANCE_VIOLATED, as ros2_controllers does

    @property
    def error_code(self) -> int | None:
        """The control_msgs/FollowJointTrajectory result error_code (None while RUNNING)."""
        return _ERROR_CODES[self]


_ERROR_CODES: dict[MonitorStatus, int | None] = {
    MonitorStatus.RUNNING: None,
    MonitorStatus.SUCCESSFUL: 0,
    MonitorStatus.PATH_TOLERANCE_VIOLATED: -4,
    MonitorStatus.GOAL_TOLERANCE_VIOLATED: -5,
    MonitorStatus.TIMEOUT: -5,
}


@dataclass(frozen=True)
class MonitorState:
    status: MonitorStatus
    time_s: float  # from the trajectory's start
    message: str
    joint: str | None = None  # the joint that violated a tolerance (the worst one)
    error: float | None = None  # its error, m or rad

    @property
    def done(self) -> bool:
        return self.status is not MonitorStatus.RUNNING


def default_tolerance(joint: str) -> float:
    """2 cm for a prismatic joint, 0.05 rad for a revolute one."""
    return PRISMATIC_TOLERANCE if JOINTS[joint].kind == "slide" else REVOLUTE_TOLERANCE


def _per_joint(plan: JointTrajectoryPlan, given: Mapping[str, float] | None, name: str) -> dict[str, float]:
    values = {}
    for joint in plan.joint_names:
        if given is not None and joint in given:
            value = float(given[joint])
        elif joint in JOINTS:
            value = default_tolerance(joint)
        else:
            raise ValueError(f"no {name} for {joint}, which sim.robot.JOINTS does not describe")
        if not (math.isfinite(value) and value > 0.0):
            raise ValueError(f"{name} for {joint} must be > 0, got {value}")
        values[joint] = value
    return values


class TrajectoryMonitor:
    """Judges a running trajectory from joint states; call ``check`` with each new reading.

    ``tolerances``: path tolerance per joint (default 2 cm prismatic, 0.05 rad revolute), with a
    lag allowance of ``lag_s`` (see the module's notes); ``goal_tolerances``: at the end (default:
    the same). Once the plan's duration has passed the goal is checked: within goal tolerance,
    SUCCESSFUL. At ``duration + goal_time_tolerance_s`` without reaching it: TIMEOUT if a joint is
    still moving (faster than ``settled_speed`` of its tolerance per second, from the last two
    readings), else GOAL_TOLERANCE_VIOLATED (it stopped in the wrong place). No reading of every
    joint for ``feedback_timeout_s``: TIMEOUT. The first verdict other than RUNNING sticks.
    """

    def __init__(
        self,
        plan: JointTrajectoryPlan,
        tolerances: Mapping[str, float] | None = None,
        goal_time_tolerance_s: float = 1.0,
        *,
        goal_tolerances: Mapping[str, float] | None = None,
        lag_s: float = 0.3,
        feedback_timeout_s: float = 0.5,
        settled_speed: float = 0.5,
    ) -> None:
        for name, value in (
            ("goal_time_tolerance_s", goal_time_tolerance_s),
            ("lag_s", lag_s),
            ("feedback_timeout_s", feedback_timeout_s),
            ("settled_speed", settled_speed),
        ):
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite value >= 0, got {value}")
        self.plan = plan
        self.path_tolerances = _per_joint(plan, tolerances, "tolerance")
        self.goal_tolerances = _per_joint(plan, goal_tolerances if goal_tolerances is not None else tolerances, "goal")
        self.goal_time_tolerance_s = goal_time_tolerance_s
        self.lag_s = lag_s
        self.feedback_timeout_s = feedback_timeout_s
        self.settled_speed = settled_speed
        self._names = plan.joint_names
        self._path_tol = np.array([self.path_tolerances[j] for j in self._names])
        self._goal_tol = np.array([self.goal_tolerances[j] for j in self._names])
        self._goal = plan.position_array()[-1]
        self._last_time: float | None = None
        self._last_positions: np.ndarray | None = None
        self._last_feedback_time = 0.0
        self._result: MonitorState | None = None

    @property
    def result(self) -> MonitorState | None:
        """The final verdict, once there is one."""
        return self._result

    def _finish(self, state: MonitorState) -> MonitorState:
        if state.done:
            self._result = state
        return state

    def _worst(self, errors: np.ndarray, tolerances: np.ndarray) -> tuple[str, float, float]:
        index = int(np.argmax(errors / tolerances))
        return self._names[index], float(errors[index]), float(tolerances[index])

    def path_errors(self, t: float, actual: np.ndarray) -> np.ndarray:
        """Per joint, the distance from the actual position to the plan's positions over the lag
        window [t - lag_s, t] (0 when it is where the plan was at some moment of it)."""
        duration = self.plan.duration
        start, end = min(max(t - self.lag_s, 0.0), duration), min(max(t, 0.0), duration)
        knots = self.plan.times()
        inside = knots[(knots > start) & (knots < end)]
        times = np.concatenate([np.linspace(start, end, 9), inside])
        planned, _ = interpolate_array(self.plan, times)
        low, high = planned.min(axis=0), planned.max(axis=0)
        return np.asarray(np.maximum(np.maximum(low - actual, actual - high), 0.0))

    def check(self, t: float, actual_positions: Mapping[str, float] | None) -> MonitorState:
        """The state at ``t`` seconds from the trajectory's start, given the joints' positions then
        (None, or missing a joint of the plan: no fresh reading)."""
        if self._result is not None:
            return self._result
        if actual_positions is None or any(j not in actual_positions for j in self._names):
            silent = t - self._last_feedback_time
            if silent > self.feedback_timeout_s:
                return self._finish(MonitorState(MonitorStatus.TIMEOUT, t, f"no joint states for {silent:.2f} s"))
            return MonitorState(MonitorStatus.RUNNING, t, "waiting for joint states")
        actual = np.array([float(actual_positions[j]) for j in self._names])
        speeds = np.zeros_like(actual)
        if self._last_positions is not None and self._last_time is not None and t > self._last_time:
            speeds = np.abs(actual - self._last_positions) / (t - self._last_time)
        self._last_time, self._last_positions, self._last_feedback_time = t, actual, t
        duration = self.plan.duration

        path = self.path_errors(t, actual)
        if np.any(path > self._path_tol):
            joint, error, tolerance = self._worst(path, self._path_tol)
            return self._finish(
                MonitorState(
                    MonitorStatus.PATH_TOLERANCE_VIOLATED,
                    t,
                    f"{joint} is {error:.3f} off the planned path (tolerance {tolerance:g}, "
                    f"allowing {self.lag_s:g} s of lag) at {t:.2f} s",
                    joint,
                    error,
                )
            )
        if t < duration:
            return MonitorState(MonitorStatus.RUNNING, t, f"following the plan, {duration - t:.2f} s to go")

        goal = np.abs(actual - self._goal)
        if np.all(goal <= self._goal_tol):
            return self._finish(MonitorState(MonitorStatus.SUCCESSFUL, t, "reached the goal within tolerance"))
        joint, error, tolerance = self._worst(goal, self._goal_tol)
        if t <= duration + self.goal_time_tolerance_s:
            return MonitorState(
                MonitorStatus.RUNNING, t, f"settling: {joint} is {error:.3f} from the goal", joint, error
            )
        moving = speeds > self.settled_speed * self._goal_tol
        if np.any(moving):
            return self._finish(
                MonitorState(
                    MonitorStatus.TIMEOUT,
                    t,
                    f"goal time exceeded by {t - duration:.2f} s with the joints still moving; {joint} is {error:.3f} "
                    f"from the goal (tolerance {tolerance:g})",
                    joint,
                    error,
                )
            )
        return self._finish(
            MonitorState(
                MonitorStatus.GOAL_TOLERANCE_VIOLATED,
                t,
                f"stopped with {joint} {error:.3f} from the goal (tolerance {tolerance:g})",
                joint,
                error,
            )
        )


class GraspOutcome(enum.Enum):
    HOLDING = "holding"  # stopped at about the object's width: it is between the fingers
    MISSED = "missed"  # closed (nearly) fully: nothing between the fingers
    CLOSING = "closing"  # the fingers are still moving
    NOT_CLOSED = "not_closed"  # the command does not close the gripper below the object's width
    UNEXPECTED_WIDTH = "unexpected_width"  # stopped, something in the hand, but not of the object's width


@dataclass(frozen=True)
class GraspVerdict:
    outcome: GraspOutcome
    reason: str

    @property
    def holding(self) -> bool:
        return self.outcome is GraspOutcome.HOLDING


@dataclass(frozen=True)
class GraspCheck:
    """Judges a grasp from the gripper's finger separation (``joint_gripper``, m).

    ``object_width``: the object's width across the fingers (None: unknown, any stop short of
    closed counts). Holding means the fingers stopped between ``object_width - below`` and
    ``object_width + above`` (contact flattens the object a little, the fingers sit on its widest
    part), so that something is in the hand; at or under ``closed_width`` they closed on nothing.
    ``settled_speed`` (m/s): faster fingers are still closing.
    """

    object_width: float | None = None
    below: float = 0.015
    above: float = 0.015
    closed_width: float = 0.005
    settled_speed: float = 0.005

    def __post_init__(self) -> None:
        for name in ("below", "above", "closed_width", "settled_speed"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"{name} must be a finite value >= 0, got {value}")
        if self.object_width is not None and not (math.isfinite(self.object_width) and self.object_width > 0.0):
            raise ValueError(f"object_width must be > 0, got {self.object_width}")

    @property
    def width_range(self) -> tuple[float, float]:
        """The separations that count as holding."""
        if self.object_width is None:
            return (self.closed_width, JOINTS["joint_gripper"].upper)
        return (max(self.object_width - self.below, self.closed_width), self.object_width + self.above)

    def evaluate(self, commanded: float, measured: float, speed: float = 0.0) -> GraspVerdict:
        """Whether the gripper holds the object, from the commanded separation (closing on it),
        the measured one and the fingers' speed."""
        low, high = self.width_range
        if not all(math.isfinite(v) for v in (commanded, measured, speed)):
            return GraspVerdict(GraspOutcome.UNEXPECTED_WIDTH, f"readings not finite: {commanded}, {measured}, {speed}")
        if self.object_width is not None and commanded >= low:
            return GraspVerdict(
                GraspOutcome.NOT_CLOSED,
                f"the gripper was told to close to {commanded:.3f} m, not below the object's {low:.3f} m: "
                f"it cannot squeeze it",
            )
        if abs(speed) > self.settled_speed:
            return GraspVerdict(
                GraspOutcome.CLOSING, f"the fingers are still moving ({speed:.3f} m/s) at {measured:.3f} m"
            )
        if measured <= max(self.closed_width, commanded):
            return GraspVerdict(
                GraspOutcome.MISSED, f"the gripper closed to {measured:.3f} m: nothing between the fingers, missed"
            )
        if low <= measured <= high:
            return GraspVerdict(
                GraspOutcome.HOLDING,
                f"the fingers stopped at {measured:.3f} m on the object ([{low:.3f}, {high:.3f}] m)",
            )
        words = "narrower" if measured < low else "wider"
        return GraspVerdict(
            GraspOutcome.UNEXPECTED_WIDTH,
            f"the fingers stopped at {measured:.3f} m, {words} than the object's [{low:.3f}, {high:.3f}] m: "
            f"something else, or the object held off-centre or slipping",
        )
