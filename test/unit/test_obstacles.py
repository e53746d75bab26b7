"""Live obstacles from depth frames: back-projection into the map, height and range filters, the
robot's own footprint, memory and clearing, on synthetic depth images ray-cast from boxes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from scipy.spatial.transform import Rotation

from control.navigation.obstacles import LiveObstacles, ObstacleSettings, depth_points
from perception.camera import CameraIntrinsics
from perception.geometry import Matrix4, make_transform

FloatArray = npt.NDArray[np.float64]
Box = tuple[tuple[float, float, float], tuple[float, float, float]]  # (min x, y, z), (max x, y, z) in the map

INTRINSICS = CameraIntrinsics.from_fov(320, 240, 58.0)
SETTINGS = ObstacleSettings()
CAMERA_HEIGHT = 1.0
# A crate 2 m ahead of a camera at the origin looking along +x; a beam overhead, higher than the robot.
CRATE: Box = ((2.0, -0.25, 0.0), (2.3, 0.25, 0.8))
BEAM: Box = ((2.4, -1.0, 1.5), (2.6, 1.0, 1.9))
BACK_WALL: Box = ((3.5, -5.0, 0.0), (3.6, 5.0, 3.0))  # beyond max_range from the camera
# map-from-optical rotation for a camera looking along +x: optical z forward, x right (-y), y down (-z)
LOOKING_ALONG_X = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def camera_pose(x: float, y: float, z: float, yaw: float = 0.0, pitch: float = 0.0) -> Matrix4:
    """The map-from-camera (optical frame) transform of a camera at (x, y, z) looking along ``yaw``,
    tilted down by ``pitch``."""
    rotation = Rotation.from_euler("ZY", [yaw, pitch]).as_matrix() @ LOOKING_ALONG_X
    return make_transform((x, y, z), Rotation.from_matrix(rotation).as_quat())


def render_depth(
    pose: Matrix4, boxes: Sequence[Box] = (), floor: bool = True, intrinsics: CameraIntrinsics = INTRINSICS
) -> npt.NDArray[np.float32]:
    """A depth image (optical z, metres; 0 where nothing is hit) of the floor and axis-aligned boxes."""
    rows, cols = np.mgrid[0 : intrinsics.height, 0 : intrinsics.width]
    optical = np.stack(
        [(cols - intrinsics.cx) / intrinsics.fx, (rows - intrinsics.cy) / intrinsics.fy, np.ones(rows.shape)], axis=-1
    )
    direction = optical @ pose[:3, :3].T  # map-frame ray per pixel, scaled so that its optical z is 1
    origin = pose[:3, 3]
    depth = np.full(rows.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        if floor:
            t = -origin[2] / direction[..., 2]
            depth = np.where((direction[..., 2] < 0) & (t > 0), np.minimum(depth, t), depth)
        for low, high in boxes:
            t_low = (np.asarray(low) - origin) / direction
            t_high = (np.asarray(high) - origin) / direction
            near = np.nanmax(np.minimum(t_low, t_high), axis=-1)
            far = np.nanmin(np.maximum(t_low, t_high), axis=-1)
            hit = (near <= far) & (near > 0)
            depth = np.where(hit, np.minimum(depth, near), depth)
    return np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)


def inside(points: FloatArray, box: Box, margin: float = 0.01) -> npt.NDArray[np.bool_]:
    """Which (N, 2) map points lie in the box's footprint, ``margin`` around it included."""
    (x0, y0, _), (x1, y1, _) = box
    return np.asarray(
        (points[:, 0] >= x0 - margin)
        & (points[:, 0] <= x1 + margin)
        & (points[:, 1] >= y0 - margin)
        & (points[:, 1] <= y1 + margin),
        dtype=bool,
    )


