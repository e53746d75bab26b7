"""The Gazebo assets: the SDF world and the URDF load in the real sdformat library, match the MuJoCo
model (sim/mjcf.py), and the bridge maps every topic of the ROS contract."""

from __future__ import annotations

import ast
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import gazebo, robot
from sim.mjcf import build_mjcf, placement_of, wall_segments
from sim.scenario import CameraSettings, Scenario, builtin_worlds, load_scenario, rgb_of

REPO = Path(__file__).resolve().parents[2]
SDF_PACKAGES = "Debian packages ignition-tools and libsdformat-dev (scripts/setup.sh installs them)"

# The ROS contract (docs/interfaces.md, design.md): topic -> (ROS type, direction seen from Gazebo).
CONTRACT = {
    "/camera/color/image_raw": ("sensor_msgs/msg/Image", "GZ_TO_ROS"),
    "/camera/color/camera_info": ("sensor_msgs/msg/CameraInfo", "GZ_TO_ROS"),
    "/camera/depth/image_raw": ("sensor_msgs/msg/Image", "GZ_TO_ROS"),
    "/odom": ("nav_msgs/msg/Odometry", "GZ_TO_ROS"),
    "/tf": ("tf2_msgs/msg/TFMessage", "GZ_TO_ROS"),
    "/tf_static": ("tf2_msgs/msg/TFMessage", "GZ_TO_ROS"),
    "/joint_states": ("sensor_msgs/msg/JointState", "GZ_TO_ROS"),
    "/clock": ("rosgraph_msgs/msg/Clock", "GZ_TO_ROS"),
    "/cmd_vel": ("geometry_msgs/msg/Twist", "ROS_TO_GZ"),
    "/arm_controller/joint_trajectory": ("trajectory_msgs/msg/JointTrajectory", "ROS_TO_GZ"),
    "/gripper_controller/joint_trajectory": ("trajectory_msgs/msg/JointTrajectory", "ROS_TO_GZ"),
    "/head_controller/joint_trajectory": ("trajectory_msgs/msg/JointTrajectory", "ROS_TO_GZ"),
}
GZ_TYPES = {
    "sensor_msgs/msg/Image": "gz.msgs.Image",
    "sensor_msgs/msg/CameraInfo": "gz.msgs.CameraInfo",
    "nav_msgs/msg/Odometry": "gz.msgs.Odometry",
    "tf2_msgs/msg/TFMessage": "gz.msgs.Pose_V",
    "sensor_msgs/msg/JointState": "gz.msgs.Model",
    "rosgraph_msgs/msg/Clock": "gz.msgs.Clock",
    "geometry_msgs/msg/Twist": "gz.msgs.Twist",
    "trajectory_msgs/msg/JointTrajectory": "gz.msgs.JointTrajectory",
}


# ---------------------------------------------------------------------------------------------
# sdformat, through its command-line tool


@cache
def _sdf_command() -> list[str]:
    """``gz sdf`` (Gazebo Harmonic) or ``ign sdf`` (Debian's sdformat 12), whichever checks a file."""
    for tool in ("gz", "ign"):
        if shutil.which(tool):
            probe = subprocess.run([tool, "sdf", "--help"], capture_output=True, text=True, timeout=60, check=False)
            if "--check" in probe.stdout + probe.stderr:
                return [tool, "sdf"]
    pytest.fail(f"no sdformat command-line tool ('gz sdf' or 'ign sdf'): install the {SDF_PACKAGES}")


