"""Round trips through robot_agent.conversions, and typed errors for what cannot be converted."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, Pose, Quaternion
from robot_agent_interfaces.msg import Relation as RelationMsg
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.msg import SkillArgument
from scipy.spatial.transform import Rotation
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker

from control.motion_plan import MotionPlan, motion_plan_of
from control.skills import SkillParameter, SkillSpec
from perception.camera import CameraIntrinsics
from perception.geometry import make_transform
from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject
from planning.plan import PlanStep, StepStatus
from planning.value_maps import SceneItem, VoxelGrid, compose, plan_search
from robot_agent import conversions as conv

RNG = np.random.default_rng(7)


def random_image(encoding: str, height: int = 5, width: int = 7) -> npt.NDArray[np.generic]:
    dtype, channels = conv.IMAGE_ENCODINGS[encoding]
    shape = (height, width) if channels == 1 else (height, width, channels)
    if dtype.kind == "f":
        return RNG.uniform(0.1, 8.0, shape).astype(dtype)
    return RNG.integers(0, np.iinfo(dtype.type).max, shape, endpoint=True).astype(dtype)  # type: ignore[type-var]


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "mono8", "16UC1", "32FC1", "rgba8", "mono16"])
def test_image_round_trip(encoding: str) -> None:
    array = random_image(encoding)
    msg = conv.numpy_to_image(array, encoding, frame_id="camera_color_optical_frame", stamp_ns=1_500_000_001)
    assert (msg.height, msg.width, msg.encoding, msg.is_bigendian) == (5, 7, encoding, 0)
    assert msg.header.frame_id == "camera_color_optical_frame"
    assert conv.time_to_ns(msg.header.stamp) == 1_500_000_001
    back = conv.image_to_numpy(msg)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("encoding", ["rgb8", "16UC1", "32FC1"])
def test_image_with_row_padding(encoding: str) -> None:
    array = random_image(encoding, height=4, width=3)
    padding = 8  # bytes at the end of every row
    msg = conv.numpy_to_image(array, encoding)
    rows = np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.step)
    padded = np.concatenate([rows, np.full((msg.height, padding), 0xAB, np.uint8)], axis=1)
    msg.step += padding
    msg.data = padded.tobytes()
    np.testing.assert_array_equal(conv.image_to_numpy(msg), array)


def test_image_errors_are_typed_and_say_why() -> None:
    msg = conv.numpy_to_image(random_image("16UC1"), "16UC1")
    msg.is_bigendian = 1
    with pytest.raises(conv.ImageConversionError, match="big-endian"):
        conv.image_to_numpy(msg)

    msg = conv.numpy_to_image(random_image("rgb8"), "rgb8")
    msg.data = bytes(msg.data)[:-1]
    with pytest.raises(conv.ImageConversionError, match="bytes"):
        conv.image_to_numpy(msg)

    msg = conv.numpy_to_image(random_image("rgb8"), "rgb8")
    msg.step = 3
    with pytest.raises(conv.ImageConversionError, match="step"):
        conv.image_to_numpy(msg)

    with pytest.raises(conv.ImageConversionError, match="unsupported"):
        conv.image_to_numpy(Image(encoding="yuv422", height=1, width=1, step=2, data=b"ab"))
    with pytest.raises(conv.ImageConversionError, match="dtype"):
        conv.numpy_to_image(np.zeros((2, 2), np.float64), "32FC1")
    with pytest.raises(conv.ImageConversionError, match="shape"):
        conv.numpy_to_image(np.zeros((2, 2), np.uint8), "rgb8")


def test_depth_to_meters_marks_missing_readings() -> None:
    millimetres = np.array([[0, 1000], [2500, 65535]], np.uint16)
    meters = conv.depth_to_meters(millimetres, "16UC1")
    assert np.isnan(meters[0, 0])
    np.testing.assert_allclose(meters[1], [2.5, 65.535])
    floats = np.array([[np.nan, 1.5], [0.0, -1.0]], np.float32)
    meters = conv.depth_to_meters(floats, "32FC1")
    assert np.isnan(meters[0, 0]) and meters[0, 1] == 1.5 and np.isnan(meters[1]).all()
    with pytest.raises(conv.ImageConversionError):
        conv.depth_to_meters(millimetres, "rgb8")


def test_camera_info_round_trip() -> None:
    intrinsics = CameraIntrinsics(640, 480, 525.0, 526.0, 319.5, 239.5, "plumb_bob", (0.1, -0.2, 0.0, 0.0, 0.01))
    msg = conv.intrinsics_to_camera_info(intrinsics, "camera_color_optical_frame")
    assert msg.k[0] == 525.0 and msg.p[0] == 525.0 and msg.p[3] == 0.0
    assert conv.camera_info_to_intrinsics(msg) == intrinsics


def test_camera_info_without_calibration_is_an_error() -> None:
    msg = conv.intrinsics_to_camera_info(CameraIntrinsics.from_fov(320, 240, 60.0))
    msg.k = [0.0] * 9
    with pytest.raises(conv.ImageConversionError, match="focal"):
        conv.camera_info_to_intrinsics(msg)


@pytest.mark.parametrize(
    ("field", "index", "value", "says"),
    [
        ("k", 2, float("nan"), "not finite"),  # a NaN principal point
        ("k", 0, float("inf"), "not finite"),
        ("p", 0, float("nan"), "not finite"),
        ("k", 2, 5000.0, "outside"),  # cx beyond the image
        ("k", 5, -3.0, "outside"),
        ("d", 0, float("nan"), "distortion"),
    ],
)
def test_camera_info_with_a_bad_value_is_refused_with_the_reason(
    field: str, index: int, value: float, says: str
) -> None:
    msg = conv.intrinsics_to_camera_info(CameraIntrinsics.from_fov(320, 240, 60.0), "camera")
    values = list(getattr(msg, field))
    values[index] = value
    setattr(msg, field, values)
    with pytest.raises(conv.ImageConversionError, match=says):
        conv.camera_info_to_intrinsics(msg)


def test_pose_and_transform_round_trip() -> None:
    for _ in range(20):
        quaternion = Rotation.random(random_state=RNG.integers(1 << 30)).as_quat()
        matrix = make_transform(RNG.uniform(-5, 5, 3), quaternion)
        np.testing.assert_allclose(conv.pose_to_matrix(conv.matrix_to_pose(matrix)), matrix, atol=1e-12)
        np.testing.assert_allclose(conv.transform_to_matrix(conv.matrix_to_transform(matrix)), matrix, atol=1e-12)
    pose = Pose(position=Point(x=1.0, y=2.0, z=3.0), orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=2.0))
    np.testing.assert_allclose(conv.pose_to_matrix(pose)[:3, :3], np.eye(3))  # normalised
    with pytest.raises(ValueError, match="quaternion"):
        conv.pose_to_matrix(Pose(orientation=Quaternion(x=0.0, y=0.0, z=0.0, w=0.0)))


def test_time_round_trip() -> None:
    for ns in (0, 1, 999_999_999, 1_700_000_000_123_456_789):
        assert conv.time_to_ns(conv.ns_to_time(ns)) == ns
    assert conv.time_to_ns(Time(sec=2, nanosec=5)) == 2_000_000_005
    assert conv.duration_to_seconds(conv.seconds_to_duration(1.25)) == 1.25


def sample_graph() -> SceneGraph:
    graph = SceneGraph(frame_id="map", stamp_ns=42_000_000_123)
    graph.upsert(SceneObject(id="kitchen", label="kitchen", kind=ObjectKind.ROOM))
    graph.upsert(
        SceneObject(id="table_1", label="table", kind=ObjectKind.FURNITURE, position=np.array([2.0, 1.0, 0.4]))
    )
    graph.upsert(
        SceneObject(
            id="cup_2",
            label="cup",
            position=np.array([2.1, 0.9, 0.8]),
            orientation=np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)]),
            covariance=np.diag([0.01, 0.01, 0.02, 0.1, 0.1, 0.1]),
            size=np.array([0.08, 0.08, 0.1]),
            attributes={"color": "red", "material": "ceramic"},
            confidence=0.83,
            last_seen_ns=41_999_000_000,
            state=ObjectState.MOVED,
            source="color",
            particles=RNG.normal(size=(5, 3)),
        )
    )
    graph.set_relations(
        [
            Relation("cup_2", Predicate.ON, "table_1", 0.9),
            Relation("table_1", Predicate.PART_OF, "kitchen"),
        ]
    )
    return graph


def test_scene_graph_round_trip() -> None:
    graph = sample_graph()
    back = conv.scene_graph_from_msg(conv.scene_graph_to_msg(graph))
    assert (back.frame_id, back.stamp_ns, back.revision) == (graph.frame_id, graph.stamp_ns, graph.revision)
    assert back.relations[0] == Relation("cup_2", Predicate.ON, "table_1", pytest.approx(0.9))  # type: ignore[arg-type]
    assert set(back.objects) == set(graph.objects)
    for obj in graph:
        other = back.objects[obj.id]
        assert (other.label, other.kind, other.state, other.source) == (obj.label, obj.kind, obj.state, obj.source)
        assert other.attributes == obj.attributes and other.last_seen_ns == obj.last_seen_ns
        assert other.confidence == pytest.approx(obj.confidence)
        for field in ("position", "orientation", "covariance", "size"):
            np.testing.assert_allclose(getattr(other, field), getattr(obj, field))
        np.testing.assert_allclose(other.particles, obj.particles)


def test_scene_graph_from_a_bad_message_names_the_problem() -> None:
    msg = conv.scene_graph_to_msg(sample_graph())
    msg.relations.append(RelationMsg(subject_id="cup_2", predicate="under", object_id="table_1"))
    with pytest.raises(ValueError, match="under"):
        conv.scene_graph_from_msg(msg)
    msg = conv.scene_graph_to_msg(sample_graph())
    msg.relations.append(RelationMsg(subject_id="ghost", predicate="on", object_id="table_1"))
    with pytest.raises(KeyError, match="ghost"):
        conv.scene_graph_from_msg(msg)
    msg = conv.scene_graph_to_msg(sample_graph())
    msg.objects.append(msg.objects[0])
    with pytest.raises(ValueError, match="twice"):
        conv.scene_graph_from_msg(msg)
    msg = SceneGraphMsg(objects=[conv.scene_object_to_msg(SceneObject(id="x", label="x"))])
    msg.objects[0].state = 99
    with pytest.raises(ValueError, match="'x'"):
        conv.scene_graph_from_msg(msg)


def test_plan_step_and_skill_spec_round_trip() -> None:
    step = PlanStep(3, "PICK", {"object": "cup_2"}, "pick up the red cup", StepStatus.FAILED, 11, "slipped")
    assert conv.plan_step_from_msg(conv.plan_step_to_msg(step)) == step
    spec = SkillSpec(
        "GOTO",
        "Drive somewhere.",
        (SkillParameter("target", "object_id", "where"), SkillParameter("speed", "float", "", False, "0.5")),
        ("localized",),
        ("at(target)",),
    )
    assert conv.skill_spec_from_msg(conv.skill_spec_to_msg(spec)) == spec
    with pytest.raises(ValueError, match="twice"):
        conv.arguments_from_msg([SkillArgument(name="a", value="1"), SkillArgument(name="a", value="2")])


def planned_motion(success: bool = True) -> MotionPlan:
    """A small arm-plane-like plan: a box between the start and the target, planned with the search planner."""
    grid = VoxelGrid((0.0, 0.0, 0.0), (0.6, 0.6, 0.6), (16, 16, 16))
    box = SceneItem("box", "box", np.array([0.3, 0.3, 0.2]), np.array([0.1, 0.1, 0.4]))
    target = [0.3, 0.5, 0.2] if success else [0.3, 0.3, 0.2]  # inside the box: cut off
    maps = compose({"affordance": {"point": target}, "velocity": {"scale": 0.5}}, grid, [box])
    path = plan_search(maps, [0.3, 0.1, 0.2])
    assert path.success == success
    return motion_plan_of(maps, path, skill="PICK", doing="moving to box", frame_id="base_link", stamp=12.5)


def test_motion_plan_markers_show_the_path_target_and_obstacles() -> None:
    plan = planned_motion()
    markers = {m.ns: m for m in conv.motion_plan_to_markers(plan).markers}
    assert set(markers) == {f"value_map/arm/{part}" for part in ("path", "target", "obstacles", "label")}
    assert all(m.header.frame_id == "base_link" and conv.time_to_ns(m.header.stamp) == 12_500_000_000
               for m in markers.values())  # fmt: skip
    path = markers["value_map/arm/path"]
    assert path.type == path.LINE_STRIP and path.action == path.ADD
    np.testing.assert_allclose([[p.x, p.y, p.z] for p in path.points], plan.waypoints)
    assert len(path.colors) == len(path.points) and all(c.g <= 0.5 + 1e-6 for c in path.colors)  # half speed
    obstacles = markers["value_map/arm/obstacles"]
    assert obstacles.type == obstacles.CUBE_LIST and len(obstacles.points) == len(plan.obstacles) > 0
    assert obstacles.scale.x == pytest.approx(plan.voxel_size[0])
    inside = [abs(p.x - 0.3) <= 0.07 and abs(p.y - 0.3) <= 0.07 for p in obstacles.points]
    assert all(inside)  # the box's core surface, nothing elsewhere
    target = markers["value_map/arm/target"]
    assert target.type == target.CUBE_LIST and len(target.points) == len(plan.target) > 0
    assert "PICK: moving to box" in markers["value_map/arm/label"].text


def test_a_failed_plan_is_red_and_a_composition_without_a_path_deletes_the_old_one() -> None:
    failed = {m.ns: m for m in conv.motion_plan_to_markers(planned_motion(success=False)).markers}
    assert failed["value_map/arm/path"].action == Marker.DELETE or failed["value_map/arm/path"].color.r == 1.0
    assert "failed" in failed["value_map/arm/label"].text
    plan = planned_motion()
    assert plan.maps is not None
    alone = motion_plan_of(plan.maps, None, skill="MANIPULATE", doing="where", frame_id="map", stamp=0.0,
                           layer="workspace")  # fmt: skip
    markers = {m.ns: m for m in conv.motion_plan_to_markers(alone).markers}
    assert markers["value_map/workspace/path"].action == Marker.DELETE
    assert markers["value_map/workspace/target"].action == Marker.ADD


def test_motion_plan_cloud_round_trip() -> None:
    plan = planned_motion()
    msg = conv.motion_plan_to_cloud(plan)
    assert (msg.header.frame_id, msg.height, msg.width, msg.point_step) == ("base_link", 1, len(plan.cloud), 16)
    assert [f.name for f in msg.fields] == ["x", "y", "z", "cost"]
    fields = conv.cloud_fields(msg)
    np.testing.assert_array_equal(np.stack([fields[a] for a in "xyz"], axis=1), plan.cloud.astype(np.float32))
    np.testing.assert_array_equal(fields["cost"], plan.cloud_cost.astype(np.float32))
    assert len(plan.cloud) == 16**3  # a small grid is kept whole
    msg.is_bigendian = True
    with pytest.raises(ValueError, match="little-endian"):
        conv.cloud_fields(msg)
