"""Kinematics of the Stretch-like arm: a lift on the mast, a telescoping arm, a wrist yaw joint.

The chain, as sim/mjcf.py builds it (base_link: x forward, y left, z up, origin on the floor
under the base centre):

- the lift carriage slides up the mast axis at ``mast_xy``; ``joint_lift`` is its height above
  the floor;
- the arm tube hangs off the carriage at the same height and telescopes along base_link -y: the
  wrist axis lies ``retracted_reach + joint_arm`` from the mast axis;
- the wrist turns about the vertical: at ``joint_wrist_yaw`` 0 the gripper points along -y, and a
  positive yaw turns it counter-clockwise seen from above, towards +x (the base's forward);
- the gripper is always horizontal: its fingers close horizontally, across its pointing
  direction; the grasp centre (MuJoCo site ``link_grasp_center``, the midpoint between the
  fingertips' pads) lies ``gripper_length`` along it from the wrist axis, at the carriage's
  height plus ``grasp_height_offset`` (0 in the simulator).

So, in base_link, with lift h, extension a and wrist yaw w::

    grasp = (mx + L sin w,  my - R - a - L cos w,  h + dz)     gripper yaw = w - pi/2

The base is fixed during arm motion (navigation places it first): ``inverse`` solves the lift
from the height and, for the horizontal part, the extension and wrist yaw. With the wrist yaw
free the grasp centre can reach a horizontal circle of radius L around the wrist, so a target
has up to two solutions (gripper pointing away from the mast or back towards it); the one
nearest a requested gripper yaw wins.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from sim.robot import ARM_RETRACTED_REACH, GRIPPER_LENGTH, JOINTS, MAST_XY

FloatArray = npt.NDArray[np.float64]
BasePose = tuple[float, float, float | None]  # map x, y, yaw: a plain tuple or navigation's Pose2D

ARM_JOINT_NAMES: tuple[str, str, str] = ("joint_lift", "joint_arm", "joint_wrist_yaw")  # arm_controller's

_LIMIT_EPSILON = 1e-9  # computed joint values this far outside a limit are rounding, and clamped


def _range_of(joint: str) -> tuple[float, float]:
    return (JOINTS[joint].lower, JOINTS[joint].upper)


def wrap_angle(angle: float) -> float:
    """The angle in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


@dataclass(frozen=True)
class ArmGeometry:
    """Dimensions and joint ranges of the arm; the defaults are the simulated robot's (sim/robot.py).

    A real robot passes its own calibrated values.
    """

    mast_xy: tuple[float, float] = MAST_XY  # mast axis in base_link
    retracted_reach: float = ARM_RETRACTED_REACH  # mast axis to wrist axis along -y, arm retracted
    gripper_length: float = GRIPPER_LENGTH  # wrist axis to the grasp centre
    grasp_height_offset: float = 0.0  # grasp centre height minus joint_lift
    lift_range: tuple[float, float] = _range_of("joint_lift")
    arm_range: tuple[float, float] = _range_of("joint_arm")
    wrist_yaw_range: tuple[float, float] = _range_of("joint_wrist_yaw")

    def __post_init__(self) -> None:
        values = (*self.mast_xy, self.retracted_reach, self.gripper_length, self.grasp_height_offset)
        ranges = {"lift_range": self.lift_range, "arm_range": self.arm_range, "wrist_yaw_range": self.wrist_yaw_range}
        if not all(math.isfinite(v) for v in values) or self.gripper_length <= 0.0:
            raise ValueError(f"arm geometry needs finite dimensions and a positive gripper length: {self}")
        for name, (low, high) in ranges.items():
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"{name} must be a finite (lower, upper) with lower <= upper, got {(low, high)}")

    @property
    def height_range(self) -> tuple[float, float]:
        """The heights above the floor the grasp centre can reach."""
        return (self.lift_range[0] + self.grasp_height_offset, self.lift_range[1] + self.grasp_height_offset)

    def within_limits(self, joints: ArmJoints, tolerance: float = 1e-9) -> bool:
        ranges = (self.lift_range, self.arm_range, self.wrist_yaw_range)
        return all(
            low - tolerance <= value <= high + tolerance for value, (low, high) in zip(joints, ranges, strict=True)
        )


