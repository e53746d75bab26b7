"""Translations between ROS messages and the ROS-free domain types; the only place that does it.

Every pair here is round-trip tested in test/unit/test_conversions.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
from builtin_interfaces.msg import Duration, Time
from diagnostic_msgs.msg import KeyValue
from geometry_msgs.msg import Point, Pose, PoseWithCovariance, Quaternion, Transform, Vector3
from robot_agent_interfaces.msg import PlanStep as PlanStepMsg
from robot_agent_interfaces.msg import Relation as RelationMsg
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.msg import SceneObject as SceneObjectMsg
from robot_agent_interfaces.msg import SkillArgument, SkillDescription, SkillParameter
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from control.motion_plan import MotionPlan
from control.skills import SkillParameter as SkillParameterSpec
from control.skills import SkillSpec
from perception.camera import CameraIntrinsics
from perception.geometry import Matrix4, make_transform, quaternion_of, translation_of
from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject
from planning.plan import PlanStep, StepStatus

NS_PER_S = 1_000_000_000


class ImageConversionError(ValueError):
    """An Image message and an array cannot be converted into each other; the message says why."""


# encoding -> (dtype, channels)
IMAGE_ENCODINGS: dict[str, tuple[np.dtype[np.generic], int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}


# --- time -----------------------------------------------------------------------------------


def time_to_ns(stamp: Time) -> int:
    return int(stamp.sec) * NS_PER_S + int(stamp.nanosec)


def ns_to_time(nanoseconds: int) -> Time:
    sec, nanosec = divmod(int(nanoseconds), NS_PER_S)
    return Time(sec=sec, nanosec=nanosec)


def seconds_to_duration(seconds: float) -> Duration:
    sec, nanosec = divmod(round(seconds * NS_PER_S), NS_PER_S)
    return Duration(sec=int(sec), nanosec=int(nanosec))


def duration_to_seconds(duration: Duration) -> float:
    return duration.sec + duration.nanosec / NS_PER_S


# --- images ---------------------------------------------------------------------------------


def image_to_numpy(msg: Image) -> npt.NDArray[np.generic]:
    """A view of the image as an (H, W) or (H, W, C) array; ``step`` padding is skipped.

    Depth: 16UC1 is millimetres (0 = no reading), 32FC1 metres (NaN = no reading); see
    ``depth_to_meters``. The array shares memory with the message where it can.
    """
    if msg.encoding not in IMAGE_ENCODINGS:
        raise ImageConversionError(
            f"unsupported image encoding {msg.encoding!r}; supported: {', '.join(IMAGE_ENCODINGS)}"
        )
    dtype, channels = IMAGE_ENCODINGS[msg.encoding]
    if msg.is_bigendian and dtype.itemsize > 1:
        raise ImageConversionError(f"big-endian {msg.encoding} images are not supported")
    row_bytes = msg.width * channels * dtype.itemsize
    if msg.step < row_bytes:
        raise ImageConversionError(
            f"step {msg.step} is smaller than a row of {msg.width} {msg.encoding} pixels ({row_bytes} bytes)"
        )
    if msg.step % dtype.itemsize:
        raise ImageConversionError(f"step {msg.step} is not a multiple of the {dtype.itemsize}-byte pixel element")
    expected = msg.step * msg.height
    if len(msg.data) != expected:
        raise ImageConversionError(
            f"data holds {len(msg.data)} bytes, but {msg.height} rows of step {msg.step} need {expected}"
        )
    raw = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)
    pixels = raw[:, :row_bytes].view(dtype.newbyteorder("<"))
    shape = (msg.height, msg.width) if channels == 1 else (msg.height, msg.width, channels)
    return pixels.reshape(shape)


def numpy_to_image(array: npt.NDArray[np.generic], encoding: str, frame_id: str = "", stamp_ns: int = 0) -> Image:
    """An Image message holding ``array`` with no row padding."""
    if encoding not in IMAGE_ENCODINGS:
        raise ImageConversionError(f"unsupported image encoding {encoding!r}; supported: {', '.join(IMAGE_ENCODINGS)}")
    dtype, channels = IMAGE_ENCODINGS[encoding]
    if array.dtype != dtype:
        raise ImageConversionError(f"{encoding} needs dtype {dtype}, got {array.dtype}")
    if channels == 1 and array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    expected_ndim = 2 if channels == 1 else 3
    if array.ndim != expected_ndim or (channels > 1 and array.shape[2] != channels):
        raise ImageConversionError(
            f"{encoding} needs shape (H, W{'' if channels == 1 else f', {channels}'}), got {array.shape}"
        )
    height, width = array.shape[:2]
    msg = Image()
    msg.header = Header(frame_id=frame_id, stamp=ns_to_time(stamp_ns))
    msg.height, msg.width, msg.encoding = height, width, encoding
    msg.is_bigendian = 0
    msg.step = width * channels * dtype.itemsize
    msg.data = np.ascontiguousarray(array, dtype=dtype.newbyteorder("<")).tobytes()
    return msg


def depth_to_meters(depth: npt.NDArray[np.generic], encoding: str) -> npt.NDArray[np.float32]:
    """Depth in metres as float32 with NaN where there is no reading (16UC1 0, 32FC1 NaN or <= 0)."""
    if encoding in {"16UC1", "mono16"}:
        meters = depth.astype(np.float32) / 1000.0
        meters[depth == 0] = np.nan
        return meters
    if encoding == "32FC1":
        meters = np.array(depth, dtype=np.float32)
        meters[~(meters > 0)] = np.nan
        return meters
    raise ImageConversionError(f"{encoding!r} is not a depth encoding (16UC1 or 32FC1)")


# --- camera info ----------------------------------------------------------------------------


def camera_info_to_intrinsics(msg: CameraInfo) -> CameraIntrinsics:
    """The intrinsics of a CameraInfo; ImageConversionError names what is wrong (sizes, a focal length
    or principal point that is not positive, finite or inside the image, a non-finite K or P)."""
    k = list(msg.k)
    if not all(np.isfinite(k)) or not all(np.isfinite(list(msg.p))):
        raise ImageConversionError(f"invalid CameraInfo for frame {msg.header.frame_id!r}: K or P is not finite")
    try:
        intrinsics = CameraIntrinsics(
            width=msg.width,
            height=msg.height,
            fx=k[0],
            fy=k[4],
            cx=k[2],
            cy=k[5],
            distortion_model=msg.distortion_model,
            distortion=tuple(float(d) for d in msg.d),
        )
    except ValueError as error:
        raise ImageConversionError(f"invalid CameraInfo for frame {msg.header.frame_id!r}: {error}") from None
    if not (0.0 <= k[2] <= msg.width and 0.0 <= k[5] <= msg.height):  # a crop's may, a camera's may not
        raise ImageConversionError(
            f"invalid CameraInfo for frame {msg.header.frame_id!r}: the principal point ({k[2]:g}, {k[5]:g}) "
            f"lies outside the {msg.width}x{msg.height} image"
        )
    return intrinsics


def intrinsics_to_camera_info(intrinsics: CameraIntrinsics, frame_id: str = "", stamp_ns: int = 0) -> CameraInfo:
    msg = CameraInfo()
    msg.header = Header(frame_id=frame_id, stamp=ns_to_time(stamp_ns))
    msg.width, msg.height = intrinsics.width, intrinsics.height
    msg.distortion_model = intrinsics.distortion_model
    msg.d = list(intrinsics.distortion)
    msg.k = intrinsics.matrix.reshape(9).tolist()
    msg.r = np.eye(3).reshape(9).tolist()
    projection = np.zeros((3, 4))
    projection[:, :3] = intrinsics.matrix
    msg.p = projection.reshape(12).tolist()
    return msg


# --- poses and transforms -------------------------------------------------------------------


def pose_to_matrix(pose: Pose) -> Matrix4:
    p, q = pose.position, pose.orientation
    return make_transform((p.x, p.y, p.z), (q.x, q.y, q.z, q.w))


def matrix_to_pose(matrix: Matrix4) -> Pose:
    t, q = translation_of(matrix), quaternion_of(matrix)
    return Pose(position=Point(x=t[0], y=t[1], z=t[2]), orientation=Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]))


def transform_to_matrix(transform: Transform) -> Matrix4:
    t, q = transform.translation, transform.rotation
    return make_transform((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))


def matrix_to_transform(matrix: Matrix4) -> Transform:
    t, q = translation_of(matrix), quaternion_of(matrix)
    return Transform(translation=Vector3(x=t[0], y=t[1], z=t[2]), rotation=Quaternion(x=q[0], y=q[1], z=q[2], w=q[3]))


# --- scene graph ----------------------------------------------------------------------------


def key_values(mapping: Mapping[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=v) for k, v in mapping.items()]


def scene_object_to_msg(obj: SceneObject) -> SceneObjectMsg:
    msg = SceneObjectMsg()
    msg.id, msg.label, msg.kind = obj.id, obj.label, int(obj.kind)
    msg.attributes = key_values(obj.attributes)
    msg.pose = PoseWithCovariance(
        pose=Pose(
            position=Point(x=obj.position[0], y=obj.position[1], z=obj.position[2]),
            orientation=Quaternion(
                x=obj.orientation[0], y=obj.orientation[1], z=obj.orientation[2], w=obj.orientation[3]
            ),
        ),
        covariance=obj.covariance.reshape(36).tolist(),
    )
    msg.size = Vector3(x=obj.size[0], y=obj.size[1], z=obj.size[2])
    msg.confidence = float(obj.confidence)
    msg.last_seen = ns_to_time(obj.last_seen_ns)
    msg.state = int(obj.state)
    msg.source = obj.source
    msg.particles = [Point(x=p[0], y=p[1], z=p[2]) for p in obj.particles.tolist()]
    return msg


def scene_object_from_msg(msg: SceneObjectMsg) -> SceneObject:
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    try:
        return SceneObject(
            id=msg.id,
            label=msg.label,
            kind=ObjectKind(msg.kind),
            position=np.array([p.x, p.y, p.z]),
            orientation=np.array([q.x, q.y, q.z, q.w]),
            covariance=np.array(msg.pose.covariance, dtype=np.float64).reshape(6, 6),
            size=np.array([msg.size.x, msg.size.y, msg.size.z]),
            attributes={kv.key: kv.value for kv in msg.attributes},
            confidence=float(np.clip(msg.confidence, 0.0, 1.0)),
            last_seen_ns=time_to_ns(msg.last_seen),
            state=ObjectState(msg.state),
            source=msg.source,
            particles=np.array([[pt.x, pt.y, pt.z] for pt in msg.particles], dtype=np.float64).reshape(-1, 3),
        )
    except ValueError as error:
        raise ValueError(f"invalid SceneObject {msg.id!r}: {error}") from None


def relation_to_msg(relation: Relation) -> RelationMsg:
    return RelationMsg(
        subject_id=relation.subject_id,
        predicate=relation.predicate.value,
        object_id=relation.object_id,
        confidence=float(relation.confidence),
    )


def relation_from_msg(msg: RelationMsg) -> Relation:
    try:
        predicate = Predicate(msg.predicate)
    except ValueError:
        raise ValueError(
            f"unknown relation predicate {msg.predicate!r}; known: {', '.join(p.value for p in Predicate)}"
        ) from None
    return Relation(msg.subject_id, predicate, msg.object_id, float(msg.confidence))


def scene_graph_to_msg(graph: SceneGraph) -> SceneGraphMsg:
    return SceneGraphMsg(
        header=Header(frame_id=graph.frame_id, stamp=ns_to_time(graph.stamp_ns)),
        revision=graph.revision,
        objects=[scene_object_to_msg(obj) for obj in graph],
        relations=[relation_to_msg(r) for r in graph.relations],
    )


def scene_graph_from_msg(msg: SceneGraphMsg) -> SceneGraph:
    """The domain graph; raises ValueError naming the bad object or relation."""
    graph = SceneGraph(frame_id=msg.header.frame_id, stamp_ns=time_to_ns(msg.header.stamp))
    for obj_msg in msg.objects:
        if obj_msg.id in graph:
            raise ValueError(f"SceneGraph holds object id {obj_msg.id!r} twice")
        graph.objects[obj_msg.id] = scene_object_from_msg(obj_msg)
    graph.set_relations(relation_from_msg(r) for r in msg.relations)
    graph.revision = msg.revision
    return graph


# --- plans and skills -----------------------------------------------------------------------


def arguments_to_msg(arguments: Mapping[str, str]) -> list[SkillArgument]:
    return [SkillArgument(name=k, value=v) for k, v in arguments.items()]


def arguments_from_msg(arguments: Iterable[SkillArgument]) -> dict[str, str]:
    result: dict[str, str] = {}
    for argument in arguments:
        if argument.name in result:
            raise ValueError(f"argument {argument.name!r} given twice")
        result[argument.name] = argument.value
    return result


def plan_step_to_msg(step: PlanStep) -> PlanStepMsg:
    return PlanStepMsg(
        index=step.index,
        skill=step.skill,
        arguments=arguments_to_msg(step.arguments),
        description=step.description,
        status=int(step.status),
        error_code=step.error_code,
        error_msg=step.error_msg,
    )


def plan_step_from_msg(msg: PlanStepMsg) -> PlanStep:
    return PlanStep(
        index=msg.index,
        skill=msg.skill,
        arguments=arguments_from_msg(msg.arguments),
        description=msg.description,
        status=StepStatus(msg.status),
        error_code=msg.error_code,
        error_msg=msg.error_msg,
    )


def skill_spec_to_msg(spec: SkillSpec) -> SkillDescription:
    return SkillDescription(
        name=spec.name,
        description=spec.description,
        parameters=[
            SkillParameter(
                name=p.name, type=p.type, description=p.description, required=p.required, default_value=p.default
            )
            for p in spec.parameters
        ],
        preconditions=list(spec.preconditions),
        effects=list(spec.effects),
    )


def skill_spec_from_msg(msg: SkillDescription) -> SkillSpec:
    return SkillSpec(
        name=msg.name,
        description=msg.description,
        parameters=tuple(
            SkillParameterSpec(
                name=p.name, type=p.type, description=p.description, required=p.required, default=p.default_value
            )
            for p in msg.parameters
        ),
        preconditions=tuple(msg.preconditions),
        effects=tuple(msg.effects),
    )


# --- planned arm motions (value maps) ---------------------------------------------------------

VALUE_MAP_NAMESPACE = "value_map"
CLOUD_FIELDS = ("x", "y", "z", "cost")  # float32 each


def _points(array: npt.NDArray[np.float64]) -> list[Point]:
    return [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in np.asarray(array).reshape(-1, 3)]


def _speed_colour(scale: float) -> ColorRGBA:
    """Red at a standstill to green at full speed."""
    s = float(min(max(scale, 0.0), 1.0))
    return ColorRGBA(r=1.0 - s, g=s, b=0.1, a=1.0)


def motion_plan_to_markers(plan: MotionPlan) -> MarkerArray:
    """RViz markers of a planned motion, in the plan's frame, one namespace per part and layer
    (``value_map/arm/path``): the path as a LINE_STRIP coloured by the velocity map's speed (red when
    planning failed), the target voxels and the obstacle-surface voxels as CUBE_LISTs, and a label.
    A part the plan lacks (no path, no obstacles) is deleted, so an older plan's part does not linger."""
    header = Header(frame_id=plan.frame_id, stamp=ns_to_time(round(plan.stamp * NS_PER_S)))
    size = Vector3(x=plan.voxel_size[0], y=plan.voxel_size[1], z=plan.voxel_size[2])

    def marker(part: str, kind: int, points: npt.NDArray[np.float64], scale: Vector3, colour: ColorRGBA) -> Marker:
        namespace = f"{VALUE_MAP_NAMESPACE}/{plan.layer}/{part}"
        if len(points) == 0:
            return Marker(header=header, ns=namespace, id=0, action=Marker.DELETE)
        return Marker(
            header=header,
            ns=namespace,
            id=0,
            type=kind,
            action=Marker.ADD,
            pose=Pose(orientation=Quaternion(w=1.0)),
            scale=scale,
            color=colour,
            points=_points(points),
        )

    path_colour = ColorRGBA(r=0.1, g=0.9, b=0.1, a=1.0) if plan.success else ColorRGBA(r=1.0, g=0.1, b=0.1, a=1.0)
    path = marker("path", Marker.LINE_STRIP, plan.waypoints if len(plan.waypoints) > 1 else np.zeros((0, 3)),
                  Vector3(x=0.01), path_colour)  # fmt: skip
    if plan.success and path.action == Marker.ADD and len(plan.speed_scale) == len(plan.waypoints):
        path.colors = [_speed_colour(v) for v in plan.speed_scale]
    target = marker("target", Marker.CUBE_LIST, plan.target, size, ColorRGBA(r=0.1, g=0.9, b=0.3, a=0.5))
    obstacles = marker("obstacles", Marker.CUBE_LIST, plan.obstacles, size, ColorRGBA(r=0.6, g=0.6, b=0.6, a=0.35))
    anchor = plan.waypoints[-1] if len(plan.waypoints) else (plan.target.mean(axis=0) if len(plan.target) else None)
    label = Marker(header=header, ns=f"{VALUE_MAP_NAMESPACE}/{plan.layer}/label", id=0, action=Marker.DELETE)
    if anchor is not None:
        outcome = "planned" if plan.success else f"failed: {plan.reason}"
        label.type, label.action = Marker.TEXT_VIEW_FACING, Marker.ADD
        label.pose = Pose(position=Point(x=float(anchor[0]), y=float(anchor[1]), z=float(anchor[2]) + 0.08),
                          orientation=Quaternion(w=1.0))  # fmt: skip
        label.scale, label.color = Vector3(z=0.04), ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
        label.text = f"{plan.skill}: {plan.doing} ({outcome})"
    return MarkerArray(markers=[path, target, obstacles, label])


