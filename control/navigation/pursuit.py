"""Pure pursuit path following for a differential base, with speed and acceleration limits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from control.navigation.grid import FloatArray
from sim.robot import BASE_LIMITS

_BRAKING_SHARE = 0.8  # plan stops with this share of the acceleration limit, leaving slack for the steps
_SPEED_EPSILON = 1e-9


@dataclass(frozen=True)
class PursuitParams:
    lookahead: float = 0.35  # m along the path ahead of the robot's projection
    max_linear: float = 0.4  # m/s
    max_angular: float = 1.0  # rad/s
    max_linear_accel: float = 0.6  # m/s^2
    max_angular_accel: float = 2.5  # rad/s^2
    position_tolerance: float = 0.05  # m
    yaw_tolerance: float = 0.05  # rad
    rotate_in_place_above: float = 0.7  # rad of heading error; driving resumes below half of it

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"{name} must be a positive number, got {value}")
        if self.max_linear > BASE_LIMITS.max_linear or self.max_angular > BASE_LIMITS.max_angular:
            raise ValueError(
                f"max_linear {self.max_linear} and max_angular {self.max_angular} must not exceed the base's "
                f"limits {BASE_LIMITS.max_linear} m/s and {BASE_LIMITS.max_angular} rad/s"
            )


class PursuitCommand(NamedTuple):
    linear: float  # m/s, forward
    angular: float  # rad/s, counter-clockwise
    done: bool
    distance_remaining: float  # m, along the path (at least the straight distance to its end)


def wrap_angle(angle: float) -> float:
    """The angle in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


