"""Oriented boxes (perception.extent, through perception.measure): on ray-cast depth images of boxes,
cylinders and spheres on a table, on point sets, fused over views by the tracker, and on views the
embedded simulator renders."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from perception.camera import CameraIntrinsics
from perception.extent import ExtentAccumulator, ExtentSettings, ViewEvidence, canonical, estimate_box
from perception.frame import Detection, OracleSegmentation, RGBDFrame
from perception.geometry import quaternion_of
from perception.measure import Observation, measure
from perception.pipeline import scene_objects
from perception.tracker import Tracker
from sim.camera import CameraRenderer
from sim.scenario import load_scenario, parse_scenario
from sim.simulator import Simulator, TrajectoryPoint

Array = npt.NDArray[np.float64]
INTRINSICS = CameraIntrinsics(640, 480, 433.0, 433.0, 319.5, 239.5)  # the head camera's 58 degrees
TABLE = 0.75


# --- a small ray caster: a table top and one object -----------------------------------------------


@dataclass(frozen=True)
class Thing:
    shape: str  # box, cylinder, sphere
    centre: tuple[float, float, float]
    size: tuple[float, float, float]  # box: x, y, z extents in its frame; cylinder: diameter, -, height
    yaw: float = 0.0


def looking_at(eye: Array, target: Array) -> Array:
    """T_map_camera of an optical frame (z forward, x right, y down) at eye looking at target."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([right, np.cross(forward, right), forward])
    pose[:3, 3] = eye
    return pose


def hit_distance(thing: Thing, origin: Array, rays: Array) -> Array:
    """Distance along each unit ray from origin to the thing, inf where it misses."""
    centre = np.array(thing.centre)
    if thing.shape == "sphere":
        offset = origin - centre
        b = rays @ offset
        disc = b**2 - (offset @ offset - (thing.size[0] / 2) ** 2)
        t = -b - np.sqrt(np.maximum(disc, 0.0))
        return np.where((disc >= 0) & (t > 0), t, np.inf)
    c, s = math.cos(thing.yaw), math.sin(thing.yaw)
    turn = np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])  # map to the thing's frame
    o, d = turn @ (origin - centre), rays @ turn.T
    half = np.array(thing.size) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        if thing.shape == "box":
            near = np.max(np.minimum((-half - o) / d, (half - o) / d), axis=1)
            far = np.min(np.maximum((-half - o) / d, (half - o) / d), axis=1)
            return np.where((near <= far) & (near > 0), near, np.inf)
        # A vertical cylinder: its wall, then its top.
        a = d[:, 0] ** 2 + d[:, 1] ** 2
        b = 2 * (o[0] * d[:, 0] + o[1] * d[:, 1])
        disc = b**2 - 4 * a * (o[0] ** 2 + o[1] ** 2 - half[0] ** 2)
        wall = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2 * a)
        wall = np.where((disc >= 0) & (np.abs(o[2] + wall * d[:, 2]) <= half[2]) & (wall > 0), wall, np.inf)
        top = (half[2] - o[2]) / d[:, 2]
        point = o[:2] + top[:, None] * d[:, :2]
        top = np.where((top > 0) & ((point**2).sum(axis=1) <= half[0] ** 2), top, np.inf)
        return np.asarray(np.minimum(wall, top), dtype=np.float64)