DEFAULT_GEOMETRY = ArmGeometry()


class ArmJoints(NamedTuple):
    """Positions of the arm controller's joints, in its order (ARM_JOINT_NAMES)."""

    lift: float  # m, carriage height above the floor
    arm: float  # m, extension
    wrist_yaw: float  # rad, 0: gripper along base_link -y; positive: towards +x

    def as_dict(self) -> dict[str, float]:
        return dict(zip(ARM_JOINT_NAMES, self, strict=True))

    @classmethod
    def from_dict(cls, positions: Mapping[str, float]) -> ArmJoints:
        """From joint states by name (other joints ignored); KeyError names a missing one."""
        return cls(*(float(positions[name]) for name in ARM_JOINT_NAMES))


class GraspPose(NamedTuple):
    position: FloatArray  # (3,) grasp centre in the map frame
    yaw: float  # the gripper's pointing direction in the map frame, in [-pi, pi)


class IkFailureReason(enum.Enum):
    NOT_FINITE = "not_finite"  # the target or the base pose has a NaN or infinity
    OUT_OF_HEIGHT = "out_of_height"  # below or above what the lift reaches
    BEHIND_MAST = "behind_mast"  # on the side of the mast the arm does not extend to
    OFF_ARM_PLANE = "off_arm_plane"  # too far ahead of or behind the arm for the wrist to swing to
    TOO_CLOSE = "too_close"  # would need less than the arm's least extension
    TOO_FAR = "too_far"  # would need more than the arm's full extension
    WRIST_YAW_LIMIT = "wrist_yaw_limit"  # only wrist yaws outside the joint's range reach it


@dataclass(frozen=True)
class IkFailure:
    """Why a target cannot be reached from this base pose, with what it would need.

    ``needed`` and ``allowed``: the quantity that is out of range (a height in m for
    OUT_OF_HEIGHT, an arm extension in m for TOO_CLOSE / TOO_FAR, a wrist yaw in rad for
    WRIST_YAW_LIMIT) and its reachable range. ``base_offset``: for OFF_ARM_PLANE, how far the base
    would drive along its forward axis (m, negative: backwards) to bring the target in reach.
    """

    reason: IkFailureReason
    message: str
    needed: float | None = None
    allowed: tuple[float, float] | None = None
    base_offset: float | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class IkSolution:
    joints: ArmJoints
    grasp: GraspPose  # where the joints put the grasp centre
    residual: float  # m, from the grasp centre to the target
    yaw_error: float = 0.0  # rad, achieved minus requested gripper yaw (0 when none was requested)


def _base_of(base: BasePose) -> tuple[float, float, float]:
    x, y, yaw = base
    if yaw is None:
        raise ValueError(f"base pose {base} has no yaw: the arm's direction is undefined")
    return float(x), float(y), float(yaw)


def forward(joints: ArmJoints, base: BasePose, geometry: ArmGeometry = DEFAULT_GEOMETRY) -> GraspPose:
    """The grasp centre (map frame) and the gripper's map yaw for arm joints and a base pose."""
    lift, arm, wrist = joints
    x, y, yaw = _base_of(base)
    length = geometry.gripper_length
    local_x = geometry.mast_xy[0] + length * math.sin(wrist)
    local_y = geometry.mast_xy[1] - geometry.retracted_reach - arm - length * math.cos(wrist)
    c, s = math.cos(yaw), math.sin(yaw)
    position = np.array(
        [x + c * local_x - s * local_y, y + s * local_x + c * local_y, lift + geometry.grasp_height_offset]
    )
    return GraspPose(position, wrap_angle(yaw + wrist - math.pi / 2))


def _to_base_link(target: FloatArray, base: tuple[float, float, float]) -> tuple[float, float]:
    x, y, yaw = base
    c, s = math.cos(yaw), math.sin(yaw)
    dx, dy = float(target[0]) - x, float(target[1]) - y
    return c * dx + s * dy, -s * dx + c * dy