class PurePursuit:
    """Follows a path of map points: steers towards the point ``lookahead`` metres further along
    the path, turns in place when that point is far off the heading, slows to stop at the path's
    end, then turns to the goal yaw. Commands change by at most the acceleration limits per step."""

    def __init__(self, params: PursuitParams | None = None) -> None:
        self.params = params or PursuitParams()
        self._path: FloatArray | None = None
        self._segment_lengths: FloatArray = np.zeros(0)
        self._arc: FloatArray = np.zeros(1)  # arc length at each vertex
        self._goal_yaw: float | None = None
        self._last = (0.0, 0.0)
        self.reset()

    def reset(self) -> None:
        """Forget the path and the last command (the robot is taken to be at rest)."""
        self._path = None
        self._goal_yaw = None
        self._last = (0.0, 0.0)
        self._progress = 0.0
        self._arrived = False
        self._done = False
        self._rotating = False

    def set_path(self, points: Sequence[tuple[float, float]], goal_yaw: float | None = None) -> None:
        """Follow these map points (the first near the robot); the last command carries over."""
        path = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(path) == 0 or not np.isfinite(path).all():
            raise ValueError(f"a path needs at least one finite point, got {len(path)} point(s)")
        if goal_yaw is not None and not math.isfinite(goal_yaw):
            raise ValueError(f"goal_yaw must be finite or None, got {goal_yaw}")
        if len(path) == 1:
            path = np.vstack([path, path])
        self._path = path
        self._segment_lengths = np.hypot(*(path[1:] - path[:-1]).T)
        self._arc = np.concatenate([[0.0], np.cumsum(self._segment_lengths)])
        self._goal_yaw = goal_yaw
        self._progress = 0.0
        self._arrived = False
        self._done = False
        self._rotating = False

    @property
    def last_command(self) -> tuple[float, float]:
        return self._last

    def step(self, pose: tuple[float, float, float], dt: float) -> PursuitCommand:
        """The command for the next ``dt`` seconds from the robot's map pose (x, y, yaw)."""
        if self._path is None:
            raise RuntimeError("PurePursuit.step needs a path: call set_path first")
        if not (math.isfinite(dt) and dt > 0.0):
            raise ValueError(f"dt must be a positive number of seconds, got {dt}")
        if not all(math.isfinite(v) for v in pose):
            raise ValueError(f"pose must be finite, got {pose}")
        p = self.params
        x, y, yaw = pose
        goal = self._path[-1]
        to_goal = math.hypot(goal[0] - x, goal[1] - y)
        if self._done:
            return PursuitCommand(0.0, 0.0, True, to_goal)
        self._progress = self._project(x, y)
        remaining = max(float(self._arc[-1]) - self._progress, to_goal)
        can_stop = abs(self._last[0]) <= p.max_linear_accel * dt + _SPEED_EPSILON
        if not self._arrived and to_goal <= p.position_tolerance and can_stop:
            self._arrived = True
        if self._arrived:
            return self._finish(yaw, dt, to_goal)

        look_x, look_y = self._point_at(self._progress + p.lookahead)
        c, s = math.cos(yaw), math.sin(yaw)
        ahead = c * (look_x - x) + s * (look_y - y)  # the lookahead point in base_link
        left = -s * (look_x - x) + c * (look_y - y)
        heading_error = math.atan2(left, ahead)
        if abs(heading_error) > p.rotate_in_place_above:
            self._rotating = True
        elif abs(heading_error) < p.rotate_in_place_above / 2:
            self._rotating = False
        if self._rotating:
            linear, angular = 0.0, self._turn_speed(heading_error)
        else:
            curvature = 2.0 * left / max(ahead**2 + left**2, 1e-12)
            linear = min(p.max_linear, math.sqrt(2 * _BRAKING_SHARE * p.max_linear_accel * to_goal))
            if abs(curvature) * linear > p.max_angular:
                linear = p.max_angular / abs(curvature)
            angular = curvature * linear
        linear, angular = self._limit(linear, angular, dt)
        return PursuitCommand(linear, angular, False, remaining)

    def _finish(self, yaw: float, dt: float, to_goal: float) -> PursuitCommand:
        """At the goal position: stop, turn to the goal yaw if one is set, then report done."""
        p = self.params
        yaw_error = 0.0 if self._goal_yaw is None else wrap_angle(self._goal_yaw - yaw)
        stopped = (
            abs(self._last[0]) <= p.max_linear_accel * dt + _SPEED_EPSILON
            and abs(self._last[1]) <= p.max_angular_accel * dt + _SPEED_EPSILON
        )
        if abs(yaw_error) <= p.yaw_tolerance and stopped:
            self._done = True
            self._last = (0.0, 0.0)
            return PursuitCommand(0.0, 0.0, True, to_goal)
        target = 0.0 if abs(yaw_error) <= p.yaw_tolerance else self._turn_speed(yaw_error)
        linear, angular = self._limit(0.0, target, dt)
        return PursuitCommand(linear, angular, False, to_goal)

    def _turn_speed(self, error: float) -> float:
        """Angular speed towards a heading error, slowing so that it stops on it."""
        p = self.params
        speed = min(p.max_angular, math.sqrt(2 * _BRAKING_SHARE * p.max_angular_accel * abs(error)))
        return math.copysign(speed, error)

    def _limit(self, linear: float, angular: float, dt: float) -> tuple[float, float]:
        """Clamp to the speed limits and to the acceleration limits from the last command; remember it."""
        p = self.params
        last_linear, last_angular = self._last
        dv, dw = p.max_linear_accel * dt, p.max_angular_accel * dt
        linear = min(max(linear, last_linear - dv, -p.max_linear), last_linear + dv, p.max_linear)
        angular = min(max(angular, last_angular - dw, -p.max_angular), last_angular + dw, p.max_angular)
        self._last = (linear, angular)
        return linear, angular

    def _project(self, x: float, y: float) -> float:
        """Arc length of the path point nearest the robot, searched a little ahead of the last one
        so that progress never goes back nor jumps to a later pass of the path nearby."""
        assert self._path is not None
        window = self._progress + max(1.0, 3 * self.params.lookahead)
        segments = len(self._segment_lengths)
        first = min(max(int(np.searchsorted(self._arc, self._progress, side="right")) - 1, 0), segments - 1)
        last = min(max(int(np.searchsorted(self._arc, window, side="right")), first + 1), segments)
        starts, ends = self._path[first:last], self._path[first + 1 : last + 1]
        lengths = self._segment_lengths[first:last]
        directions = ends - starts
        t = ((np.array([x, y]) - starts) * directions).sum(axis=1) / np.maximum(lengths**2, 1e-12)
        t = np.clip(t, 0.0, 1.0)
        distance = np.hypot(*(starts + t[:, None] * directions - np.array([x, y])).T)
        best = int(np.argmin(distance))
        return max(self._progress, float(self._arc[first + best] + t[best] * lengths[best]))

    def _point_at(self, arc_length: float) -> tuple[float, float]:
        """The path point at an arc length, clamped to the path's end."""
        assert self._path is not None
        if arc_length >= self._arc[-1]:
            return float(self._path[-1, 0]), float(self._path[-1, 1])
        index = min(int(np.searchsorted(self._arc, arc_length, side="right")) - 1, len(self._segment_lengths) - 1)
        t = (arc_length - self._arc[index]) / max(self._segment_lengths[index], 1e-12)
        point = self._path[index] + t * (self._path[index + 1] - self._path[index])
        return float(point[0]), float(point[1])
