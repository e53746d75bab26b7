"""Perception node: RGB-D in, the live semantic scene graph out (perception/pipeline.py does the work).

Subscribes to colour, aligned depth and camera_info (sensor QoS), matches them by stamp, looks up
the camera in the map frame at the frame's stamp, and publishes /scene_graph (at a set rate and on
change), /scene_graph/markers for RViz, /diagnostics (why perception is stale, when it is), and
serves /scene_graph/query. Frames that cannot be used are skipped with a reason; the node goes on.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Quaternion, Vector3
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSPresetProfiles
from robot_agent_interfaces.msg import InstanceSegmentation
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from robot_agent_interfaces.srv import QueryScene
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header, String
from visualization_msgs.msg import Marker, MarkerArray

from perception.detectors import make_detector
from perception.frame import DetectorError, OracleSegmentation, RGBDFrame
from perception.persistence import PersistenceError, load_graph, save_graph
from perception.pipeline import FrameError, Perception, restore
from perception.query import query
from perception.scene_graph import ObjectKind, Predicate, SceneGraph
from perception.semantic_map import EMPTY_MAP, load_semantic_map
from perception.sync import StampSynchronizer
from perception.tracker import TrackerSettings
from robot_agent import names
from robot_agent.conversions import (
    ImageConversionError,
    camera_info_to_intrinsics,
    depth_to_meters,
    image_to_numpy,
    matrix_to_pose,
    ns_to_time,
    relation_to_msg,
    scene_graph_to_msg,
    scene_object_to_msg,
    time_to_ns,
)
from robot_agent.node_main import run_node
from robot_agent.paths import config_file
from robot_agent.tf import make_transform_listener
from robot_agent.tf_buffer import TransformError
from sim.scenario import NAMED_COLORS, ScenarioError

NS = 1_000_000_000
TF_RETRY_S = 0.01
QUERIES_TOPIC = "/perception/queries"
STATE_SAVE_PERIOD_S = 2.0  # how often the graph is written to state_file


class PerceptionNode(Node):
    def __init__(self) -> None:
        super().__init__("perception")
        p = self._parameter
        detector_name = p("detector", "color", "Detector: color, sim_oracle (simulation only) or open_vocab")
        map_file = p("map_file", "", "Rooms and furniture: a built-in world name or a scenario/map YAML file")
        self._fixed_frame = p("fixed_frame", "map", "Frame of the scene graph")
        self._publish_period = 1.0 / p("publish_rate_hz", 2.0, "Rate of /scene_graph without changes", (0.1, 30.0))
        self._stale_after_s = p("stale_after_s", 2.0, "No usable frame for this long: perception is stale", (0.1, 60.0))
        tolerance = p("sync_tolerance_s", 0.02, "Stamps of colour and depth match within this", (0.0, 1.0))
        self._tf_timeout_s = p("tf_timeout_s", 0.2, "Wait this long for transforms at a frame's stamp", (0.0, 5.0))
        self._state_file = p("state_file", "", "JSON file to save the graph to and restore it from; empty: off")
        detector_options: dict[str, Any] = {}
        model_dir = p("model_dir", "", "open_vocab: local model directory (empty: the transformers cache)")
        if detector_name == "open_vocab" and model_dir:
            detector_options["model_dir"] = model_dir
        if detector_name == "color":
            detector_options["config"] = str(config_file("color_classes.yaml"))
        try:
            semantic_map = load_semantic_map(map_file) if map_file else EMPTY_MAP
        except ScenarioError as error:
            raise ValueError(f"map_file: {error}") from None
        dynamic = p(
            "dynamic_filtering", True, "Mark objects missing when their spot is seen empty; off: last-seen only"
        )
        identity = p(
            "identity_hypotheses",
            True,
            "A sighting that may be a known object moved is a possibly_same_as doubt, labels from evidence; "
            "off: the tracker before issue 14",
        )
        self._perception = Perception(
            make_detector(detector_name, **detector_options),
            semantic_map,
            tracker_settings=TrackerSettings(
                negative_evidence=bool(dynamic), identity_hypotheses=bool(identity), label_evidence=bool(identity)
            ),
        )
        if self._state_file:
            self._restore()
        self._uses_oracle = detector_name == "sim_oracle"

        streams = ("color", "depth", "oracle") if self._uses_oracle else ("color", "depth")
        self._sync: StampSynchronizer[Any] = StampSynchronizer(streams, round(tolerance * NS))
        self._camera_info: CameraInfo | None = None
        self._latest: dict[str, Any] | None = None
        self._frame_ready = threading.Event()
        self._lock = threading.Lock()
        self._stale_reason = "no frame received yet"
        self._last_good_ns = 0
        self._last_published_revision = -1

        sensors = MutuallyExclusiveCallbackGroup()
        qos = QoSPresetProfiles.SENSOR_DATA.value
        self.create_subscription(Image, "/camera/color/image_raw", lambda m: self._on_stream("color", m), qos,
                                 callback_group=sensors)  # fmt: skip
        self.create_subscription(Image, "/camera/depth/image_raw", lambda m: self._on_stream("depth", m), qos,
                                 callback_group=sensors)  # fmt: skip
        self.create_subscription(CameraInfo, "/camera/color/camera_info", self._on_camera_info, qos,
                                 callback_group=sensors)  # fmt: skip
        if self._uses_oracle:
            self.create_subscription(InstanceSegmentation, "/sim/oracle/segmentation",
                                     lambda m: self._on_stream("oracle", m), qos, callback_group=sensors)  # fmt: skip
        self._queries = parse_queries(
            p("queries", "", f"Labels to look for at start, comma-separated (then {QUERIES_TOPIC})")
        )
        self.create_subscription(String, QUERIES_TOPIC, self._on_queries, 10)
        self._tf = make_transform_listener(self)
        self._graph_pub = self.create_publisher(SceneGraphMsg, names.SCENE_GRAPH_TOPIC, 10)
        self._marker_pub = self.create_publisher(MarkerArray, names.SCENE_GRAPH_MARKERS_TOPIC, 10)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_service(
            QueryScene, names.QUERY_SCENE_SERVICE, self._on_query, callback_group=ReentrantCallbackGroup()
        )
        self.create_timer(self._publish_period, self._on_publish_timer)
        self.create_timer(1.0, self._publish_diagnostics)
        if self._state_file:  # also while running: a node that is killed resumes from the last save
            self.create_timer(STATE_SAVE_PERIOD_S, self._save)
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._process_frames, name="perception", daemon=True)
        self._worker.start()
        self.get_logger().info(f"detector {detector_name}, map {map_file or 'none'}")

    def _parameter(self, name: str, default: Any, description: str, bounds: tuple[float, float] | None = None) -> Any:
        descriptor = ParameterDescriptor(description=description, read_only=True)
        if bounds is not None:
            descriptor.floating_point_range = [FloatingPointRange(from_value=bounds[0], to_value=bounds[1])]
        return self.declare_parameter(name, default, descriptor).value

    def begin_shutdown(self) -> None:
        """Tell the frame worker to stop (run_node, before it stops the callbacks)."""
        self._stop.set()

    def destroy_node(self) -> None:
        self._stop.set()
        self._worker.join(timeout=5.0)
        if self._state_file:
            self._save()
        super().destroy_node()

    # --- input -------------------------------------------------------------------------------

    def _on_queries(self, msg: String) -> None:
        """What to look for (the planner's object names), comma-separated; empty: everything."""
        self._queries = parse_queries(msg.data)
        self.get_logger().info(f"looking for: {', '.join(self._queries) or 'everything'}")

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self._camera_info = msg

    def _on_stream(self, stream: str, msg: Any) -> None:
        matched = self._sync.add(stream, time_to_ns(msg.header.stamp), msg)
        if matched is not None:
            with self._lock:
                self._latest = matched  # a newer set replaces one still waiting: frames drop, never queue
            self._frame_ready.set()

    def _skip(self, reason: str) -> None:
        self._stale_reason = reason
        self.get_logger().warning(f"frame skipped: {reason}", throttle_duration_sec=5.0)

    def _process_frames(self) -> None:
        while not self._stop.is_set():
            if not self._frame_ready.wait(0.2):
                continue
            self._frame_ready.clear()
            with self._lock:
                matched, self._latest = self._latest, None
            if matched is None:
                continue
            frame = self._to_frame(matched)
            if frame is None:
                continue
            try:
                result = self._perception.process(frame, self._queries or None)
            except (FrameError, DetectorError) as error:
                self._skip(str(error))
                continue
            self._last_good_ns = frame.stamp_ns
            self._stale_reason = ""
            if result.update.changed:
                self._publish_graph()

    def _to_frame(self, matched: dict[str, Any]) -> RGBDFrame | None:
        info = self._camera_info
        if info is None:
            self._skip("no camera_info received on /camera/color/camera_info")
            return None
        color_msg, depth_msg = matched["color"], matched["depth"]
        stamp = time_to_ns(color_msg.header.stamp)
        try:
            intrinsics = camera_info_to_intrinsics(info)
            color = image_to_numpy(color_msg)
            if color_msg.encoding == "bgr8":
                color = color[:, :, ::-1]
            elif color_msg.encoding != "rgb8":
                raise ImageConversionError(f"colour must be rgb8 or bgr8, not {color_msg.encoding}")
            depth = depth_to_meters(image_to_numpy(depth_msg), depth_msg.encoding)
            oracle = None
            if self._uses_oracle:
                segmentation = matched["oracle"]
                described = zip(segmentation.object_ids, segmentation.labels, strict=True)
                table = dict(zip(segmentation.instance_ids, described, strict=True))
                oracle = OracleSegmentation(image_to_numpy(segmentation.mask).astype(np.uint16), table)
        except (ImageConversionError, ValueError) as error:
            self._skip(str(error))
            return None
        camera_pose = self._camera_pose(color_msg.header.frame_id, stamp)
        if camera_pose is None:
            return None
        return RGBDFrame(stamp, np.ascontiguousarray(color), depth, intrinsics, camera_pose, oracle)

    def _camera_pose(self, camera_frame: str, stamp: int) -> np.ndarray | None:
        """The camera in the fixed frame at the frame's stamp, waiting up to tf_timeout_s for transforms."""
        deadline = time.monotonic() + self._tf_timeout_s
        while True:
            try:
                return self._tf.lookup(self._fixed_frame, camera_frame, stamp)
            except TransformError as error:
                if time.monotonic() >= deadline or self._stop.wait(TF_RETRY_S):
                    self._skip(f"no transform {self._fixed_frame} -> {camera_frame} at the frame's stamp: {error}")
                    return None

    # --- output ------------------------------------------------------------------------------

    def _graph(self) -> SceneGraph:
        graph = self._perception.scene_graph()
        graph.frame_id = self._fixed_frame
        return graph

    def _publish_graph(self) -> None:
        graph = self._graph()
        self._graph_pub.publish(scene_graph_to_msg(graph))
        self._marker_pub.publish(markers(graph))
        self._last_published_revision = graph.revision

    def _on_publish_timer(self) -> None:
        if self._perception.tracker.tracks or self._perception.semantic_map.rooms:
            self._publish_graph()

    def _publish_diagnostics(self) -> None:
        now = self.get_clock().now().nanoseconds
        stale = bool(self._stale_reason) or (now - self._last_good_ns) / NS > self._stale_after_s
        reason = self._stale_reason or ("no usable frame for a while" if stale else "")
        status = DiagnosticStatus(
            level=DiagnosticStatus.STALE if stale else DiagnosticStatus.OK,
            name="perception",
            message=reason or "ok",
            hardware_id="camera",
            values=[
                KeyValue(key="objects", value=str(len(self._perception.tracker.confirmed()))),
                KeyValue(key="revision", value=str(self._perception.revision)),
            ],
        )
        self._diagnostics_pub.publish(DiagnosticArray(header=Header(stamp=ns_to_time(now)), status=[status]))

    def _on_query(self, request: QueryScene.Request, response: QueryScene.Response) -> Any:
        graph = self._graph()
        text = request.query or request.label or request.object_id
        if not text.strip():
            response.success, response.error_code = False, QueryScene.Response.INVALID_QUERY
            response.error_msg = "give a query text, a label or an object id"
            return response
        if request.object_id and request.object_id in graph.objects:
            answer = query(graph, graph.objects[request.object_id].id, self._now_ns(), int(request.max_results))
        else:
            answer = query(graph, text, self._now_ns(), int(request.max_results))
        response.objects = [scene_object_to_msg(o) for o in answer.objects]
        response.scores = [float(s) for s in answer.scores]
        response.answer = answer.sentence
        response.doubts = [relation_to_msg(r) for r in answer.doubts]
        response.success = bool(answer.objects)
        if not answer.objects:
            response.error_code = QueryScene.Response.NOT_FOUND
            response.error_msg = answer.sentence
        return response

    def _now_ns(self) -> int:
        return int(self.get_clock().now().nanoseconds)

    # --- persistence -------------------------------------------------------------------------

    def _restore(self) -> None:
        try:
            restore(self._perception, load_graph(self._state_file))
            self.get_logger().info(f"restored {len(self._perception.tracker.tracks)} objects from {self._state_file}")
        except PersistenceError as error:
            self.get_logger().warning(f"starting with an empty scene: {error}")

    def _save(self) -> None:
        try:
            save_graph(self._graph(), self._state_file)
        except OSError as error:
            self.get_logger().error(f"could not save the scene graph to {self._state_file}: {error}")


def parse_queries(text: str) -> list[str]:
    return [query.strip() for query in text.split(",") if query.strip()]


def _rgba(name: str | None, alpha: float) -> ColorRGBA:
    r, g, b = NAMED_COLORS.get(name or "", (0.6, 0.6, 0.6))
    return ColorRGBA(r=r, g=g, b=b, a=alpha)


def markers(graph: SceneGraph) -> MarkerArray:
    """Boxes, labels, particle clouds and relation lines for RViz."""
    header = Header(frame_id=graph.frame_id, stamp=ns_to_time(graph.stamp_ns))
    result = [Marker(header=header, action=Marker.DELETEALL)]
    relation_lines = Marker(header=header, ns="relations", id=0, type=Marker.LINE_LIST, action=Marker.ADD,
                            scale=Vector3(x=0.005), color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=0.6))  # fmt: skip
    for index, obj in enumerate(o for o in graph if o.kind == ObjectKind.OBJECT):
        colour = obj.attributes.get("color")
        pose = matrix_to_pose(_translation(obj.position))
        x, y, z, w = (float(v) for v in obj.orientation)
        pose.orientation = Quaternion(x=x, y=y, z=z, w=w)  # the box turned as it lies
        result.append(Marker(header=header, ns="objects", id=index, type=Marker.CUBE, action=Marker.ADD, pose=pose,
                             scale=Vector3(x=float(obj.size[0]), y=float(obj.size[1]), z=float(obj.size[2])),
                             color=_rgba(colour, 0.3 + 0.6 * obj.confidence)))  # fmt: skip
        label = Marker(header=header, ns="labels", id=index, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD,
                       pose=pose, scale=Vector3(z=0.05), color=ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0),
                       text=f"{obj.id} ({obj.state.name.lower()}, {obj.confidence:.2f})")  # fmt: skip
        label.pose.position.z += float(obj.size[2]) / 2 + 0.05
        result.append(label)
        result.append(Marker(header=header, ns="particles", id=index, type=Marker.POINTS, action=Marker.ADD,
                             scale=Vector3(x=0.01, y=0.01), color=_rgba(colour, 0.5),
                             points=[Point(x=p[0], y=p[1], z=p[2]) for p in obj.particles.tolist()]))  # fmt: skip
    doubt_lines = Marker(header=header, ns="possibly_same_as", id=0, type=Marker.LINE_LIST, action=Marker.ADD,
                         scale=Vector3(x=0.012), color=ColorRGBA(r=1.0, g=0.0, b=1.0, a=0.9))  # fmt: skip
    for relation in graph.relations:
        a, b = graph.objects.get(relation.subject_id), graph.objects.get(relation.object_id)
        if a is None or b is None:
            continue
        ends = [Point(x=a.position[0], y=a.position[1], z=a.position[2]),
                Point(x=b.position[0], y=b.position[1], z=b.position[2])]  # fmt: skip
        if relation.predicate in (Predicate.ON, Predicate.NEAR):
            relation_lines.points += ends
        elif relation.predicate == Predicate.POSSIBLY_SAME_AS:
            doubt_lines.points += ends
            middle = (a.position + b.position) / 2
            result.append(Marker(header=header, ns="possibly_same_as_labels", id=len(doubt_lines.points) // 2,
                                 type=Marker.TEXT_VIEW_FACING, action=Marker.ADD,
                                 pose=matrix_to_pose(_translation(middle + np.array([0.0, 0.0, 0.1]))),
                                 scale=Vector3(z=0.05), color=ColorRGBA(r=1.0, g=0.0, b=1.0, a=1.0),
                                 text=f"same? p={relation.confidence:.2f}"))  # fmt: skip
    result.append(relation_lines)
    result.append(doubt_lines)
    return MarkerArray(markers=result)


def _translation(position: np.ndarray) -> np.ndarray:
    transform = np.eye(4)
    transform[:3, 3] = position
    return transform


def main(args: list[str] | None = None) -> None:
    sys.exit(run_node(PerceptionNode, args))


if __name__ == "__main__":
    main()