def rendered(thing: Thing, eye: tuple[float, float, float], floor: float = TABLE) -> tuple[RGBDFrame, Detection]:
    """The depth image (optical z) of the thing on an endless table at height ``floor``, and its mask."""
    pose = looking_at(np.array(eye), np.array(thing.centre))
    v, u = np.mgrid[0 : INTRINSICS.height, 0 : INTRINSICS.width]
    optical = np.stack([(u - INTRINSICS.cx) / INTRINSICS.fx, (v - INTRINSICS.cy) / INTRINSICS.fy, np.ones(u.shape)], -1)
    rays = optical.reshape(-1, 3) @ pose[:3, :3].T
    length = np.linalg.norm(rays, axis=1)
    rays /= length[:, None]
    origin = pose[:3, 3]
    thing_t = hit_distance(thing, origin, rays)
    with np.errstate(divide="ignore"):
        table_t = np.where(rays[:, 2] < 0, (floor - origin[2]) / rays[:, 2], np.inf)
    t = np.minimum(thing_t, table_t)
    depth = np.where(np.isfinite(t), t / length, np.nan).reshape(u.shape).astype(np.float32)
    mask = (thing_t <= table_t).reshape(u.shape) & np.isfinite(depth)
    frame = RGBDFrame(1, np.full((*u.shape, 3), 128, np.uint8), depth, INTRINSICS, pose)
    return frame, Detection(thing.shape, mask, 1.0, "test")


def seen_from(
    thing: Thing, azimuth_deg: float, distance: float = 1.1, height: float = 1.38
) -> tuple[float, float, float]:
    a = math.radians(azimuth_deg)
    return (thing.centre[0] + distance * math.cos(a), thing.centre[1] + distance * math.sin(a), height)


def measured(thing: Thing, eye: tuple[float, float, float]) -> Observation:
    frame, detection = rendered(thing, eye)
    observation = measure(detection, frame)
    assert observation is not None
    return observation


def footprint_error(observation_size: Array, thing: Thing) -> tuple[float, float]:
    """Error of the narrower and of the longer footprint side."""
    seen = sorted(observation_size[:2])
    true = sorted(thing.size[:2]) if thing.shape == "box" else [thing.size[0]] * 2
    return abs(seen[0] - true[0]), abs(seen[1] - true[1])


def angle_between(yaw: float, heading: float) -> float:
    """Angle between a box's x axis and a heading, modulo half a turn."""
    return abs((yaw - heading + math.pi / 2) % math.pi - math.pi / 2)


# --- one view --------------------------------------------------------------------------------------


def test_a_rotated_flat_box_seen_from_one_side_is_measured_as_it_is() -> None:
    glasses = Thing("box", (2.0, 1.0, TABLE + 0.02), (0.16, 0.06, 0.04), yaw=0.6)  # the glasses case
    observation = measured(glasses, seen_from(glasses, 200))
    narrow, long = footprint_error(observation.size, glasses)
    assert narrow < 0.004 and long < 0.004, observation.size
    assert abs(observation.size[2] - 0.04) < 0.004
    assert observation.size[0] >= observation.size[1] and -math.pi / 2 <= observation.yaw < math.pi / 2
    assert angle_between(observation.yaw, 0.6) < math.radians(2)  # x along its long side
    assert np.linalg.norm(observation.position - np.array(glasses.centre)) < 0.004


def test_cylinders_and_spheres_get_a_square_footprint_of_their_diameter() -> None:
    for thing in (
        Thing("cylinder", (2.0, 1.0, TABLE + 0.05), (0.08, 0.08, 0.1)),
        Thing("sphere", (2.0, 1.0, TABLE + 0.04), (0.08, 0.08, 0.08)),
    ):
        observation = measured(thing, seen_from(thing, 30))
        narrow, long = footprint_error(observation.size, thing)
        assert narrow < 0.005 and long < 0.005, (thing.shape, observation.size)
        assert abs(observation.size[2] - thing.size[2]) < 0.005, (thing.shape, observation.size)
        assert np.linalg.norm(observation.position - np.array(thing.centre)) < 0.005, thing.shape


def test_a_flat_thing_seen_from_a_low_angle_is_not_measured_square() -> None:
    notepad = Thing("box", (2.0, 1.0, TABLE + 0.0075), (0.21, 0.15, 0.015), yaw=0.2)
    observation = measured(notepad, seen_from(notepad, 10, distance=1.0, height=TABLE + 0.12))  # 7 degrees over it
    narrow, long = footprint_error(observation.size, notepad)
    assert narrow < 0.01 and long < 0.01, observation.size