# --- back-projection --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "yaw", "axis", "expected"),
    [(0.0, 0.0, 0.0, 0, 2.0), (1.0, 2.0, math.pi / 2, 1, 4.0), (3.0, -1.0, math.pi, 0, 1.0)],
)
def test_depth_points_of_a_flat_wall_land_on_the_wall(
    x: float, y: float, yaw: float, axis: int, expected: float
) -> None:
    depth = np.full((INTRINSICS.height, INTRINSICS.width), 2.0, dtype=np.float32)  # a wall 2 m ahead, square on
    points = depth_points(depth, INTRINSICS, camera_pose(x, y, CAMERA_HEIGHT, yaw), stride=8)
    assert points.shape == (30 * 40, 3)
    np.testing.assert_allclose(points[:, axis], expected, atol=0.003)
    # The wall spans the field of view: 2 m * tan(29 deg) above and below the camera.
    half_height = 2.0 * math.tan(math.radians(29.0))
    assert points[:, 2].max() == pytest.approx(CAMERA_HEIGHT + half_height, abs=0.05)
    assert points[:, 2].min() == pytest.approx(CAMERA_HEIGHT - half_height, abs=0.05)
    assert points[:, 2].max() - CAMERA_HEIGHT == pytest.approx(CAMERA_HEIGHT - points[:, 2].min(), abs=0.02)


