"""The skill server shows what its arm skills plan: value-map markers, the cost cloud and, with
``report_dir``, PNG slices, during a PICK in the embedded world (sim, perception and skill server,
each in its own process, over DDS)."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from action_msgs.msg import GoalStatus
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from robot_agent_interfaces.msg import SceneGraph as SceneGraphMsg
from sensor_msgs.msg import PointCloud2
from visualization_msgs.msg import Marker, MarkerArray

from robot_agent import names
from robot_agent.conversions import cloud_fields, scene_graph_from_msg
from robot_agent.ros_wait import MessageCollector, wait_for_message, wait_until
from robot_agent.testing import NodeProcess, SkillCaller
from sim.scenario import load_scenario

TIMEOUT_S = 90.0


def test_a_pick_publishes_its_value_maps_and_saves_their_pictures(tmp_path: Path, ros_node: Node) -> None:
    # Beside the counter, the red cup within the arm's reach but out of the camera's view.
    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"]["pose"] = [1.53, 3.05, math.pi]
    world = tmp_path / "world.yaml"
    world.write_text(yaml.safe_dump(document))
    reports = tmp_path / "reports"
    common = ("-p", f"map_file:={world}", "-p", "use_sim_time:=true")
    processes = [
        NodeProcess("robot_agent.nodes.sim_node", "--ros-args", "-p", f"world:={world}"),
        NodeProcess("robot_agent.nodes.perception_node", "--ros-args", "-p", "detector:=sim_oracle", *common),
        NodeProcess("robot_agent.nodes.skill_server", "--ros-args", *common, "-p", f"report_dir:={reports}"),
    ]
    markers: MessageCollector[MarkerArray] = MessageCollector()
    clouds: MessageCollector[PointCloud2] = MessageCollector()
    latched = QoSProfile(depth=4, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    ros_node.create_subscription(MarkerArray, names.VALUE_MAP_MARKERS_TOPIC, markers, latched)
    ros_node.create_subscription(PointCloud2, names.VALUE_MAP_CLOUD_TOPIC, clouds, latched)
    try:
        caller = SkillCaller(ros_node, TIMEOUT_S)
        status, result = caller.result(caller.send("SCAN", {"target": "counter"}))
        assert status == GoalStatus.STATUS_SUCCEEDED, result.error_msg
        graph = scene_graph_from_msg(wait_for_message(ros_node, SceneGraphMsg, "/scene_graph", TIMEOUT_S))
        (cup,) = [o.id for o in graph.by_label("cup") if o.attributes.get("color") == "red"]
        status, result = caller.result(caller.send("PICK", {"object": cup}))
        assert status == GoalStatus.STATUS_SUCCEEDED, result.error_msg
        wait_until(lambda: bool(markers.messages) and bool(clouds.messages), TIMEOUT_S, "value-map markers")
        first = {m.ns: m for m in markers.messages[0].markers}
        path = first["value_map/arm/path"]
        assert path.header.frame_id == "base_link" and path.type == Marker.LINE_STRIP and len(path.points) > 1
        assert first["value_map/arm/obstacles"].type == Marker.CUBE_LIST  # the counter's top, beside the arm
        assert "PICK" in first["value_map/arm/label"].text
        fields = cloud_fields(clouds.messages[0])
        assert set(fields) == {"x", "y", "z", "cost"} and len(fields["cost"]) > 1000
        wait_until(lambda: len(list(reports.glob("*_pick_arm_*.png"))) >= 1, TIMEOUT_S, "a PNG in report_dir")
    finally:
        codes = [p.stop() for p in reversed(processes)]
        assert codes == [0] * len(codes), "\n".join(p.output()[-3000:] for p in processes)