def test_a_long_thing_seen_end_on_and_side_on() -> None:
    banana = Thing("box", (2.0, 1.0, TABLE + 0.02), (0.18, 0.04, 0.04))
    for azimuth in (0, 90, 135):
        observation = measured(banana, seen_from(banana, azimuth))
        narrow, long = footprint_error(observation.size, banana)
        assert narrow < 0.005 and long < 0.01, (azimuth, observation.size)
        assert observation.size[1] < 0.12  # narrower than the gripper


def test_the_support_is_found_and_free_space_is_seen_behind() -> None:
    sponge = Thing("box", (2.0, 1.0, TABLE + 0.015), (0.1, 0.07, 0.03))
    observation = measured(sponge, seen_from(sponge, 45))
    assert observation.evidence is not None
    assert observation.evidence.support == pytest.approx(TABLE, abs=0.002)
    assert len(observation.evidence.free) > 20  # rays that pass it and end on the table behind


# --- the estimator on point sets ---------------------------------------------------------------


def test_a_corner_seen_from_outside_keeps_the_faces_orientation() -> None:
    # Two faces of a 0.19 x 0.07 box seen from outside their corner (no top): the hull is a triangle
    # whose smallest rectangles are the faces' and the diagonal's; only the faces' has them on its sides.
    front = np.column_stack([np.full(40, 0.035), np.linspace(-0.095, 0.095, 40)])
    side = np.column_stack([np.linspace(-0.035, 0.035, 15), np.full(15, 0.095)])
    box = estimate_box(np.vstack([front, side]), 0.28, 0.0, np.array([[1.2, 0.6, 1.3]]), np.zeros((0, 2, 3)))
    assert box.size[:2] == pytest.approx([0.19, 0.07], abs=0.002)
    assert angle_between(box.yaw, math.pi / 2) < 1e-6
    assert box.centre[:2] == pytest.approx([0.0, 0.0], abs=0.002)


def test_a_hidden_side_is_bounded_by_free_space_and_not_assumed_deeper_than_seen() -> None:
    # The front face of a box 0.2 m wide, seen from +x; what is behind it depends on the free space.
    face = np.column_stack([np.full(50, 0.0), np.linspace(-0.1, 0.1, 50)])
    camera = np.array([[1.0, 0.0, 1.2]])

    def box_with(free: Array) -> tuple[float, float]:
        found = estimate_box(face, 0.1, 0.0, camera, free)
        return float(found.size[1]), float(found.centre[0])

    none = np.zeros((0, 2, 3))
    assert box_with(none) == pytest.approx((0.01, -0.005), abs=1e-6)  # nothing bounds it: as thin as seen
    behind = np.array([[[-0.08, -0.3, 0.05], [-0.08, 0.3, 0.05]]])  # a ray passes 8 cm behind the face
    assert box_with(behind) == pytest.approx((0.04, -0.02), abs=1e-6)  # up to half way there
    close = np.array([[[-0.01, -0.3, 0.05], [-0.01, 0.3, 0.05]]])  # free space just behind: that is its back
    assert box_with(close) == pytest.approx((0.01, -0.005), abs=1e-6)
    above = np.array([[[-0.08, -0.3, 0.2], [-0.08, 0.3, 0.2]]])  # over its top: no bound
    assert box_with(above)[0] == pytest.approx(0.01)


def test_canonical_form() -> None:
    box = canonical(np.zeros(3), 0.05, 0.2, 0.1, 0.3)
    assert box.size.tolist() == pytest.approx([0.2, 0.05, 0.1])
    assert box.yaw == pytest.approx(0.3 + math.pi / 2 - math.pi)
    assert canonical(np.zeros(3), 0.2, 0.05, 0.1, math.pi / 2).yaw == pytest.approx(-math.pi / 2)


# --- fused over views ----------------------------------------------------------------------------