def test_depth_points_skip_invalid_pixels_and_follow_the_stride() -> None:
    depth = np.full((INTRINSICS.height, INTRINSICS.width), 2.0, dtype=np.float32)
    depth[: INTRINSICS.height // 2] = np.nan  # the upper half returns nothing
    depth[:, : INTRINSICS.width // 2] = 0.0  # nor the left half
    points = depth_points(depth, INTRINSICS, camera_pose(0.0, 0.0, CAMERA_HEIGHT), stride=4)
    assert points.shape == (30 * 40, 3)  # a quarter of the 60 x 80 samples
    assert (points[:, 2] < CAMERA_HEIGHT).all()  # below the camera's axis
    assert (points[:, 1] < 0.0).all()  # right of it
    np.testing.assert_allclose(points[:, 0], 2.0, atol=0.003)


def test_a_tilted_camera_sees_the_floor_at_height_zero() -> None:
    pose = camera_pose(0.5, 0.5, CAMERA_HEIGHT, yaw=0.3, pitch=0.6)
    points = depth_points(render_depth(pose), INTRINSICS, pose, stride=8)
    assert len(points) > 500
    np.testing.assert_allclose(points[:, 2], 0.0, atol=0.003)


# --- what counts as an obstacle ------------------------------------------------------------------------


def test_a_crate_is_an_obstacle_but_the_floor_and_a_beam_overhead_are_not() -> None:
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    depth = render_depth(pose, [CRATE, BEAM])
    seen = depth_points(depth, INTRINSICS, pose, SETTINGS.stride)
    assert (np.abs(seen[:, 2]) < 0.003).sum() > 50  # the frame holds floor points
    assert (seen[:, 2] > SETTINGS.max_height).sum() > 20  # and beam points, within range
    assert inside(seen[:, :2], BEAM).sum() > 20
    obstacles = LiveObstacles(SETTINGS)
    count = obstacles.add_frame(depth, INTRINSICS, pose, (0.0, 0.0), stamp=10.0)
    points = obstacles.points(10.0)
    assert points.shape == (count, 2)
    assert count > 20
    assert inside(points, CRATE).all()  # nothing of the floor or the beam
    assert (np.abs(points[:, 0] - CRATE[0][0]) < 0.01).sum() > 20  # its front face, where it stands


def test_points_near_the_robot_are_its_own_body() -> None:
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    post: Box = ((2.0, -0.15, 0.0), (2.1, 0.15, 1.2))  # taller than the camera: only its front face shows
    depth = render_depth(pose, [post])
    counts: dict[tuple[float, float], int] = {}
    for base_xy in ((0.0, 0.0), (1.8, 0.0), (2.0, 0.5)):
        obstacles = LiveObstacles(SETTINGS)
        counts[base_xy] = obstacles.add_frame(depth, INTRINSICS, pose, base_xy, stamp=0.0)
        points = obstacles.points(0.0)
        assert inside(points, post).all()
        assert (np.hypot(points[:, 0] - base_xy[0], points[:, 1] - base_xy[1]) >= SETTINGS.robot_clearance).all()
    assert counts[(0.0, 0.0)] > 20
    assert counts[(1.8, 0.0)] == 0  # the whole post lies within the clearance
    assert 0 < counts[(2.0, 0.5)] < counts[(0.0, 0.0)]  # its nearer part does


def test_points_beyond_the_range_are_dropped() -> None:
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    far_crate: Box = ((3.2, -0.25, 0.0), (3.5, 0.25, 0.8))
    obstacles = LiveObstacles(SETTINGS)
    assert obstacles.add_frame(render_depth(pose, [far_crate]), INTRINSICS, pose, (0.0, 0.0), stamp=0.0) == 0
    assert obstacles.points(0.0).shape == (0, 2)


# --- memory and clearing ------------------------------------------------------------------------------


def seen_crate(stamp: float = 0.0) -> tuple[LiveObstacles, FloatArray]:
    """Obstacles after one frame of the crate from the origin, and the crate's points."""
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    obstacles = LiveObstacles(SETTINGS)
    assert obstacles.add_frame(render_depth(pose, [CRATE, BACK_WALL]), INTRINSICS, pose, (0.0, 0.0), stamp) > 20
    return obstacles, obstacles.points(stamp)


def test_obstacles_are_forgotten_after_memory_s() -> None:
    obstacles, crate = seen_crate(stamp=100.0)
    np.testing.assert_array_equal(obstacles.points(100.0 + SETTINGS.memory_s - 0.01), crate)
    assert obstacles.points(100.0 + SETTINGS.memory_s + 0.01).shape == (0, 2)
    # A frame that sees nothing new drops the forgotten points for good.
    away = camera_pose(0.0, 0.0, CAMERA_HEIGHT, yaw=math.pi)
    assert obstacles.add_frame(render_depth(away), INTRINSICS, away, (0.0, 0.0), 106.0) == 0
    assert obstacles.points(100.0).shape == (0, 2)


def test_a_frame_that_sees_through_the_spot_clears_it() -> None:
    obstacles, _ = seen_crate()
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    gone = render_depth(pose, [BACK_WALL])  # the crate was taken away: the wall behind shows
    assert obstacles.add_frame(gone, INTRINSICS, pose, (0.0, 0.0), stamp=1.0) == 0
    assert obstacles.points(1.0).shape == (0, 2)


def test_a_frame_that_sees_through_part_of_the_spot_clears_that_part() -> None:
    obstacles, crate = seen_crate()
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    half: Box = ((2.0, 0.0, 0.0), (2.3, 0.25, 0.8))  # only the crate's left half stays
    obstacles.add_frame(render_depth(pose, [half, BACK_WALL]), INTRINSICS, pose, (0.0, 0.0), stamp=1.0)
    points = obstacles.points(1.0)
    assert inside(points, half).all()
    old_left = crate[crate[:, 1] > 0.02]  # clear of the cut, by more than a pixel
    assert 20 < len(old_left) < len(crate)
    assert {tuple(p) for p in old_left} <= {tuple(p) for p in points}  # kept: the crate still hides the wall there


@pytest.mark.parametrize(
    "pose",
    [
        camera_pose(0.0, 0.0, CAMERA_HEIGHT, yaw=math.pi),  # turned away: the spot is behind the camera
        camera_pose(0.0, 0.0, CAMERA_HEIGHT, yaw=1.2),  # turned aside: the spot is out of the image
    ],
)
def test_a_frame_that_does_not_see_the_spot_keeps_it(pose: Matrix4) -> None:
    obstacles, crate = seen_crate()
    assert obstacles.add_frame(render_depth(pose, [BACK_WALL]), INTRINSICS, pose, (0.0, 0.0), stamp=1.0) == 0
    np.testing.assert_array_equal(obstacles.points(1.0), crate)


def test_a_frame_that_still_sees_the_crate_keeps_it() -> None:
    obstacles, crate = seen_crate()
    pose = camera_pose(0.0, 0.0, CAMERA_HEIGHT)
    count = obstacles.add_frame(render_depth(pose, [CRATE, BACK_WALL]), INTRINSICS, pose, (0.0, 0.0), stamp=1.0)
    points = obstacles.points(1.0)
    assert count == len(crate)
    assert len(points) == 2 * len(crate)  # the old points and the new, until the old ones are forgotten
    assert inside(points, CRATE).all()
    assert len(obstacles.points(1.0 + SETTINGS.memory_s - 0.5)) == len(crate)  # the first frame's are forgotten
