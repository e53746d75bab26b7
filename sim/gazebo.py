"""Gazebo (Harmonic) assets of a scenario: an SDF world, the robot's URDF and the ros_gz_bridge configuration.

The world and the robot reproduce sim/mjcf.py: the same rooms, walls with door openings, furniture
and objects, and the same robot links, joints, limits and camera. The robot carries Gazebo systems
whose topics the bridge maps onto the ROS contract the embedded simulator publishes.

Three contract topics pass through a small ROS-side adapter (``launch/gazebo.launch.py`` runs it)
because Gazebo cannot express them alone: ``/cmd_vel`` (clamped to the base limits, ``linear.y``
dropped on a differential base, zero after the command timeout: Gazebo's VelocityControl holds
the last command forever), ``/gripper_controller/joint_trajectory`` (``joint_gripper``, the finger
separation, becomes half of it on each finger joint) and ``/joint_states`` (``joint_gripper`` is
added as the sum of the finger joints). The pure conversions are here; ``/tf_static`` comes from
robot_state_publisher and a map -> odom static transform.

    python -m sim.gazebo --world kitchen --out /tmp/gz
"""

from __future__ import annotations

import argparse
import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sim import robot as robot_model
from sim.mjcf import placement_of, wall_segments
from sim.scenario import CameraSettings, Color, Scenario, SceneObjectSpec, load_scenario, rgb_of

SDF_VERSION = "1.9"  # sdformat 12 (Debian) checks it; Gazebo Harmonic (sdformat 14) converts it on load
MODEL_NAME = "robot"
STEP_SIZE = 0.001  # s, Gazebo's default; the PID gains below are set for it
FLOOR_THICKNESS = 0.1  # floors are boxes with their top at z = 0, as in sim/mjcf.py
COLOR_CLIP = (0.05, 50.0)  # the colour image's clipping planes, as in sim/mjcf.py
OPTICAL_FRAME = "camera_color_optical_frame"
CAMERA_SENSOR = "head_camera"
GRIPPER_JOINT = "joint_gripper"
FINGER_JOINTS = ("joint_finger_left", "joint_finger_right")

# Gazebo-side topics of the robot's systems.
GZ_CMD_VEL = f"/model/{MODEL_NAME}/cmd_vel"
GZ_ODOMETRY = f"/model/{MODEL_NAME}/odometry"
GZ_TF = f"/model/{MODEL_NAME}/tf"
GZ_JOINT_STATES = f"/model/{MODEL_NAME}/joint_states"
GZ_CAMERA = f"/model/{MODEL_NAME}/{CAMERA_SENSOR}"  # rgbd_camera adds /image, /depth_image, /camera_info


def gz_trajectory_topic(controller: str) -> str:
    return f"/model/{MODEL_NAME}/{controller}/joint_trajectory"


# Contract topics the adapter serves, and the bridged topic each one goes through.
ADAPTED_TOPICS: dict[str, str] = {
    "/cmd_vel": "/gazebo/cmd_vel",
    "/joint_states": "/gazebo/joint_states",
    "/gripper_controller/joint_trajectory": "/gazebo/gripper_controller/joint_trajectory",
}

Direction = Literal["GZ_TO_ROS", "ROS_TO_GZ"]


@dataclass(frozen=True)
class BridgeEntry:
    ros_topic_name: str
    gz_topic_name: str
    ros_type_name: str
    gz_type_name: str
    direction: Direction
    lazy: bool = False

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "ros_topic_name": self.ros_topic_name,
            "gz_topic_name": self.gz_topic_name,
            "ros_type_name": self.ros_type_name,
            "gz_type_name": self.gz_type_name,
            "direction": self.direction,
            "lazy": self.lazy,
        }


