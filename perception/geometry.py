"""Rigid transforms as 4x4 homogeneous matrices; quaternions are (x, y, z, w) as in ROS."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

Matrix4 = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]


def make_transform(translation: npt.ArrayLike, quaternion_xyzw: npt.ArrayLike = (0.0, 0.0, 0.0, 1.0)) -> Matrix4:
    """A 4x4 matrix from a translation and a unit quaternion (x, y, z, w)."""
    q = np.asarray(quaternion_xyzw, dtype=np.float64)
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"quaternion {q.tolist()} has no direction")
    matrix = np.eye(4)
    matrix[:3, :3] = Rotation.from_quat(q / norm).as_matrix()
    matrix[:3, 3] = np.asarray(translation, dtype=np.float64).reshape(3)
    return matrix


def translation_of(matrix: Matrix4) -> Vector:
    return np.array(matrix[:3, 3], dtype=np.float64)


def quaternion_of(matrix: Matrix4) -> Vector:
    """The rotation of a 4x4 matrix as a unit quaternion (x, y, z, w) with w >= 0."""
    q = Rotation.from_matrix(matrix[:3, :3]).as_quat()
    return np.asarray(-q if q[3] < 0 else q, dtype=np.float64)


def invert(matrix: Matrix4) -> Matrix4:
    """Inverse of a rigid transform."""
    inverse = np.eye(4)
    rotation_t = matrix[:3, :3].T
    inverse[:3, :3] = rotation_t
    inverse[:3, 3] = -rotation_t @ matrix[:3, 3]
    return inverse


def yaw_of(matrix: Matrix4) -> float:
    """Heading about +z of a transform, radians."""
    return float(np.arctan2(matrix[1, 0], matrix[0, 0]))


def yaw_of_quaternion(quaternion_xyzw: npt.ArrayLike) -> float:
    """Heading about +z of a quaternion (x, y, z, w), radians; 0 for the zero quaternion."""
    x, y, z, w = (float(v) for v in np.asarray(quaternion_xyzw, dtype=np.float64).reshape(4))
    if x == y == z == w == 0.0:
        return 0.0
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))