def sdf_check(path: Path) -> None:
    """Load a file with sdformat (``-k``) and fail with its errors."""
    result = subprocess.run(
        [*_sdf_command(), "-k", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "backward" not in line)
    assert result.returncode == 0 and "Valid." in output, f"sdformat rejects {path.name}:\n{output[:4000]}"


def sdf_print(path: Path) -> ET.Element:
    """The SDF that sdformat makes of a file (a URDF is converted), parsed."""
    result = subprocess.run(
        [*_sdf_command(), "-p", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[:4000]
    return ET.fromstring(result.stdout)


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    return {
        world: gazebo.write_gazebo_assets(load_scenario(world), tmp_path_factory.mktemp(world))
        for world in builtin_worlds()
    }


def test_the_checker_reports_invalid_sdf(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sdf"
    broken.write_text(
        '<sdf version="1.9"><world name="w"><model name="m"><link name="l"/>'
        '<joint name="j" type="revolute"><parent>missing</parent><child>l</child></joint></model></world></sdf>'
    )
    with pytest.raises(AssertionError, match="missing"):
        sdf_check(broken)


@pytest.mark.parametrize("world", builtin_worlds())
@pytest.mark.parametrize("kind", ["world", "world_with_robot", "robot"])
def test_assets_load_in_sdformat(assets: dict[str, dict[str, Path]], world: str, kind: str) -> None:
    sdf_check(assets[world][kind])


def test_world_with_robot_includes_the_urdf_at_the_start_pose(assets: dict[str, dict[str, Path]]) -> None:
    scenario = load_scenario("kitchen")
    world = sdf_print(assets["kitchen"]["world_with_robot"]).find("world")
    assert world is not None
    model = world.find(f"model[@name='{gazebo.MODEL_NAME}']")
    assert model is not None, "sdformat did not resolve the robot's <include>"
    assert {j.get("name") for j in model.iter("joint")} >= set(robot.JOINTS) - {"joint_gripper"}
    x, y, yaw = scenario.robot.pose
    assert _floats(model.findtext("pose")) == pytest.approx([x, y, 0.0, 0.0, 0.0, yaw])
    no_robot = ET.parse(assets["kitchen"]["world"]).getroot().find("world")
    assert no_robot is not None and no_robot.find("include") is None


# ---------------------------------------------------------------------------------------------
# The world against the MuJoCo model


def _floats(text: str | None) -> list[float]:
    assert text is not None
    return [float(v) for v in text.split()]


def _sdf_world(scenario: Scenario) -> ET.Element:
    world = ET.fromstring(gazebo.scenario_to_sdf(scenario)).find("world")
    assert world is not None
    return world


def _mjcf_geoms(scenario: Scenario) -> dict[str, ET.Element]:
    root = ET.fromstring(build_mjcf(scenario))
    return {g.get("name", ""): g for g in root.iter("geom")}


def _boxes(model: ET.Element) -> dict[str, tuple[list[float], list[float]]]:
    """collision name -> (pose, size) of a model's boxes."""
    boxes = {}
    for collision in model.iter("collision"):
        size = collision.findtext("geometry/box/size")
        if size is not None:
            boxes[collision.get("name", "")] = (_floats(collision.findtext("pose") or "0 0 0 0 0 0"), _floats(size))
    return boxes


def test_world_has_physics_and_the_systems_gazebo_needs() -> None:
    world = _sdf_world(load_scenario("kitchen"))
    assert world.get("name") == "kitchen"
    plugins = {p.get("name"): p for p in world.findall("plugin")}
    assert set(plugins) == {
        "gz::sim::systems::Physics",
        "gz::sim::systems::UserCommands",
        "gz::sim::systems::SceneBroadcaster",
        "gz::sim::systems::Sensors",
    }
    assert plugins["gz::sim::systems::Sensors"].findtext("render_engine") == "ogre2"
    assert float(world.findtext("physics/max_step_size") or 0) > 0
    assert world.find("light") is not None and world.find("model[@name='ground_plane']") is not None


@pytest.mark.parametrize("world", builtin_worlds())
def test_walls_match_mujoco_and_leave_the_doors_open(world: str) -> None:
    scenario = load_scenario(world)
    walls = _sdf_world(scenario).find("model[@name='walls']")
    assert walls is not None and walls.findtext("static") == "true"
    boxes = _boxes(walls)
    segments = wall_segments(scenario)
    assert len(boxes) == len(segments)
    geoms = _mjcf_geoms(scenario)
    for i in range(len(segments)):
        pose, size = boxes[f"wall_{i}_collision"]
        geom = geoms[f"wall/{i}"]
        assert pose[:3] == pytest.approx(_floats(geom.get("pos")), abs=1e-5)
        assert size == pytest.approx([2 * h for h in _floats(geom.get("size"))], abs=1e-5)
    assert scenario.doors, f"{world} has no doors to check"
    for door in scenario.doors:  # nothing of a wall at a door's centre, at knee height
        for pose, size in boxes.values():
            inside = all(abs(p - c) < s / 2 for p, c, s in zip((*door.center, 0.3), pose[:3], size, strict=True))
            assert not inside, f"a wall blocks the door at {door.center} in {world}"


@pytest.mark.parametrize("world", builtin_worlds())
def test_floors_and_furniture_match_mujoco(world: str) -> None:
    scenario = load_scenario(world)
    sdf = _sdf_world(scenario)
    geoms = _mjcf_geoms(scenario)
    floors = sdf.find("model[@name='floors']")
    assert floors is not None
    floor_boxes = _boxes(floors)
    for room in scenario.rooms:
        pose, size = floor_boxes[f"floor_{room.id}_collision"]
        geom = geoms[f"floor/{room.id}"]
        assert pose[:3] == pytest.approx(_floats(geom.get("pos")))
        assert size == pytest.approx([2 * h for h in _floats(geom.get("size"))])
    mjcf_bodies = {b.get("name"): b for b in ET.fromstring(build_mjcf(scenario)).iter("body")}
    for piece in scenario.furniture:
        model = sdf.find(f"model[@name='furniture_{piece.id}']")
        assert model is not None and model.findtext("static") == "true"
        pose = _floats(model.findtext("pose"))
        body = mjcf_bodies[f"furniture/{piece.id}"]
        assert pose[:3] == pytest.approx(_floats(body.get("pos")))
        w, _, _, z = _floats(body.get("quat"))
        assert pose[5] == pytest.approx(2 * math.atan2(z, w))
        boxes = _boxes(model)
        expected = [g for name, g in geoms.items() if name.startswith(f"furniture/{piece.id}/")]
        assert len(boxes) == len(expected) > 0
        for geom in expected:
            part = geom.get("name", "").rsplit("/", 1)[1]
            box_pose, size = boxes[f"{part}_collision"]
            assert box_pose[:3] == pytest.approx(_floats(geom.get("pos")))
            assert size == pytest.approx([2 * h for h in _floats(geom.get("size"))])


@pytest.mark.parametrize("world", builtin_worlds())
def test_objects_are_dynamic_with_mass_friction_and_colour(world: str) -> None:
    scenario = load_scenario(world)
    sdf = _sdf_world(scenario)
    for obj in scenario.objects:
        model = sdf.find(f"model[@name='object_{obj.id}']")
        assert model is not None, obj.id
        assert model.findtext("static") in (None, "false")
        placement = placement_of(obj.place, obj, scenario)
        assert _floats(model.findtext("pose")) == pytest.approx(
            [placement.x, placement.y, placement.z, 0, 0, placement.yaw]
        )
        link = model.find("link")
        assert link is not None
        assert float(link.findtext("inertial/mass") or 0) == pytest.approx(obj.mass)
        moments = [float(link.findtext(f"inertial/inertia/{k}") or 0) for k in ("ixx", "iyy", "izz")]
        assert all(m > 0 for m in moments) and moments[0] + moments[1] >= moments[2] - 1e-12  # triangle inequality
        assert link.find(f"collision/geometry/{obj.shape}") is not None
        assert float(link.findtext("collision/surface/friction/ode/mu") or 0) == pytest.approx(obj.friction)
        assert _floats(link.findtext("visual/material/diffuse"))[:3] == pytest.approx(rgb_of(obj.color))
    added = {o.id for o in scenario.all_objects()} - {o.id for o in scenario.objects}
    for object_id in added:  # objects of scripted events do not exist at the start
        assert sdf.find(f"model[@name='object_{object_id}']") is None


# ---------------------------------------------------------------------------------------------
# The robot against the MuJoCo model


@cache
def _urdf() -> ET.Element:
    return ET.fromstring(gazebo.robot_urdf(load_scenario("kitchen")))


def _urdf_joints() -> dict[str, ET.Element]:
    return {j.get("name", ""): j for j in _urdf().findall("joint")}


def _mjcf_robot_joints() -> dict[str, tuple[ET.Element, ET.Element, ET.Element]]:
    """MJCF joint name -> (joint, its body, the parent body)."""
    root = ET.fromstring(build_mjcf(load_scenario("kitchen")))
    found = {}
    for parent in root.iter("body"):
        for body in parent.findall("body"):
            for joint in body.findall("joint"):
                found[joint.get("name", "")] = (joint, body, parent)
    return found


def test_urdf_has_every_joint_with_the_same_limits() -> None:
    joints = _urdf_joints()
    kinds = {"slide": "prismatic", "hinge": "revolute"}
    for name, spec in robot.JOINTS.items():
        if name == "joint_gripper":
            continue
        joint = joints[name]
        assert joint.get("type") == kinds[spec.kind], name
        limit = joint.find("limit")
        assert limit is not None
        assert float(limit.get("lower", "nan")) == pytest.approx(spec.lower), name
        assert float(limit.get("upper", "nan")) == pytest.approx(spec.upper), name
        assert float(limit.get("velocity", "nan")) == pytest.approx(spec.max_velocity), name
        assert float(limit.get("effort", "nan")) == pytest.approx(spec.effort), name
    gripper = robot.JOINTS["joint_gripper"]
    for finger in ("joint_finger_left", "joint_finger_right"):
        limit = joints[finger].find("limit")
        assert joints[finger].get("type") == "prismatic"
        assert limit is not None
        assert float(limit.get("upper", "nan")) == pytest.approx(gripper.upper / 2)
        assert float(limit.get("lower", "nan")) == pytest.approx(gripper.lower / 2)
    mimic = joints["joint_finger_right"].find("mimic")
    assert mimic is not None and mimic.get("joint") == "joint_finger_left"
    assert float(mimic.get("multiplier", "nan")) == 1.0 and float(mimic.get("offset", "nan")) == 0.0


def test_urdf_joints_sit_where_the_mujoco_joints_do() -> None:
    joints = _urdf_joints()
    mjcf = _mjcf_robot_joints()
    for name, (mj_joint, body, parent) in mjcf.items():
        if name.startswith("base_"):
            continue  # MuJoCo's planar base joints; Gazebo moves the base with VelocityControl
        joint = joints[name]
        assert joint.find("child").get("link") == body.get("name")  # type: ignore[union-attr]
        assert joint.find("parent").get("link") == parent.get("name")  # type: ignore[union-attr]
        assert _floats(joint.find("origin").get("xyz")) == pytest.approx(_floats(body.get("pos")))  # type: ignore[union-attr]
        assert _floats(joint.find("axis").get("xyz")) == pytest.approx(_floats(mj_joint.get("axis")))  # type: ignore[union-attr]
        lower, upper = _floats(mj_joint.get("range"))
        limit = joint.find("limit")
        assert limit is not None
        assert (float(limit.get("lower", "nan")), float(limit.get("upper", "nan"))) == pytest.approx((lower, upper))


def test_urdf_has_every_frame_of_the_contract_and_the_inertials() -> None:
    links = {link.get("name"): link for link in _urdf().findall("link")}
    frames = {"base_link", "link_lift", "link_arm", "link_wrist_yaw", "link_finger_left", "link_finger_right",
              "link_head_pan", "link_head_tilt", "camera_color_optical_frame", "link_grasp_center"}  # fmt: skip
    assert set(links) == frames
    for name in frames - {"camera_color_optical_frame", "link_grasp_center"}:
        mass = links[name].find("inertial/mass")
        assert mass is not None and float(mass.get("value", "0")) > 0, name
        assert links[name].find("collision/geometry") is not None and links[name].find("visual/geometry") is not None
    base_mass = float(links["base_link"].find("inertial/mass").get("value", "0"))  # type: ignore[union-attr]
    assert base_mass == pytest.approx(robot.BASE_MASS + 2.0)  # the base and the mast
    grasp = _urdf_joints()["joint_grasp_center"]
    assert grasp.find("parent").get("link") == "link_wrist_yaw"  # type: ignore[union-attr]
    assert _floats(grasp.find("origin").get("xyz")) == pytest.approx([0, -robot.GRIPPER_LENGTH, 0])  # type: ignore[union-attr]


def _rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = (
        math.cos(roll),
        math.sin(roll),
        math.cos(pitch),
        math.sin(pitch),
        math.cos(yaw),
        math.sin(yaw),
    )
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def test_optical_frame_looks_where_the_mujoco_camera_does() -> None:
    joint = _urdf_joints()["joint_camera_optical"]
    assert joint.find("parent").get("link") == "link_head_tilt"  # type: ignore[union-attr]
    origin = joint.find("origin")
    assert origin is not None
    assert _floats(origin.get("xyz")) == pytest.approx(list(robot.CAMERA_OFFSET))
    rotation = _rpy_matrix(*_floats(origin.get("rpy")))
    # MJCF: camera xyaxes "0 -1 0 0 0 1" in the tilt link, looking along its -z = tilt +x; optical = (x, -y, -z).
    np.testing.assert_allclose(rotation[:, 2], [1, 0, 0], atol=1e-9)  # z forward
    np.testing.assert_allclose(rotation[:, 0], [0, -1, 0], atol=1e-9)  # x right
    np.testing.assert_allclose(rotation[:, 1], [0, 0, -1], atol=1e-9)  # y down


# ---------------------------------------------------------------------------------------------
# Camera and systems, as sdformat converts the URDF


def _converted_robot(scenario: Scenario, tmp_path: Path) -> ET.Element:
    path = tmp_path / "robot.urdf"
    path.write_text(gazebo.robot_urdf(scenario))
    model = sdf_print(path).find("model")
    assert model is not None
    return model


@pytest.mark.parametrize(
    "camera",
    [CameraSettings(), CameraSettings(width=320, height=240, vertical_fov_deg=45.0, min_depth=0.3, max_depth=6.0,
                                      rate_hz=15.0)],
)  # fmt: skip
def test_camera_sensor_takes_the_scenario_settings(camera: CameraSettings, tmp_path: Path) -> None:
    scenario = load_scenario("kitchen").model_copy(update={"camera": camera})
    model = _converted_robot(scenario, tmp_path)
    sensors = list(model.iter("sensor"))
    assert len(sensors) == 1
    sensor = sensors[0]
    assert sensor.get("type") == "rgbd_camera"
    assert sensor.findtext("topic") == gazebo.GZ_CAMERA
    assert sensor.findtext("gz_frame_id") == "camera_color_optical_frame"
    assert float(sensor.findtext("update_rate") or 0) == pytest.approx(camera.rate_hz)
    assert _floats(sensor.findtext("pose"))[:3] == pytest.approx(list(robot.CAMERA_OFFSET))
    link = next(link for link in model.iter("link") if sensor in list(link))
    assert link.get("name") == "link_head_tilt"
    assert int(sensor.findtext("camera/image/width") or 0) == camera.width
    assert int(sensor.findtext("camera/image/height") or 0) == camera.height
    assert float(sensor.findtext("camera/depth_camera/clip/near") or 0) == pytest.approx(camera.min_depth)
    assert float(sensor.findtext("camera/depth_camera/clip/far") or 0) == pytest.approx(camera.max_depth)
    # Square pixels: the horizontal field of view gives the scenario's vertical one.
    hfov = float(sensor.findtext("camera/horizontal_fov") or 0)
    fx = camera.width / (2 * math.tan(hfov / 2))
    fy = camera.height / (2 * math.tan(math.radians(camera.vertical_fov_deg) / 2))
    assert fx == pytest.approx(fy, rel=1e-5)


def test_robot_systems_use_the_bridged_topics(tmp_path: Path) -> None:
    model = _converted_robot(load_scenario("kitchen"), tmp_path)
    plugins: dict[str, list[ET.Element]] = {}
    for plugin in model.findall("plugin"):
        plugins.setdefault(plugin.get("name", ""), []).append(plugin)
    bridged_gz = {e.gz_topic_name: e for e in gazebo.bridge_entries()}
    (velocity,) = plugins["gz::sim::systems::VelocityControl"]
    assert bridged_gz[velocity.findtext("topic") or ""].direction == "ROS_TO_GZ"
    (odometry,) = plugins["gz::sim::systems::OdometryPublisher"]
    assert (odometry.findtext("odom_frame"), odometry.findtext("robot_base_frame")) == ("odom", "base_link")
    assert bridged_gz[odometry.findtext("odom_topic") or ""].ros_topic_name == "/odom"
    assert bridged_gz[odometry.findtext("tf_topic") or ""].ros_topic_name == "/tf"
    (states,) = plugins["gz::sim::systems::JointStatePublisher"]
    assert bridged_gz[states.findtext("topic") or ""].ros_type_name == "sensor_msgs/msg/JointState"
    published = {e.text for e in states.findall("joint_name")}
    assert published == (set(robot.JOINTS) - {"joint_gripper"}) | {"joint_finger_left", "joint_finger_right"}
    controllers = {p.findtext("topic"): p for p in plugins["gz::sim::systems::JointTrajectoryController"]}
    assert len(controllers) == len(robot.CONTROLLERS)
    for name, joints in robot.CONTROLLERS.items():
        plugin = controllers[gazebo.gz_trajectory_topic(name)]
        entry = bridged_gz[gazebo.gz_trajectory_topic(name)]
        assert entry.direction == "ROS_TO_GZ"
        expected = ("joint_finger_left", "joint_finger_right") if joints == ("joint_gripper",) else joints
        assert tuple(e.text for e in plugin.findall("joint_name")) == expected
        # Repeated gains follow the joint order: one of each per joint, the controllers start at HOME.
        for key in ("initial_position", "position_p_gain", "position_cmd_max"):
            assert len(plugin.findall(key)) == len(expected), (name, key)
        starts = [float(e.text or "nan") for e in plugin.findall("initial_position")]
        home = [robot.HOME["joint_gripper"] / 2 if j.startswith("joint_finger") else robot.HOME[j] for j in expected]
        assert starts == pytest.approx(home)


# ---------------------------------------------------------------------------------------------
# The bridge


def _bridge_config() -> list[dict[str, object]]:
    entries = yaml.safe_load((REPO / "config" / "gz_bridge.yaml").read_text())
    assert isinstance(entries, list)
    return entries


def test_bridge_config_file_is_the_generated_one(assets: dict[str, dict[str, Path]]) -> None:
    generated = [e.as_dict() for e in gazebo.bridge_entries()]
    assert _bridge_config() == generated
    assert yaml.safe_load(assets["kitchen"]["bridge"].read_text()) == generated


@pytest.mark.parametrize("topic", sorted(CONTRACT))
def test_bridge_covers_every_contract_topic(topic: str) -> None:
    ros_type, direction = CONTRACT[topic]
    if topic == "/tf_static":
        # Fixed frames come from robot_state_publisher (the URDF) and the launch file's map -> odom.
        launch = (REPO / "launch" / "gazebo.launch.py").read_text()
        assert "robot_state_publisher" in launch and '"map", "--child-frame-id", "odom"' in launch
        return
    bridged = gazebo.ADAPTED_TOPICS.get(topic, topic)  # the adapter serves the contract topic from this one
    entries = [e for e in _bridge_config() if e["ros_topic_name"] == bridged]
    assert len(entries) == 1, f"{topic} is not bridged (as {bridged})"
    (entry,) = entries
    assert entry["ros_type_name"] == ros_type
    assert entry["gz_type_name"] == GZ_TYPES[ros_type]
    assert entry["direction"] == direction
    assert str(entry["gz_topic_name"]).startswith("/")


def test_bridge_has_nothing_outside_the_contract() -> None:
    contract = set(CONTRACT) | set(gazebo.ADAPTED_TOPICS.values())
    assert {e["ros_topic_name"] for e in _bridge_config()} <= contract
    assert all(e["direction"] in ("GZ_TO_ROS", "ROS_TO_GZ") for e in _bridge_config())


# ---------------------------------------------------------------------------------------------
# The adapter's conversions


def test_gripper_command_becomes_half_on_each_finger() -> None:
    names, values = gazebo.fingers_from_gripper(["joint_gripper"], [0.08])
    assert names == ["joint_finger_left", "joint_finger_right"] and values == pytest.approx([0.04, 0.04])
    names, values = gazebo.fingers_from_gripper(["joint_lift", "joint_gripper"], [0.5, 0.1])
    assert names == ["joint_lift", "joint_finger_left", "joint_finger_right"]
    assert values == pytest.approx([0.5, 0.05, 0.05])
    assert gazebo.fingers_from_gripper(["joint_gripper"], [20.0], halve=False)[1] == [20.0, 20.0]
    with pytest.raises(ValueError, match="2 joint names but 1"):
        gazebo.fingers_from_gripper(["a", "b"], [1.0])


def test_joint_states_gain_the_gripper_separation() -> None:
    names, values = gazebo.gripper_from_fingers(["joint_lift", "joint_finger_left", "joint_finger_right"],
                                                [0.6, 0.03, 0.03])  # fmt: skip
    assert names[-1] == "joint_gripper" and values[-1] == pytest.approx(0.06)
    assert gazebo.gripper_from_fingers(["joint_lift"], [0.6]) == (["joint_lift"], [0.6])


def test_base_command_follows_the_embedded_simulator() -> None:
    limits = robot.BASE_LIMITS
    assert gazebo.limit_base_command(0.2, 0.1, 0.3, "differential") == (
        (0.2, 0.0, 0.3),
        "linear.y 0.1 ignored: the base is differential",
    )
    assert gazebo.limit_base_command(0.2, 0.1, 0.3, "holonomic") == ((0.2, 0.1, 0.3), None)
    (vx, vy, wz), note = gazebo.limit_base_command(3.0, 0.0, -9.0, "differential")
    assert (vx, vy, wz) == pytest.approx((limits.max_linear, 0.0, -limits.max_angular)) and note
    assert gazebo.limit_base_command(math.nan, 0.0, 0.0, "holonomic")[0] == (0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------------------------
# CLI and launch file


def test_cli_writes_the_assets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert gazebo.main(["--world", "office", "--out", str(tmp_path / "gz")]) == 0
    printed = capsys.readouterr().out
    for name in ("world.sdf", "world_with_robot.sdf", "robot.urdf", "bridge.yaml"):
        assert (tmp_path / "gz" / name).is_file() and name in printed
    assert ET.parse(tmp_path / "gz" / "world.sdf").getroot().find("world").get("name") == "office"  # type: ignore[union-attr]


def test_launch_file_declares_its_arguments_and_nodes() -> None:
    source = (REPO / "launch" / "gazebo.launch.py").read_text()
    tree = ast.parse(source)
    compile(tree, "gazebo.launch.py", "exec")
    declared = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "DeclareLaunchArgument":
            name = call.args[0]
            assert isinstance(name, ast.Constant)
            keywords = {k.arg: k.value for k in call.keywords}
            assert "description" in keywords and "default_value" in keywords, name.value
            declared[name.value] = keywords
    assert set(declared) == {"world", "headless", "bridge_config"}
    for needed in ("write_gazebo_assets", "gz_sim.launch.py", '"create"', "robot_state_publisher",
                   "parameter_bridge", "config_file", "use_sim_time", "OpaqueFunction"):  # fmt: skip
        assert needed in source, needed