def bridge_entries() -> list[BridgeEntry]:
    """The ros_gz_bridge topics: sensors, odometry, tf, joint states and clock out; commands in."""
    trajectory = ("trajectory_msgs/msg/JointTrajectory", "gz.msgs.JointTrajectory")
    entries = [
        BridgeEntry("/clock", "/clock", "rosgraph_msgs/msg/Clock", "gz.msgs.Clock", "GZ_TO_ROS"),
        BridgeEntry(
            "/camera/color/image_raw",
            f"{GZ_CAMERA}/image",
            "sensor_msgs/msg/Image",
            "gz.msgs.Image",
            "GZ_TO_ROS",
            lazy=True,
        ),
        BridgeEntry(
            "/camera/depth/image_raw",
            f"{GZ_CAMERA}/depth_image",
            "sensor_msgs/msg/Image",
            "gz.msgs.Image",
            "GZ_TO_ROS",
            lazy=True,
        ),
        BridgeEntry(
            "/camera/color/camera_info",
            f"{GZ_CAMERA}/camera_info",
            "sensor_msgs/msg/CameraInfo",
            "gz.msgs.CameraInfo",
            "GZ_TO_ROS",
        ),
        BridgeEntry("/odom", GZ_ODOMETRY, "nav_msgs/msg/Odometry", "gz.msgs.Odometry", "GZ_TO_ROS"),
        BridgeEntry("/tf", GZ_TF, "tf2_msgs/msg/TFMessage", "gz.msgs.Pose_V", "GZ_TO_ROS"),
        BridgeEntry(
            ADAPTED_TOPICS["/joint_states"], GZ_JOINT_STATES, "sensor_msgs/msg/JointState", "gz.msgs.Model", "GZ_TO_ROS"
        ),
        BridgeEntry(ADAPTED_TOPICS["/cmd_vel"], GZ_CMD_VEL, "geometry_msgs/msg/Twist", "gz.msgs.Twist", "ROS_TO_GZ"),
    ]
    for controller in robot_model.CONTROLLERS:
        ros_topic = f"/{controller}/joint_trajectory"
        ros_topic = ADAPTED_TOPICS.get(ros_topic, ros_topic)
        entries.append(BridgeEntry(ros_topic, gz_trajectory_topic(controller), *trajectory, "ROS_TO_GZ"))
    return entries


