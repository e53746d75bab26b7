"""MuJoCo model (MJCF) of a scenario: rooms, walls with doors, furniture, objects and the robot.

Naming, which the simulator relies on: furniture bodies ``furniture/<id>``, object bodies and
their free joints ``object/<id>``, robot links by their ROS frame names (``base_link``, ...),
the camera ``head_camera``. Collision groups keep the robot off the floor (its base slides on
planar joints) while objects rest on the floor, furniture and in the gripper.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sim import robot as robot_model
from sim.scenario import Furniture, OnFurniture, Pose, Scenario, SceneObjectSpec, rgb_of

# contype / conaffinity bits
STATIC, ROBOT, OBJECT, FLOOR = 1, 2, 4, 8
STORAGE_ORIGIN = (500.0, 500.0)  # objects not (yet or any more) in the world wait here, out of sight
STORAGE_SPACING = 2.0
TIMESTEP = 0.002


@dataclass(frozen=True)
class ObjectPlacement:
    x: float
    y: float
    z: float
    yaw: float


def _fmt(*values: float) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def _rgba(color: object, alpha: float = 1.0) -> str:
    r, g, b = rgb_of(color)  # type: ignore[arg-type]
    return _fmt(r, g, b, alpha)


def _quat_z(yaw: float) -> str:
    return _fmt(math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))


def _geom(parent: ET.Element, name: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, "geom", attributes)
    if name:
        element.set("name", name)
    return element


def placement_of(place: OnFurniture | Pose, obj: SceneObjectSpec, scenario: Scenario) -> ObjectPlacement:
    """Where an object's centre goes for a placement (just above the surface, to settle)."""
    if isinstance(place, Pose):
        return ObjectPlacement(*place.position, place.yaw)
    piece = scenario.furniture_piece(place.on)
    fx, fy, fyaw = piece.pose
    c, s = math.cos(fyaw), math.sin(fyaw)
    x = fx + c * place.at[0] - s * place.at[1]
    y = fy + s * place.at[0] + c * place.at[1]
    surface = piece.surface_heights()[place.level]
    return ObjectPlacement(x, y, surface + obj.size[2] / 2 + 0.002, fyaw + place.yaw)


def storage_slot(index: int) -> tuple[float, float, float]:
    return (STORAGE_ORIGIN[0] + STORAGE_SPACING * index, STORAGE_ORIGIN[1], 0.6)


def build_mjcf(scenario: Scenario) -> str:
    """The MJCF XML text of the scenario's world with the robot at its start pose."""
    root = ET.Element("mujoco", model=scenario.name)
    ET.SubElement(root, "compiler", angle="radian", autolimits="true")
    ET.SubElement(root, "option", timestep=str(TIMESTEP), integrator="implicitfast", cone="elliptic", impratio="10")
    visual = ET.SubElement(root, "visual")
    camera = scenario.camera
    ET.SubElement(visual, "global", offwidth=str(max(camera.width, 640)), offheight=str(max(camera.height, 480)))
    ET.SubElement(visual, "quality", shadowsize="0")
    ET.SubElement(visual, "headlight", ambient="0.45 0.45 0.45", diffuse="0.35 0.35 0.35", specular="0 0 0")
    # znear and zfar scale with the model's extent: fix the extent to the rooms (the far-away
    # storage would inflate it) and keep the clipping planes at 5 cm and 50 m.
    min_x, min_y, max_x, max_y = scenario.bounds()
    extent = max(max_x - min_x, max_y - min_y, 1.0)
    ET.SubElement(root, "statistic", extent=_fmt(extent), center=_fmt((min_x + max_x) / 2, (min_y + max_y) / 2, 0.5))
    ET.SubElement(visual, "map", znear=_fmt(0.05 / extent), zfar=_fmt(50.0 / extent))
    asset = ET.SubElement(root, "asset")
    ET.SubElement(asset, "texture", type="skybox", builtin="gradient", rgb1="0.86 0.89 0.93", rgb2="0.62 0.67 0.73",
                  width="64", height="64")  # fmt: skip
    default = ET.SubElement(root, "default")
    ET.SubElement(default, "geom", friction="1 0.005 0.0001", solref="0.004 1", solimp="0.95 0.99 0.001")

    world = ET.SubElement(root, "worldbody")
    ET.SubElement(
        world,
        "light",
        pos=_fmt((min_x + max_x) / 2, (min_y + max_y) / 2, 6),
        dir="0 0 -1",
        directional="true",
        castshadow="false",
        diffuse="0.5 0.5 0.5",
    )
    _add_floors(world, scenario)
    _add_walls(world, scenario)
    for piece in scenario.furniture:
        _add_furniture(world, piece)
    # Storage: a platform far away where absent objects wait.
    storage_length = STORAGE_SPACING * (len(scenario.all_objects()) + 1)
    _geom(
        world,
        "storage",
        type="box",
        pos=_fmt(STORAGE_ORIGIN[0] + storage_length / 2 - 1, STORAGE_ORIGIN[1], 0.25),
        size=_fmt(storage_length / 2 + 1, 1.0, 0.25),
        contype=str(STATIC),
        conaffinity=str(OBJECT),
        rgba="0.3 0.3 0.3 1",
    )
    present = {o.id for o in scenario.objects}
    for index, obj in enumerate(scenario.all_objects()):
        if obj.id in present:
            placement = placement_of(obj.place, obj, scenario)
            position, yaw = (placement.x, placement.y, placement.z), placement.yaw
        else:
            position, yaw = storage_slot(index), 0.0
        _add_object(world, obj, position, yaw)
    actuators = ET.SubElement(root, "actuator")
    equality = ET.SubElement(root, "equality")
    _add_robot(world, actuators, equality, scenario)
    return ET.tostring(root, encoding="unicode")