def _wrist_yaws_in_range(angle: float, geometry: ArmGeometry) -> list[float]:
    """The angle and its turns by 2 pi that lie in the wrist's range."""
    low, high = geometry.wrist_yaw_range
    return [
        min(max(a, low), high)
        for k in range(-2, 3)
        if low - _LIMIT_EPSILON <= (a := angle + 2 * math.pi * k) <= high + _LIMIT_EPSILON
    ]


def base_offset_for(
    target_xyz: npt.ArrayLike, base: BasePose, geometry: ArmGeometry = DEFAULT_GEOMETRY, wrist_yaw: float = 0.0
) -> float:
    """How far the base would drive along its forward axis (m; negative: backwards) so that the
    gripper at ``wrist_yaw`` (0: straight out from the arm) reaches the target's point on the floor
    plan with extension alone. A differential base drives this without turning; the extension that
    then reaches the target is inverse()'s business (it may still be out of range)."""
    local_x, _ = _to_base_link(np.asarray(target_xyz, dtype=np.float64), _base_of(base))
    return local_x - geometry.mast_xy[0] - geometry.gripper_length * math.sin(wrist_yaw)


def inverse(
    target_xyz: npt.ArrayLike,
    base: BasePose,
    geometry: ArmGeometry = DEFAULT_GEOMETRY,
    wrist_yaw: float | None = None,
    gripper_yaw_map: float | None = None,
    *,
    near_wrist_yaw: float | None = None,
    tolerance: float = 1e-3,
) -> IkSolution | IkFailure:
    """Arm joints that put the grasp centre on a map point, the base staying where it is.

    ``wrist_yaw``: fix the wrist (the target must then lie on the line the grasp centre sweeps
    when the arm extends, within ``tolerance`` m). Otherwise the wrist is free and, of the
    solutions within the joint ranges, the one whose gripper map yaw is nearest
    ``gripper_yaw_map`` wins; without one, the wrist yaw nearest ``near_wrist_yaw`` (say the current
    one, for continuity along a path), else nearest 0 (the gripper straight out from the arm).
    Giving both ``wrist_yaw`` and ``gripper_yaw_map`` is a ValueError, as is a base without a yaw.
    """
    if wrist_yaw is not None and gripper_yaw_map is not None:
        raise ValueError("give wrist_yaw or gripper_yaw_map, not both")
    target = np.asarray(target_xyz, dtype=np.float64).reshape(-1)
    if target.shape != (3,):
        raise ValueError(f"the target must be a point (x, y, z), got shape {target.shape}")
    pose = _base_of(base)
    requests = [v for v in (wrist_yaw, gripper_yaw_map, near_wrist_yaw) if v is not None]
    if not (np.isfinite(target).all() and all(math.isfinite(v) for v in (*pose, *requests))):
        return IkFailure(
            IkFailureReason.NOT_FINITE, f"target {target.tolist()}, base {pose} or a requested yaw is not finite"
        )

    # Height: the lift alone.
    z = float(target[2])
    low_z, high_z = geometry.height_range
    if not low_z - _LIMIT_EPSILON <= z <= high_z + _LIMIT_EPSILON:
        where = "below" if z < low_z else "above"
        return IkFailure(
            IkFailureReason.OUT_OF_HEIGHT,
            f"target height {z:.3f} m is {where} the grasp centre's reach [{low_z:.3f}, {high_z:.3f}] m",
            needed=z,
            allowed=(low_z, high_z),
        )
    lift = min(max(z - geometry.grasp_height_offset, geometry.lift_range[0]), geometry.lift_range[1])

    # The floor plan, relative to the mast: ``across`` along base_link x, ``along`` the arm (-y).
    local_x, local_y = _to_base_link(target, pose)
    across = local_x - geometry.mast_xy[0]
    along = geometry.mast_xy[1] - local_y
    length, reach = geometry.gripper_length, geometry.retracted_reach
    arm_low, arm_high = geometry.arm_range
    if along < 0.0:
        return IkFailure(
            IkFailureReason.BEHIND_MAST,
            f"target is {-along:.3f} m on the far side of the mast from the arm (the arm extends to the "
            f"robot's right): the base has to turn",
        )

    if wrist_yaw is not None:
        low, high = geometry.wrist_yaw_range
        if not low - _LIMIT_EPSILON <= wrist_yaw <= high + _LIMIT_EPSILON:
            return IkFailure(
                IkFailureReason.WRIST_YAW_LIMIT,
                f"wrist yaw {wrist_yaw:.3f} rad is outside the joint's range [{low:.3f}, {high:.3f}]",
                needed=wrist_yaw,
                allowed=geometry.wrist_yaw_range,
            )
        candidates = [min(max(wrist_yaw, low), high)]
        offset = across - length * math.sin(wrist_yaw)
        if abs(offset) > tolerance:
            return IkFailure(
                IkFailureReason.OFF_ARM_PLANE,
                f"with wrist yaw {wrist_yaw:.3f} rad the gripper passes {abs(offset):.3f} m "
                f"{'behind' if offset > 0 else 'ahead of'} the target: the base would drive {offset:+.3f} m",
                base_offset=offset,
            )
    else:
        if abs(across) > length + _LIMIT_EPSILON:
            offset = across  # into the arm's plane, where the gripper straight out reaches it
            return IkFailure(
                IkFailureReason.OFF_ARM_PLANE,
                f"target is {abs(across):.3f} m {'ahead of' if across > 0 else 'behind'} the arm, more than the "
                f"gripper's {length:.3f} m: the base would drive {offset:+.3f} m",
                base_offset=offset,
            )
        outward = math.asin(min(max(across / length, -1.0), 1.0))  # the gripper pointing away from the mast
        candidates = [*_wrist_yaws_in_range(outward, geometry), *_wrist_yaws_in_range(math.pi - outward, geometry)]
        if not candidates:
            low, high = geometry.wrist_yaw_range
            return IkFailure(
                IkFailureReason.WRIST_YAW_LIMIT,
                f"only wrist yaws {outward:.3f} or {math.pi - outward:.3f} rad (mod 2 pi) reach the target; the "
                f"joint's range is [{low:.3f}, {high:.3f}]",
                needed=outward,
                allowed=geometry.wrist_yaw_range,
            )

    extensions = [along - reach - length * math.cos(w) for w in candidates]
    feasible = [
        (w, a)
        for w, a in zip(candidates, extensions, strict=True)
        if arm_low - _LIMIT_EPSILON <= a <= arm_high + _LIMIT_EPSILON
    ]
    if not feasible:
        if all(a < arm_low for a in extensions):
            needed = max(extensions)
            reason, words = IkFailureReason.TOO_CLOSE, "too close to the mast"
        else:
            needed = min(a for a in extensions if a > arm_high)
            reason, words = IkFailureReason.TOO_FAR, "too far out"
        return IkFailure(
            reason,
            f"target is {words}: it needs an arm extension of {needed:.3f} m, the arm's range is "
            f"[{arm_low:.3f}, {arm_high:.3f}] m",
            needed=needed,
            allowed=(arm_low, arm_high),
        )

    base_yaw = pose[2]
    wanted_wrist = None if gripper_yaw_map is None else gripper_yaw_map - base_yaw + math.pi / 2
    near = 0.0 if near_wrist_yaw is None else near_wrist_yaw

    def cost(candidate: tuple[float, float]) -> tuple[float, float]:
        w = candidate[0]
        first = 0.0 if wanted_wrist is None else abs(wrap_angle(w - wanted_wrist))
        return (round(first, 9), abs(w - near))

    best_wrist, best_arm = min(feasible, key=cost)
    joints = ArmJoints(lift, min(max(best_arm, arm_low), arm_high), best_wrist)
    grasp = forward(joints, pose, geometry)
    residual = float(np.linalg.norm(grasp.position - target))
    yaw_error = 0.0 if gripper_yaw_map is None else wrap_angle(grasp.yaw - gripper_yaw_map)
    return IkSolution(joints, grasp, residual, yaw_error)


def reachable(
    target_xyz: npt.ArrayLike,
    base: BasePose,
    geometry: ArmGeometry = DEFAULT_GEOMETRY,
    wrist_yaw: float | None = None,
) -> bool:
    """Whether some joints within their ranges put the grasp centre on the target from this base."""
    return isinstance(inverse(target_xyz, base, geometry, wrist_yaw=wrist_yaw), IkSolution)