def bridge_yaml() -> str:
    """ros_gz_bridge's config_file: a YAML list of topic maps."""
    lines = [
        "# ros_gz_bridge configuration: Gazebo topics of the robot <-> the robot_agent ROS contract.",
        "# Generated by `python -m sim.gazebo` (sim/gazebo.py: bridge_entries); keep the two in step.",
        "# /cmd_vel, /joint_states and /gripper_controller/joint_trajectory reach the contract through the",
        "# adapter that launch/gazebo.launch.py runs (the /gazebo/... topics); /tf_static comes from",
        "# robot_state_publisher and the map -> odom static transform.",
    ]
    for entry in bridge_entries():
        for i, (key, value) in enumerate(entry.as_dict().items()):
            text = ("true" if value else "false") if isinstance(value, bool) else f'"{value}"'
            lines.append(f"{'- ' if i == 0 else '  '}{key}: {text}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The adapter's conversions (pure; the ROS node is in launch/gazebo.launch.py).


def fingers_from_gripper(
    names: Sequence[str], values: Sequence[float], halve: bool = True
) -> tuple[list[str], list[float]]:
    """Replace ``joint_gripper`` (finger separation) by the two finger joints, each at half of it.

    Works for positions, velocities and accelerations alike (``halve=False`` copies the value to
    both fingers, for efforts); other joints pass through.
    """
    if len(names) != len(values):
        raise ValueError(f"{len(names)} joint names but {len(values)} values")
    out_names: list[str] = []
    out_values: list[float] = []
    for name, value in zip(names, values, strict=True):
        if name == GRIPPER_JOINT:
            out_names.extend(FINGER_JOINTS)
            share = value / 2 if halve else value
            out_values.extend((share, share))
        else:
            out_names.append(name)
            out_values.append(value)
    return out_names, out_values


def gripper_from_fingers(names: Sequence[str], values: Sequence[float]) -> tuple[list[str], list[float]]:
    """Add ``joint_gripper`` as the sum of the finger joints, as the embedded simulator reports it."""
    if len(names) != len(values):
        raise ValueError(f"{len(names)} joint names but {len(values)} values")
    by_name = dict(zip(names, values, strict=True))
    if GRIPPER_JOINT in by_name or not all(finger in by_name for finger in FINGER_JOINTS):
        return list(names), list(values)
    return [*names, GRIPPER_JOINT], [*values, sum(by_name[finger] for finger in FINGER_JOINTS)]


def limit_base_command(
    linear_x: float, linear_y: float, angular_z: float, base: Literal["differential", "holonomic"]
) -> tuple[tuple[float, float, float], str | None]:
    """The body velocity the base follows, with the embedded simulator's rules, and a note when changed."""
    if not all(math.isfinite(v) for v in (linear_x, linear_y, angular_z)):
        return (0.0, 0.0, 0.0), f"cmd_vel with non-finite values {(linear_x, linear_y, angular_z)} rejected"
    command, notes = robot_model.limit_base_velocity(linear_x, linear_y, angular_z, base)
    return command, "; ".join(notes) or None


# ---------------------------------------------------------------------------------------------
# Geometry and inertia helpers.

Vec3 = tuple[float, float, float]


def _fmt(*values: float) -> str:
    return " ".join(f"{v:.12g}" for v in values)


def _pose(x: float, y: float, z: float, roll: float = 0.0, pitch: float = 0.0, yaw: float = 0.0) -> str:
    return _fmt(x, y, z, roll, pitch, yaw)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class Inertial:
    """Mass, centre of mass and the inertia tensor about it (ixx, iyy, izz, ixy, ixz, iyz)."""

    mass: float
    com: Vec3
    tensor: tuple[float, float, float, float, float, float]

    @staticmethod
    def box(mass: float, size: Vec3, com: Vec3 = (0.0, 0.0, 0.0)) -> Inertial:
        x, y, z = size
        return Inertial(
            mass,
            com,
            (mass * (y * y + z * z) / 12, mass * (x * x + z * z) / 12, mass * (x * x + y * y) / 12, 0.0, 0.0, 0.0),
        )

    @staticmethod
    def cylinder(mass: float, radius: float, length: float, com: Vec3 = (0.0, 0.0, 0.0)) -> Inertial:
        side = mass * (3 * radius * radius + length * length) / 12
        return Inertial(mass, com, (side, side, mass * radius * radius / 2, 0.0, 0.0, 0.0))

    @staticmethod
    def sphere(mass: float, radius: float) -> Inertial:
        moment = 2 * mass * radius * radius / 5
        return Inertial(mass, (0.0, 0.0, 0.0), (moment, moment, moment, 0.0, 0.0, 0.0))

    @staticmethod
    def combine(parts: Sequence[Inertial]) -> Inertial:
        """One rigid body of several parts (parallel-axis theorem)."""
        mass = sum(p.mass for p in parts)
        com = (
            sum(p.mass * p.com[0] for p in parts) / mass,
            sum(p.mass * p.com[1] for p in parts) / mass,
            sum(p.mass * p.com[2] for p in parts) / mass,
        )
        total = [0.0] * 6
        for p in parts:
            dx, dy, dz = p.com[0] - com[0], p.com[1] - com[1], p.com[2] - com[2]
            shift = (dy * dy + dz * dz, dx * dx + dz * dz, dx * dx + dy * dy, -dx * dy, -dx * dz, -dy * dz)
            for i in range(6):
                total[i] += p.tensor[i] + p.mass * shift[i]
        return Inertial(mass, com, (total[0], total[1], total[2], total[3], total[4], total[5]))


def _rgba(color: Color, alpha: float = 1.0) -> tuple[float, float, float, float]:
    r, g, b = rgb_of(color)
    return (r, g, b, alpha)


# ---------------------------------------------------------------------------------------------
# The world.


def wall_boxes(scenario: Scenario) -> list[tuple[Vec3, Vec3]]:
    """(centre, full size) of each wall box: the segments of sim/mjcf.py's wall_segments, door openings cut."""
    walls = scenario.walls
    boxes = []
    for x0, y0, x1, y1 in wall_segments(scenario):
        length = max(abs(x1 - x0), abs(y1 - y0)) + walls.thickness  # overlap at the corners
        size = (length, walls.thickness, walls.height) if y0 == y1 else (walls.thickness, length, walls.height)
        boxes.append((((x0 + x1) / 2, (y0 + y1) / 2, walls.height / 2), size))
    return boxes


def _material(parent: ET.Element, rgba: tuple[float, float, float, float]) -> None:
    material = _sub(parent, "material")
    _sub(material, "ambient", _fmt(*rgba))
    _sub(material, "diffuse", _fmt(*rgba))
    _sub(material, "specular", _fmt(0.1, 0.1, 0.1, 1.0))


def _geometry(parent: ET.Element, shape: str, size: Vec3) -> None:
    geometry = _sub(parent, "geometry")
    if shape == "box":
        _sub(_sub(geometry, "box"), "size", _fmt(*size))
    elif shape == "cylinder":
        cylinder = _sub(geometry, "cylinder")
        _sub(cylinder, "radius", _fmt(size[0] / 2))
        _sub(cylinder, "length", _fmt(size[2]))
    elif shape == "sphere":
        _sub(_sub(geometry, "sphere"), "radius", _fmt(size[0] / 2))
    else:
        raise ValueError(f"unknown shape {shape!r}")


def _shape(
    link: ET.Element,
    name: str,
    shape: str,
    size: Vec3,
    rgba: tuple[float, float, float, float],
    pose: str | None = None,
    friction: float | None = None,
) -> None:
    """A collision and a visual of the same geometry."""
    collision = _sub(link, "collision", name=f"{name}_collision")  # sibling names must differ
    if pose:
        _sub(collision, "pose", pose)
    _geometry(collision, shape, size)
    if friction is not None:
        ode = _sub(_sub(_sub(collision, "surface"), "friction"), "ode")
        _sub(ode, "mu", _fmt(friction))
        _sub(ode, "mu2", _fmt(friction))
    visual = _sub(link, "visual", name=f"{name}_visual")
    if pose:
        _sub(visual, "pose", pose)
    _geometry(visual, shape, size)
    _material(visual, rgba)


def _inertial(link: ET.Element, inertial: Inertial) -> None:
    element = _sub(link, "inertial")
    _sub(element, "pose", _pose(*inertial.com))
    _sub(element, "mass", _fmt(inertial.mass))
    tensor = _sub(element, "inertia")
    for key, value in zip(("ixx", "iyy", "izz", "ixy", "ixz", "iyz"), inertial.tensor, strict=True):
        _sub(tensor, key, _fmt(value))


def _plugin(parent: ET.Element, system: str, class_name: str, **parameters: str) -> ET.Element:
    plugin = _sub(parent, "plugin", filename=f"gz-sim-{system}-system", name=f"gz::sim::systems::{class_name}")
    for key, value in parameters.items():
        _sub(plugin, key, value)
    return plugin


def object_inertial(obj: SceneObjectSpec) -> Inertial:
    sx, sy, sz = obj.size
    if obj.shape == "box":
        return Inertial.box(obj.mass, (sx, sy, sz))
    if obj.shape == "cylinder":
        return Inertial.cylinder(obj.mass, sx / 2, sz)
    return Inertial.sphere(obj.mass, sx / 2)


def scenario_to_sdf(scenario: Scenario, robot_uri: str | None = None) -> str:
    """The SDF world of a scenario; with ``robot_uri`` (a URDF or SDF file) the robot stands at its start pose.

    Without it the world holds no robot: launch/gazebo.launch.py spawns it from the URDF.
    Objects that only scripted events add are left out (Gazebo does not run the scenario's events).
    """
    root = ET.Element("sdf", version=SDF_VERSION)
    world = _sub(root, "world", name=scenario.name)
    physics = _sub(world, "physics", name="default_physics", type="ignored")  # the Physics system picks the engine
    _sub(physics, "max_step_size", _fmt(STEP_SIZE))
    _sub(physics, "real_time_factor", "1")
    _plugin(world, "physics", "Physics")
    _plugin(world, "user-commands", "UserCommands")
    _plugin(world, "scene-broadcaster", "SceneBroadcaster")
    _plugin(world, "sensors", "Sensors", render_engine="ogre2")
    _sub(world, "gravity", "0 0 -9.81")
    scene = _sub(world, "scene")
    _sub(scene, "ambient", "0.45 0.45 0.45 1")
    _sub(scene, "background", "0.7 0.75 0.8 1")
    _sub(scene, "shadows", "false")

    min_x, min_y, max_x, max_y = scenario.bounds()
    center_x, center_y = (min_x + max_x) / 2, (min_y + max_y) / 2
    light = _sub(world, "light", name="sun", type="directional")
    _sub(light, "cast_shadows", "false")
    _sub(light, "pose", _pose(center_x, center_y, 6))
    _sub(light, "diffuse", "0.6 0.6 0.6 1")
    _sub(light, "specular", "0.1 0.1 0.1 1")
    _sub(light, "direction", "-0.3 0.2 -1")

    # Ground under the floors, reaching past the walls.
    ground = _sub(world, "model", name="ground_plane")
    _sub(ground, "static", "true")
    _sub(ground, "pose", _pose(center_x, center_y, -FLOOR_THICKNESS))
    link = _sub(ground, "link", name="link")
    extent = (max_x - min_x + 20, max_y - min_y + 20)
    for kind in ("collision", "visual"):
        element = _sub(link, kind, name=f"plane_{kind}")
        plane = _sub(_sub(element, "geometry"), "plane")
        _sub(plane, "normal", "0 0 1")
        _sub(plane, "size", _fmt(*extent))
        if kind == "visual":
            _material(element, (0.35, 0.37, 0.35, 1.0))

    floors = _sub(world, "model", name="floors")
    _sub(floors, "static", "true")
    link = _sub(floors, "link", name="link")
    for room in scenario.rooms:
        size = (room.max[0] - room.min[0], room.max[1] - room.min[1], FLOOR_THICKNESS)
        center = ((room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2, -FLOOR_THICKNESS / 2)
        _shape(link, f"floor_{room.id}", "box", size, _rgba(room.floor_color), _pose(*center))

    walls = _sub(world, "model", name="walls")
    _sub(walls, "static", "true")
    link = _sub(walls, "link", name="link")
    for i, (center, size) in enumerate(wall_boxes(scenario)):
        _shape(link, f"wall_{i}", "box", size, _rgba(scenario.walls.color), _pose(*center))

    for piece in scenario.furniture:
        model = _sub(world, "model", name=f"furniture_{piece.id}")
        _sub(model, "static", "true")
        _sub(model, "pose", _pose(piece.pose[0], piece.pose[1], 0.0, yaw=piece.pose[2]))
        link = _sub(model, "link", name="link")
        for name, center, size in piece.boxes():
            _shape(link, name, "box", size, _rgba(piece.color), _pose(*center))

    for obj in scenario.objects:
        placement = placement_of(obj.place, obj, scenario)
        model = _sub(world, "model", name=f"object_{obj.id}")
        _sub(model, "pose", _pose(placement.x, placement.y, placement.z, yaw=placement.yaw))
        link = _sub(model, "link", name="link")
        _inertial(link, object_inertial(obj))
        _shape(link, "body", obj.shape, obj.size, _rgba(obj.color), friction=obj.friction)

    if robot_uri is not None:
        include = _sub(world, "include")
        _sub(include, "uri", robot_uri)
        _sub(include, "name", MODEL_NAME)
        x, y, yaw = scenario.robot.pose
        _sub(include, "pose", _pose(x, y, 0.0, yaw=yaw))
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ---------------------------------------------------------------------------------------------
# The robot.

DARK, LIGHT, ACCENT = (0.15, 0.15, 0.17, 1.0), (0.75, 0.75, 0.78, 1.0), (0.9, 0.55, 0.1, 1.0)
# Joint damping as in sim/mjcf.py; position PID gains of Gazebo's trajectory controllers.
DAMPING = {
    "joint_lift": 50.0,
    "joint_arm": 30.0,
    "joint_wrist_yaw": 2.0,
    "joint_finger_left": 5.0,
    "joint_finger_right": 5.0,
    "joint_head_pan": 1.0,
    "joint_head_tilt": 1.0,
}
PID_GAINS = {  # p, i, d
    "joint_lift": (6000.0, 2000.0, 200.0),
    "joint_arm": (3000.0, 500.0, 100.0),
    "joint_wrist_yaw": (60.0, 5.0, 1.0),
    "joint_finger_left": (400.0, 50.0, 5.0),
    "joint_finger_right": (400.0, 50.0, 5.0),
    "joint_head_pan": (30.0, 2.0, 0.5),
    "joint_head_tilt": (30.0, 2.0, 0.5),
}
# Gazebo's trajectory controller per contract controller (the gripper's drives both fingers).
GZ_CONTROLLER_JOINTS: dict[str, tuple[str, ...]] = {
    controller: FINGER_JOINTS if joints == (GRIPPER_JOINT,) else joints
    for controller, joints in robot_model.CONTROLLERS.items()
}


def _home(joint: str) -> float:
    if joint in FINGER_JOINTS:
        return robot_model.HOME[GRIPPER_JOINT] / 2
    return robot_model.HOME[joint]


def _spec(joint: str) -> robot_model.JointSpec:
    """Limits of a URDF joint: a finger has half the gripper's range and speed."""
    if joint in FINGER_JOINTS:
        gripper = robot_model.JOINTS[GRIPPER_JOINT]
        return robot_model.JointSpec(
            joint, "slide", gripper.lower / 2, gripper.upper / 2, gripper.max_velocity / 2, robot_model.GRIPPER_FORCE
        )
    return robot_model.JOINTS[joint]


class _UrdfBuilder:
    def __init__(self, name: str) -> None:
        self.root = ET.Element("robot", name=name)

    def link(self, name: str, inertial: Inertial | None = None) -> ET.Element:
        link = _sub(self.root, "link", name=name)
        if inertial is not None:
            element = _sub(link, "inertial")
            _sub(element, "origin", xyz=_fmt(*inertial.com), rpy="0 0 0")
            _sub(element, "mass", value=_fmt(inertial.mass))
            ixx, iyy, izz, ixy, ixz, iyz = inertial.tensor
            _sub(
                element,
                "inertia",
                ixx=_fmt(ixx),
                ixy=_fmt(ixy),
                ixz=_fmt(ixz),
                iyy=_fmt(iyy),
                iyz=_fmt(iyz),
                izz=_fmt(izz),
            )
        return link

    def shape(
        self, link: ET.Element, name: str, kind: str, size: Vec3, rgba: tuple[float, ...], xyz: Vec3 = (0, 0, 0)
    ) -> None:
        """A visual and a collision: box of full ``size``, or cylinder of radius size[0], length size[2]."""
        for tag in ("visual", "collision"):
            # Collisions stay unnamed: sdformat applies a link's <gazebo> friction only to those.
            element = _sub(link, tag, name=name) if tag == "visual" else _sub(link, tag)
            _sub(element, "origin", xyz=_fmt(*xyz), rpy="0 0 0")
            geometry = _sub(element, "geometry")
            if kind == "box":
                _sub(geometry, "box", size=_fmt(*size))
            else:
                _sub(geometry, "cylinder", radius=_fmt(size[0]), length=_fmt(size[2]))
            if tag == "visual":
                material = _sub(element, "material", name=f"{name}_color")
                _sub(material, "color", rgba=_fmt(*rgba))

    def joint(
        self,
        name: str,
        kind: str,
        parent: str,
        child: str,
        xyz: Vec3,
        axis: Vec3 | None = None,
        rpy: Vec3 = (0.0, 0.0, 0.0),
    ) -> ET.Element:
        joint = _sub(self.root, "joint", name=name, type=kind)
        _sub(joint, "parent", link=parent)
        _sub(joint, "child", link=child)
        _sub(joint, "origin", xyz=_fmt(*xyz), rpy=_fmt(*rpy))
        if axis is not None:
            _sub(joint, "axis", xyz=_fmt(*axis))
            spec = _spec(name)
            _sub(
                joint,
                "limit",
                lower=_fmt(spec.lower),
                upper=_fmt(spec.upper),
                effort=_fmt(spec.effort),
                velocity=_fmt(spec.max_velocity),
            )
            _sub(joint, "dynamics", damping=_fmt(DAMPING[name]), friction="0")
        return joint

    def gazebo(self, reference: str | None = None) -> ET.Element:
        return _sub(self.root, "gazebo", **({"reference": reference} if reference else {}))


def robot_urdf(scenario: Scenario | None = None) -> str:
    """URDF of the robot (links and joints of sim/mjcf.py) with Gazebo systems and the RGB-D camera.

    The camera takes the scenario's settings (the defaults without one).
    """
    camera = scenario.camera if scenario is not None else CameraSettings()
    r = robot_model
    b = _UrdfBuilder(MODEL_NAME)
    bz = r.BASE_SIZE[2]
    mx, my = r.MAST_XY
    mast_center = (mx, my, r.BASE_CLEARANCE + bz + r.MAST_SIZE[2] / 2)
    base_center = (0.0, 0.0, r.BASE_CLEARANCE + bz / 2)
    base = b.link(
        "base_link",
        Inertial.combine(
            [Inertial.box(r.BASE_MASS, r.BASE_SIZE, base_center), Inertial.box(2.0, r.MAST_SIZE, mast_center)]
        ),
    )
    b.shape(base, "base", "box", r.BASE_SIZE, DARK, base_center)
    b.shape(base, "mast", "box", r.MAST_SIZE, LIGHT, mast_center)

    lift = b.link("link_lift", Inertial.box(1.0, (0.1, 0.1, 0.08)))
    b.shape(lift, "lift", "box", (0.1, 0.1, 0.08), DARK)
    b.joint("joint_lift", "prismatic", "base_link", "link_lift", (mx, my, 0.0), (0.0, 0.0, 1.0))

    tube = r.ARM_RETRACTED_REACH
    arm_size = (r.ARM_SECTION[0], tube, r.ARM_SECTION[1])
    arm = b.link("link_arm", Inertial.box(0.8, arm_size, (0.0, -tube / 2, 0.0)))
    b.shape(arm, "arm", "box", arm_size, LIGHT, (0.0, -tube / 2, 0.0))
    b.joint("joint_arm", "prismatic", "link_lift", "link_arm", (0.0, 0.0, 0.0), (0.0, -1.0, 0.0))

    palm_length = r.GRIPPER_LENGTH - r.FINGER_SIZE[0]
    palm_size, palm_center = (0.07, palm_length, 0.04), (0.0, -palm_length / 2, 0.0)
    wrist = b.link(
        "link_wrist_yaw",
        Inertial.combine([Inertial.cylinder(0.2, 0.025, 0.06), Inertial.box(0.3, palm_size, palm_center)]),
    )
    b.shape(wrist, "wrist", "cylinder", (0.025, 0.025, 0.06), DARK)
    b.shape(wrist, "gripper", "box", palm_size, DARK, palm_center)
    b.joint("joint_wrist_yaw", "revolute", "link_arm", "link_wrist_yaw", (0.0, -tube, 0.0), (0.0, 0.0, 1.0))
    b.link("link_grasp_center")
    b.joint("joint_grasp_center", "fixed", "link_wrist_yaw", "link_grasp_center", (0.0, -r.GRIPPER_LENGTH, 0.0))

    fx, fy, fz = r.FINGER_SIZE
    for side, sign in (("left", 1.0), ("right", -1.0)):
        finger_size, finger_center = (fy, fx, fz), (sign * fy / 2, 0.0, 0.0)
        finger = b.link(f"link_finger_{side}", Inertial.box(0.05, finger_size, finger_center))
        b.shape(finger, f"finger_{side}", "box", finger_size, ACCENT, finger_center)
        joint = b.joint(
            f"joint_finger_{side}",
            "prismatic",
            "link_wrist_yaw",
            f"link_finger_{side}",
            (0.0, -r.GRIPPER_LENGTH, 0.0),
            (sign, 0.0, 0.0),
        )
        if side == "right":
            _sub(joint, "mimic", joint="joint_finger_left", multiplier="1", offset="0")

    head = b.link("link_head_pan", Inertial.cylinder(0.2, 0.03, 0.04))
    b.shape(head, "head_pan", "cylinder", (0.03, 0.03, 0.04), DARK)
    b.joint("joint_head_pan", "revolute", "base_link", "link_head_pan", (mx, my, r.HEAD_HEIGHT), (0.0, 0.0, 1.0))
    housing_size, housing_center = (0.04, 0.14, 0.04), (r.CAMERA_OFFSET[0] - 0.025, 0.0, r.CAMERA_OFFSET[2])
    tilt = b.link("link_head_tilt", Inertial.box(0.3, housing_size, housing_center))
    b.shape(tilt, "head_tilt", "box", housing_size, DARK, housing_center)
    b.joint("joint_head_tilt", "revolute", "link_head_pan", "link_head_tilt", (0.0, 0.0, 0.03), (0.0, -1.0, 0.0))
    # The optical frame: z along the tilt link's +x (where the camera looks), x right, y down.
    b.link(OPTICAL_FRAME)
    b.joint(
        "joint_camera_optical",
        "fixed",
        "link_head_tilt",
        OPTICAL_FRAME,
        r.CAMERA_OFFSET,
        rpy=(-math.pi / 2, 0.0, -math.pi / 2),
    )

    # Contact: the base glides (MuJoCo keeps it off the floor; here the velocity system moves it), fingers grip.
    for link_name, friction in (
        ("base_link", 0.0),
        ("link_finger_left", r.FINGER_FRICTION),
        ("link_finger_right", r.FINGER_FRICTION),
    ):
        element = b.gazebo(link_name)
        _sub(element, "mu1", _fmt(friction))
        _sub(element, "mu2", _fmt(friction))

    _add_camera(b.gazebo("link_head_tilt"), camera)
    _add_robot_systems(b.gazebo())
    ET.indent(b.root)
    return '<?xml version="1.0"?>\n' + ET.tostring(b.root, encoding="unicode") + "\n"


def horizontal_fov(width: int, height: int, vertical_fov_deg: float) -> float:
    """Gazebo takes the horizontal field of view; square pixels give the scenario's vertical one."""
    return 2 * math.atan(math.tan(math.radians(vertical_fov_deg) / 2) * width / height)


def _add_camera(gazebo: ET.Element, camera: CameraSettings) -> None:
    sensor = _sub(gazebo, "sensor", name=CAMERA_SENSOR, type="rgbd_camera")
    # Gazebo cameras look along +x of their frame, as the tilt link's camera does in sim/mjcf.py.
    _sub(sensor, "pose", _pose(*robot_model.CAMERA_OFFSET))
    _sub(sensor, "always_on", "true")
    _sub(sensor, "update_rate", _fmt(camera.rate_hz))
    _sub(sensor, "visualize", "false")
    _sub(sensor, "topic", GZ_CAMERA)
    _sub(sensor, "gz_frame_id", OPTICAL_FRAME)  # header frame_id of the images and camera_info
    element = _sub(sensor, "camera", name=CAMERA_SENSOR)
    _sub(element, "horizontal_fov", _fmt(horizontal_fov(camera.width, camera.height, camera.vertical_fov_deg)))
    image = _sub(element, "image")
    _sub(image, "width", str(camera.width))
    _sub(image, "height", str(camera.height))
    _sub(image, "format", "R8G8B8")
    clip = _sub(element, "clip")
    _sub(clip, "near", _fmt(COLOR_CLIP[0]))
    _sub(clip, "far", _fmt(COLOR_CLIP[1]))
    depth_clip = _sub(_sub(element, "depth_camera"), "clip")
    _sub(depth_clip, "near", _fmt(camera.min_depth))
    _sub(depth_clip, "far", _fmt(camera.max_depth))


def _add_robot_systems(gazebo: ET.Element) -> None:
    _plugin(gazebo, "velocity-control", "VelocityControl", topic=GZ_CMD_VEL)
    _plugin(
        gazebo,
        "odometry-publisher",
        "OdometryPublisher",
        odom_frame="odom",
        robot_base_frame="base_link",
        odom_topic=GZ_ODOMETRY,
        tf_topic=GZ_TF,
        dimensions="2",
        odom_publish_frequency="50",
    )
    states = _plugin(gazebo, "joint-state-publisher", "JointStatePublisher", topic=GZ_JOINT_STATES)
    for controller, joints in GZ_CONTROLLER_JOINTS.items():
        for joint in joints:
            _sub(states, "joint_name", joint)
        plugin = _plugin(
            gazebo, "joint-trajectory-controller", "JointTrajectoryController", topic=gz_trajectory_topic(controller)
        )
        # Repeated parameters follow the joint_name order.
        for joint in joints:
            _sub(plugin, "joint_name", joint)
        for joint in joints:
            _sub(plugin, "initial_position", _fmt(_home(joint)))
        for index, term in enumerate(("p", "i", "d")):
            for joint in joints:
                _sub(plugin, f"position_{term}_gain", _fmt(PID_GAINS[joint][index]))
        for joint in joints:
            effort = _spec(joint).effort
            _sub(plugin, "position_i_min", _fmt(-effort))
            _sub(plugin, "position_i_max", _fmt(effort))
        for joint in joints:
            _sub(plugin, "position_cmd_min", _fmt(-_spec(joint).effort))
        for joint in joints:
            _sub(plugin, "position_cmd_max", _fmt(_spec(joint).effort))


# ---------------------------------------------------------------------------------------------


def write_gazebo_assets(scenario: Scenario, out_dir: str | Path) -> dict[str, Path]:
    """Write world.sdf (no robot: the launch file spawns it), world_with_robot.sdf (for ``gz sim`` alone),
    robot.urdf and bridge.yaml into ``out_dir``; returns their paths by kind."""
    directory = Path(out_dir).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "world": directory / "world.sdf",
        "world_with_robot": directory / "world_with_robot.sdf",
        "robot": directory / "robot.urdf",
        "bridge": directory / "bridge.yaml",
    }
    paths["robot"].write_text(robot_urdf(scenario), encoding="utf-8")
    paths["world"].write_text(scenario_to_sdf(scenario), encoding="utf-8")
    paths["world_with_robot"].write_text(scenario_to_sdf(scenario, str(paths["robot"])), encoding="utf-8")
    paths["bridge"].write_text(bridge_yaml(), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a scenario's Gazebo assets: SDF world, URDF, bridge YAML.")
    parser.add_argument("--world", default="kitchen", help="built-in world name or scenario file (default: kitchen)")
    parser.add_argument("--out", required=True, help="folder to write into (created if missing)")
    options = parser.parse_args(argv)
    scenario = load_scenario(options.world)
    for kind, path in write_gazebo_assets(scenario, options.out).items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