def _add_floors(world: ET.Element, scenario: Scenario) -> None:
    for room in scenario.rooms:
        cx, cy = (room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2
        hx, hy = (room.max[0] - room.min[0]) / 2, (room.max[1] - room.min[1]) / 2
        _geom(
            world,
            f"floor/{room.id}",
            type="box",
            pos=_fmt(cx, cy, -0.05),
            size=_fmt(hx, hy, 0.05),
            rgba=_rgba(room.floor_color),
            contype=str(FLOOR),
            conaffinity=str(OBJECT),
        )


def wall_segments(scenario: Scenario) -> list[tuple[float, float, float, float]]:
    """Wall segments (x0, y0, x1, y1), axis-aligned, shared room edges merged, doors cut out."""
    lines: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for room in scenario.rooms:
        (x0, y0), (x1, y1) = room.min, room.max
        lines.setdefault(("h", round(y0, 4)), []).append((x0, x1))
        lines.setdefault(("h", round(y1, 4)), []).append((x0, x1))
        lines.setdefault(("v", round(x0, 4)), []).append((y0, y1))
        lines.setdefault(("v", round(x1, 4)), []).append((y0, y1))
    segments = []
    tolerance = scenario.walls.thickness
    for (orientation, fixed), intervals in lines.items():
        merged: list[list[float]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1] + 1e-6:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        cuts = []
        for door in scenario.doors:
            along, across = (door.center[0], door.center[1]) if orientation == "h" else (door.center[1], door.center[0])
            if abs(across - fixed) <= tolerance:
                cuts.append((along - door.width / 2, along + door.width / 2))
        for start, end in merged:
            pieces = [(start, end)]
            for cut_start, cut_end in cuts:
                pieces = [
                    part
                    for a, b in pieces
                    for part in ((a, min(b, cut_start)), (max(a, cut_end), b))
                    if part[1] - part[0] > 1e-3
                ]
            for a, b in pieces:
                segments.append((a, fixed, b, fixed) if orientation == "h" else (fixed, a, fixed, b))
    return segments


def _add_walls(world: ET.Element, scenario: Scenario) -> None:
    walls = scenario.walls
    for i, (x0, y0, x1, y1) in enumerate(wall_segments(scenario)):
        half_length = max(abs(x1 - x0), abs(y1 - y0)) / 2 + walls.thickness / 2
        sx, sy = (half_length, walls.thickness / 2) if y0 == y1 else (walls.thickness / 2, half_length)
        _geom(
            world,
            f"wall/{i}",
            type="box",
            pos=_fmt((x0 + x1) / 2, (y0 + y1) / 2, walls.height / 2),
            size=_fmt(sx, sy, walls.height / 2),
            rgba=_rgba(walls.color),
            contype=str(STATIC),
            conaffinity=str(ROBOT | OBJECT),
        )


def _add_furniture(world: ET.Element, piece: Furniture) -> None:
    x, y, yaw = piece.pose
    body = ET.SubElement(world, "body", name=f"furniture/{piece.id}", pos=_fmt(x, y, 0), quat=_quat_z(yaw))
    common = {"rgba": _rgba(piece.color), "contype": str(STATIC), "conaffinity": str(ROBOT | OBJECT)}
    for name, center, size in piece.boxes():
        half = (size[0] / 2, size[1] / 2, size[2] / 2)
        _geom(body, f"furniture/{piece.id}/{name}", type="box", pos=_fmt(*center), size=_fmt(*half), **common)


def _add_object(world: ET.Element, obj: SceneObjectSpec, position: tuple[float, float, float], yaw: float) -> None:
    body = ET.SubElement(world, "body", name=f"object/{obj.id}", pos=_fmt(*position), quat=_quat_z(yaw))
    ET.SubElement(body, "freejoint", name=f"object/{obj.id}")
    sx, sy, sz = obj.size
    if obj.shape == "box":
        shape = {"type": "box", "size": _fmt(sx / 2, sy / 2, sz / 2)}
    elif obj.shape == "cylinder":
        shape = {"type": "cylinder", "size": _fmt(sx / 2, sz / 2)}
    else:
        shape = {"type": "sphere", "size": _fmt(sx / 2)}
    _geom(
        body,
        f"object/{obj.id}",
        mass=_fmt(obj.mass),
        rgba=_rgba(obj.color),
        friction=_fmt(obj.friction, 0.005, 0.0001),
        contype=str(OBJECT),
        conaffinity=str(STATIC | ROBOT | OBJECT | FLOOR),
        condim="4",
        **shape,
    )


def _joint(parent: ET.Element, name: str, axis: str, damping: str, armature: str) -> None:
    """A controllable joint with the type and range of sim.robot.JOINTS."""
    spec = robot_model.JOINTS[name]
    ET.SubElement(parent, "joint", name=name, type=spec.kind, axis=axis, range=_fmt(spec.lower, spec.upper),
                  damping=damping, armature=armature)  # fmt: skip


def _add_robot(world: ET.Element, actuators: ET.Element, equality: ET.Element, scenario: Scenario) -> None:
    # The start pose is set on the base joints by the simulator.
    robot = {"contype": str(ROBOT), "conaffinity": str(STATIC | OBJECT)}
    dark, light, accent = "0.15 0.15 0.17 1", "0.75 0.75 0.78 1", "0.9 0.55 0.1 1"

    base = ET.SubElement(world, "body", name="base_link", pos="0 0 0")
    ET.SubElement(base, "joint", name="base_x", type="slide", axis="1 0 0", damping="0", ref="0")
    ET.SubElement(base, "joint", name="base_y", type="slide", axis="0 1 0", damping="0")
    ET.SubElement(base, "joint", name="base_yaw", type="hinge", axis="0 0 1", damping="0")
    bx, by, bz = robot_model.BASE_SIZE
    _geom(
        base,
        "base_link",
        type="box",
        pos=_fmt(0, 0, robot_model.BASE_CLEARANCE + bz / 2),
        size=_fmt(bx / 2, by / 2, bz / 2),
        mass=_fmt(robot_model.BASE_MASS),
        rgba=dark,
        **robot,
    )
    mx, my = robot_model.MAST_XY
    _geom(
        base,
        "link_mast",
        type="box",
        pos=_fmt(mx, my, robot_model.BASE_CLEARANCE + bz + robot_model.MAST_SIZE[2] / 2),
        size=_fmt(robot_model.MAST_SIZE[0] / 2, robot_model.MAST_SIZE[1] / 2, robot_model.MAST_SIZE[2] / 2),
        mass="2",
        rgba=light,
        **robot,
    )
    for axis, gain in (("base_x", 3000), ("base_y", 3000), ("base_yaw", 800)):
        ET.SubElement(actuators, "velocity", name=axis, joint=axis, kv=str(gain), forcerange="-2000 2000")

    # Lift carriage on the mast; the arm hangs off it towards -y.
    lift = ET.SubElement(base, "body", name="link_lift", pos=_fmt(mx, my, 0), gravcomp="1")
    _joint(lift, "joint_lift", "0 0 1", damping="50", armature="1")
    _geom(lift, "link_lift", type="box", pos="0 0 0", size="0.05 0.05 0.04", mass="1", rgba=dark, **robot)
    arm = ET.SubElement(lift, "body", name="link_arm", pos="0 0 0", gravcomp="1")
    _joint(arm, "joint_arm", "0 -1 0", damping="30", armature="1")
    tube = robot_model.ARM_RETRACTED_REACH
    _geom(
        arm,
        "link_arm",
        type="box",
        pos=_fmt(0, -tube / 2, 0),
        size=_fmt(robot_model.ARM_SECTION[0] / 2, tube / 2, robot_model.ARM_SECTION[1] / 2),
        mass="0.8",
        rgba=light,
        **robot,
    )
    wrist = ET.SubElement(arm, "body", name="link_wrist_yaw", pos=_fmt(0, -tube, 0), gravcomp="1")
    _joint(wrist, "joint_wrist_yaw", "0 0 1", damping="2", armature="0.05")
    _geom(wrist, "link_wrist_yaw", type="cylinder", size="0.025 0.03", mass="0.2", rgba=dark, **robot)
    palm_length = robot_model.GRIPPER_LENGTH - robot_model.FINGER_SIZE[0]
    _geom(
        wrist,
        "link_gripper",
        type="box",
        pos=_fmt(0, -palm_length / 2, 0),
        size=_fmt(0.035, palm_length / 2, 0.02),
        mass="0.3",
        rgba=dark,
        **robot,
    )
    ET.SubElement(wrist, "site", name="link_grasp_center", pos=_fmt(0, -robot_model.GRIPPER_LENGTH, 0), size="0.005")
    fx, fy, fz = robot_model.FINGER_SIZE
    finger_friction = _fmt(robot_model.FINGER_FRICTION, 0.01, 0.0002)
    spec = robot_model.JOINTS["joint_gripper"]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        finger = ET.SubElement(
            wrist, "body", name=f"link_finger_{side}", pos=_fmt(0, -robot_model.GRIPPER_LENGTH, 0), gravcomp="1"
        )
        ET.SubElement(
            finger,
            "joint",
            name=f"joint_finger_{side}",
            type="slide",
            axis=_fmt(sign, 0, 0),
            range=_fmt(0, spec.upper / 2),
            damping="5",
            armature="0.01",
        )
        _geom(
            finger,
            f"link_finger_{side}",
            type="box",
            pos=_fmt(sign * fy / 2, 0, 0),
            size=_fmt(fy / 2, fx / 2, fz / 2),
            mass="0.05",
            rgba=accent,
            friction=finger_friction,
            condim="4",
            **robot,
        )
    ET.SubElement(equality, "joint", joint1="joint_finger_right", joint2="joint_finger_left", polycoef="0 1 0 0 0")
    ET.SubElement(
        actuators,
        "position",
        name="joint_gripper",
        joint="joint_finger_left",
        kp="400",
        ctrlrange=_fmt(0, spec.upper / 2),
        forcerange=_fmt(-robot_model.GRIPPER_FORCE, robot_model.GRIPPER_FORCE),
    )

    # Head: pan about z, tilt about y, the camera looking along +x of the tilt link.
    head = ET.SubElement(base, "body", name="link_head_pan", pos=_fmt(mx, my, robot_model.HEAD_HEIGHT))
    _joint(head, "joint_head_pan", "0 0 1", damping="1", armature="0.01")
    _geom(head, "link_head_pan", type="cylinder", size="0.03 0.02", mass="0.2", rgba=dark, **robot)
    tilt = ET.SubElement(head, "body", name="link_head_tilt", pos="0 0 0.03")
    _joint(tilt, "joint_head_tilt", "0 -1 0", damping="1", armature="0.01")
    # The camera housing sits just behind the lens.
    _geom(
        tilt,
        "link_head_tilt",
        type="box",
        pos=_fmt(robot_model.CAMERA_OFFSET[0] - 0.025, 0, robot_model.CAMERA_OFFSET[2]),
        size="0.02 0.07 0.02",
        mass="0.3",
        rgba=dark,
        **robot,
    )
    ET.SubElement(
        tilt,
        "camera",
        name="head_camera",
        pos=_fmt(*robot_model.CAMERA_OFFSET),
        xyaxes="0 -1 0 0 0 1",
        fovy=_fmt(scenario.camera.vertical_fov_deg),
    )

    gains = {"joint_lift": 6000, "joint_arm": 3000, "joint_wrist_yaw": 60, "joint_head_pan": 30, "joint_head_tilt": 30}
    for name, kp in gains.items():
        spec = robot_model.JOINTS[name]
        ET.SubElement(
            actuators,
            "position",
            name=name,
            joint=name,
            kp=str(kp),
            ctrlrange=_fmt(spec.lower, spec.upper),
            forcerange=_fmt(-spec.effort, spec.effort),
        )