def test_three_views_of_a_tall_box_are_better_than_one() -> None:
    # A cereal box 0.07 deep and 0.19 wide whose top the camera does not see (it is level with it):
    # face-on, its depth is unknown; two more looks from the sides see it.
    cereal = Thing("box", (2.0, 1.0, TABLE + 0.14), (0.07, 0.19, 0.28))
    tracker = Tracker(seed=0)
    errors = []
    for index, azimuth in enumerate((0, -40, 40)):
        frame, detection = rendered(cereal, seen_from(cereal, azimuth, height=TABLE + 0.3))
        observation = measure(detection, frame)
        assert observation is not None
        tracker.update(RGBDFrame((index + 1) * 10**9, frame.color, frame.depth, INTRINSICS, frame.camera_pose),
                       [observation])  # fmt: skip
        (track,) = tracker.tracks.values()
        errors.append(footprint_error(track.size, cereal))
    assert errors[0][0] > 0.03  # face-on: the depth was not seen
    assert errors[2][0] < 0.005 and errors[2][1] < 0.005, errors
    assert angle_between(track.yaw, math.pi / 2) < math.radians(2)  # x along its 19 cm side (map y)


def evidence_of(thing: Thing, azimuth: float) -> ViewEvidence:
    observation = measured(thing, seen_from(thing, azimuth))
    assert observation.evidence is not None
    return observation.evidence


def test_a_view_from_the_same_place_is_not_folded_in_again_and_a_push_starts_afresh() -> None:
    sponge = Thing("box", (2.0, 1.0, TABLE + 0.015), (0.1, 0.07, 0.03))
    fused = ExtentAccumulator()
    fused.add(evidence_of(sponge, 30))
    fused.add(evidence_of(sponge, 30))
    assert fused.views == 1
    fused.add(evidence_of(sponge, 80))
    assert fused.views == 2
    pushed = Thing("box", (2.06, 1.0, TABLE + 0.015), (0.1, 0.07, 0.03), yaw=1.0)  # 6 cm away, turned
    box = fused.add(evidence_of(pushed, 80))
    assert fused.views == 1 and box.centre[:2] == pytest.approx([2.06, 1.0], abs=0.005)


def test_the_track_starts_its_box_afresh_when_the_object_moved_far() -> None:
    tracker = Tracker(seed=0)
    glasses = Thing("box", (2.0, 1.0, TABLE + 0.02), (0.16, 0.06, 0.04), yaw=0.0)
    for index, azimuth in enumerate((30, 80)):
        frame, detection = rendered(glasses, seen_from(glasses, azimuth))
        observation = measure(detection, frame)
        assert observation is not None
        tracker.update(RGBDFrame((index + 1) * 10**9, frame.color, frame.depth, INTRINSICS, frame.camera_pose),
                       [observation])  # fmt: skip
    (track,) = tracker.tracks.values()
    assert track.extent.views == 2
    # The same object 0.6 m away, turned: the correction that decides it moved far (however the
    # association came to match it) starts the box afresh.
    moved = Thing("box", (2.6, 1.0, TABLE + 0.02), (0.16, 0.06, 0.04), yaw=1.2)
    observation = measured(moved, seen_from(moved, 60))
    assert tracker._correct(track, observation, 3 * 10**9)
    assert track.extent.views == 1  # only what it looked like at its new place
    assert footprint_error(track.size, moved)[1] < 0.005
    assert angle_between(track.yaw, 1.2) < math.radians(2)
    (record,) = scene_objects([track])
    restored = Tracker(seed=0)
    restored.restore([record])
    assert angle_between(restored.tracks[track.id].yaw, 1.2) < math.radians(2)  # the yaw survives a restart
    assert quaternion_of(np.eye(4))[3] == 1.0


def test_without_evidence_an_observation_keeps_its_own_box() -> None:
    fused = ExtentAccumulator(ExtentSettings())
    size, yaw = fused.fold(None, np.array([0.1, 0.05, 0.02]), 0.4)
    assert size.tolist() == [0.1, 0.05, 0.02] and yaw == 0.4 and fused.views == 0