def motion_plan_to_cloud(plan: MotionPlan) -> PointCloud2:
    """The plan's cost at a subsample of voxel centres: an unordered PointCloud2 with float32 x, y, z, cost."""
    data = np.empty(len(plan.cloud), dtype=[(name, "<f4") for name in CLOUD_FIELDS])
    for axis, name in enumerate("xyz"):
        data[name] = plan.cloud[:, axis]
    data["cost"] = plan.cloud_cost
    step = data.dtype.itemsize
    return PointCloud2(
        header=Header(frame_id=plan.frame_id, stamp=ns_to_time(round(plan.stamp * NS_PER_S))),
        height=1,
        width=len(data),
        fields=[
            PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1) for i, n in enumerate(CLOUD_FIELDS)
        ],
        is_bigendian=False,
        point_step=step,
        row_step=step * len(data),
        data=data.tobytes(),
        is_dense=True,
    )


def cloud_fields(msg: PointCloud2) -> dict[str, npt.NDArray[np.float32]]:
    """The float32 fields of an unordered little-endian PointCloud2, by name; ValueError for other layouts."""
    if msg.is_bigendian or msg.height != 1:
        raise ValueError("only unordered (height 1) little-endian clouds are read here")
    if any(f.datatype != PointField.FLOAT32 or f.count != 1 for f in msg.fields):
        raise ValueError("only clouds of single float32 fields are read here")
    dtype = np.dtype({"names": [f.name for f in msg.fields], "formats": ["<f4"] * len(msg.fields),
                      "offsets": [f.offset for f in msg.fields], "itemsize": msg.point_step})  # fmt: skip
    data = np.frombuffer(bytes(msg.data), dtype=dtype, count=msg.width)
    return {f.name: np.asarray(data[f.name], dtype=np.float32) for f in msg.fields}