# --- views the simulator renders -----------------------------------------------------------------


@pytest.fixture(scope="module")
def kitchen_looks() -> Iterator[dict[str, list[RGBDFrame]]]:
    """Three looks from 1.1 m at the banana and the red cup (counter) and the apple (kitchen table)."""
    looks: dict[str, list[RGBDFrame]] = {}
    for object_id, azimuths in (("yellow_banana", (270, 235, 305)), ("red_cup", (255, 220, 290)),
                                ("red_apple", (50, 15, 85))):  # fmt: skip
        for azimuth in azimuths:
            looks.setdefault(object_id, []).append(simulator_look(object_id, azimuth))
    yield looks


def simulator_look(object_id: str, azimuth_deg: float) -> RGBDFrame:
    """A frame of the kitchen with the robot 1.1 m from the object, facing it, the head on it."""
    document = load_scenario("kitchen").model_dump(mode="json")
    document["events"] = []
    target = Simulator(parse_scenario(document)).object_pose(object_id)[:3, 3]
    a = math.radians(azimuth_deg)
    document["robot"]["pose"] = [target[0] + 1.1 * math.cos(a), target[1] + 1.1 * math.sin(a), a + math.pi]
    sim = Simulator(parse_scenario(document))
    centre = sim.object_pose(object_id)[:3, 3]
    camera = sim.camera_pose()[:3, 3]
    pan = math.atan2(centre[1] - camera[1], centre[0] - camera[0]) - (a + math.pi)
    tilt = -math.atan2(camera[2] - centre[2], math.hypot(*(centre[:2] - camera[:2])))
    pan = math.atan2(math.sin(pan), math.cos(pan))
    sim.follow_trajectory("head_controller", ["joint_head_pan", "joint_head_tilt"],
                          [TrajectoryPoint(0.5, {"joint_head_pan": pan, "joint_head_tilt": tilt})])  # fmt: skip
    sim.advance(1.0)
    renderer = CameraRenderer(sim.model, sim.scenario.camera, sim.object_geoms())
    picture = renderer.render(sim.copy_state())
    renderer.close()
    assert picture.instances is not None
    labels = {o.id: o.label for o in sim.scenario.all_objects()}
    table = {i + 1: (oid, labels[oid]) for i, oid in enumerate(sim.object_ids)}
    oracle = OracleSegmentation(picture.instances, table)
    return RGBDFrame(1, picture.color, picture.depth, renderer.intrinsics, picture.camera_pose, oracle)


@pytest.mark.parametrize(("object_id", "shape", "size"), [
    ("yellow_banana", "box", (0.18, 0.04, 0.04)),
    ("red_cup", "cylinder", (0.08, 0.08, 0.1)),
    ("red_apple", "sphere", (0.08, 0.08, 0.08)),
])  # fmt: skip
def test_rendered_views_from_the_simulator(
    kitchen_looks: dict[str, list[RGBDFrame]], object_id: str, shape: str, size: tuple[float, float, float]
) -> None:
    thing = Thing(shape, (0.0, 0.0, 0.0), size)
    tracker = Tracker(seed=0)
    for index, frame in enumerate(kitchen_looks[object_id]):
        assert frame.oracle is not None
        instance = next(i for i, (oid, _) in frame.oracle.objects.items() if oid == object_id)
        observation = measure(Detection(object_id, frame.oracle.mask == instance, 1.0, "sim_oracle"), frame)
        assert observation is not None
        if index == 0:  # the first look alone
            narrow, long = footprint_error(observation.size, thing)
            assert narrow < 0.005 and long < 0.005, observation.size
        tracker.update(RGBDFrame((index + 1) * 10**9, frame.color, frame.depth, frame.intrinsics,
                                 frame.camera_pose), [observation])  # fmt: skip
    (track,) = tracker.tracks.values()
    narrow, long = footprint_error(track.size, thing)
    assert narrow < 0.005 and long < 0.005, track.size
    assert abs(track.size[2] - size[2]) < 0.005
