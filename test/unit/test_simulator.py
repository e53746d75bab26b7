"""The embedded simulator without ROS: physics, controllers, grasping, events, the camera."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from sim import robot as robot_model
from sim.camera import CameraRenderer
from sim.mjcf import wall_segments
from sim.scenario import OnFurniture, load_scenario, parse_scenario
from sim.simulator import CommandError, Simulator, TrajectoryPoint

ARM = ["joint_lift", "joint_arm", "joint_wrist_yaw"]


def kitchen(**robot: Any) -> Simulator:
    document = load_scenario("kitchen").model_dump(mode="json")
    document["robot"].update(robot)
    return Simulator(parse_scenario(document))


def test_object_dropped_above_a_table_comes_to_rest_on_it() -> None:
    document = load_scenario("kitchen").model_dump(mode="json")
    table = next(f for f in document["furniture"] if f["id"] == "kitchen_table")
    document["objects"].append(
        {"id": "dropped_box", "label": "box", "color": "green", "shape": "box", "size": [0.1, 0.1, 0.1],
         "mass": 0.3, "place": {"position": [table["pose"][0] + 0.3, table["pose"][1] - 0.2, 1.3]}},
    )  # fmt: skip
    sim = Simulator(parse_scenario(document))
    assert not sim.evaluate("on(dropped_box, kitchen_table)")
    sim.advance(2.0)
    pose = sim.object_pose("dropped_box")
    assert pose[2, 3] == pytest.approx(0.75 + 0.05, abs=0.005)  # resting on the top
    assert np.allclose(pose[:2, 3], [table["pose"][0] + 0.3, table["pose"][1] - 0.2], atol=0.01)
    assert sim.evaluate("on(dropped_box, kitchen_table)")
    for obj in sim.scenario.objects:  # everything placed on furniture stays there
        if isinstance(obj.place, OnFurniture):
            assert sim.evaluate(f"on({obj.id}, {obj.place.on})"), obj.id


def test_at_furniture_is_measured_from_its_footprint() -> None:
    # The dining table is 1.6 m long: beside its end the robot is 1.25 m from its centre, 0.45 m from it.
    beside = kitchen(pose=[7.0 + 0.8 + 0.45, 1.8, 3.14])
    assert beside.evaluate("at(robot, dining_table)") and beside.evaluate("near(robot, dining_table)")
    far = kitchen(pose=[8.6, 0.4, 3.14])  # 0.8 m past its end, 0.95 m in front of it
    assert not far.evaluate("at(robot, dining_table)") and not far.evaluate("near(robot, dining_table)")
    assert far.evaluate("in(robot, dining_room)")


def test_a_tall_object_that_tipped_over_still_rests_on_the_table() -> None:
    document = load_scenario("kitchen").model_dump(mode="json")
    table = next(f for f in document["furniture"] if f["id"] == "kitchen_table")
    document["objects"].append(
        {"id": "carton", "label": "juice carton", "color": "orange", "shape": "box", "size": [0.07, 0.07, 0.2],
         "mass": 0.5, "place": {"position": [table["pose"][0] - 0.4, table["pose"][1] - 0.2, 0.9]}},
    )  # fmt: skip
    sim = Simulator(parse_scenario(document))
    address = sim._object_qpos["carton"]
    sim.data.qpos[address + 3 : address + 7] = (np.cos(np.pi / 4), np.sin(np.pi / 4), 0.0, 0.0)  # on its side
    sim.advance(2.0)
    lying = sim.object_pose("carton")
    assert lying[2, 3] == pytest.approx(0.75 + 0.035, abs=0.01)  # its 7 cm side down
    assert sim.evaluate("on(carton, kitchen_table)") and not sim.evaluate("on(carton, counter)")


def test_base_drives_the_commanded_distance_and_stops_on_command_timeout() -> None:
    sim = kitchen(pose=[1.0, 2.5, 0.0])
    for _ in range(20):  # 0.25 m/s for 2 s, commands at 10 Hz
        sim.command_base_velocity(0.25, 0.0, 0.0)
        sim.advance(0.1)
    x, y, _ = sim.base_pose()
    assert x - 1.0 == pytest.approx(0.5, abs=0.02) and y == pytest.approx(2.5, abs=1e-3)
    sim.advance(1.0)  # no more commands: stop after 0.5 s
    assert np.allclose(sim.base_velocity(), 0.0, atol=1e-3)
    stopped_x = sim.base_pose()[0]
    # The last command came at 1.9 s: it holds until the 0.5 s timeout, 0.4 s after the 2 s mark.
    assert stopped_x - x == pytest.approx(0.4 * 0.25, abs=0.01)
    sim.advance(1.0)
    assert sim.base_pose()[0] == pytest.approx(stopped_x, abs=1e-4)


def test_base_turns_and_rejects_bad_velocities() -> None:
    sim = kitchen(pose=[1.5, 2.5, 0.0])
    for _ in range(10):
        sim.command_base_velocity(0.0, 0.0, 0.5)
        sim.advance(0.1)
    assert sim.base_pose()[2] == pytest.approx(0.5, abs=0.02)
    note = sim.command_base_velocity(3.0, 0.4, -9.0)
    assert note is not None and "clamped" in note and "differential" in note
    with pytest.raises(CommandError, match="non-finite"):
        sim.command_base_velocity(math.nan, 0.0, 0.0)
    sim.advance(0.2)
    assert np.allclose(sim.base_velocity(), 0.0, atol=1e-3)  # a rejected command stops the base


def test_gripper_holds_a_cup_by_friction_while_the_arm_lifts_it() -> None:
    # Facing -x beside the counter, the arm (towards the robot's right, -y) reaches over it.
    sim = kitchen(pose=[1.53, 3.0, math.pi])
    cup_start = sim.object_pose("red_cup")[:3, 3]
    sim.follow_trajectory("gripper_controller", ["joint_gripper"], [TrajectoryPoint(0.5, {"joint_gripper": 0.12})])
    sim.follow_trajectory(
        "arm_controller",
        ARM,
        [
            TrajectoryPoint(2.0, {"joint_lift": 0.95, "joint_arm": 0.0, "joint_wrist_yaw": 0.0}),
            TrajectoryPoint(4.0, {"joint_lift": 0.95, "joint_arm": 0.31, "joint_wrist_yaw": 0.0}),
        ],
    )
    sim.advance(4.5)
    assert not sim.trajectory_active("arm_controller")
    sim.follow_trajectory("gripper_controller", ["joint_gripper"], [TrajectoryPoint(1.0, {"joint_gripper": 0.0})])
    sim.advance(1.5)
    assert sim.joint_positions()["joint_gripper"] == pytest.approx(0.08, abs=0.005)  # stopped by the cup
    sim.follow_trajectory(
        "arm_controller", ARM, [TrajectoryPoint(2.0, {"joint_lift": 1.05, "joint_arm": 0.31, "joint_wrist_yaw": 0.0})]
    )
    sim.advance(2.5)
    cup = sim.object_pose("red_cup")[:3, 3]
    assert cup[2] - cup_start[2] == pytest.approx(0.10, abs=0.01)
    assert sim.holding("red_cup") and sim.evaluate("holding(red_cup)")
    assert not sim.evaluate("on(red_cup, counter)")
    # Contact and friction only: opening the gripper drops the cup.
    sim.follow_trajectory("gripper_controller", ["joint_gripper"], [TrajectoryPoint(0.3, {"joint_gripper": 0.12})])
    sim.advance(1.5)
    assert not sim.holding("red_cup")
    assert sim.evaluate("on(red_cup, counter)")


def test_trajectories_are_validated_and_clamped() -> None:
    sim = kitchen()
    with pytest.raises(CommandError, match="does not increase"):
        sim.follow_trajectory(
            "head_controller",
            ["joint_head_pan", "joint_head_tilt"],
            [
                TrajectoryPoint(1.0, {"joint_head_pan": 0.5, "joint_head_tilt": 0.0}),
                TrajectoryPoint(0.5, {"joint_head_pan": 0.6, "joint_head_tilt": 0.0}),
            ],
        )
    with pytest.raises(CommandError, match="not joint_arm"):
        sim.follow_trajectory("head_controller", ["joint_arm"], [TrajectoryPoint(1.0, {"joint_arm": 0.1})])
    with pytest.raises(CommandError, match="unknown controller"):
        sim.follow_trajectory("leg_controller", ["joint_arm"], [TrajectoryPoint(1.0, {"joint_arm": 0.1})])
    with pytest.raises(CommandError, match="not finite"):
        sim.follow_trajectory(
            "arm_controller",
            ARM,
            [TrajectoryPoint(1.0, {"joint_lift": math.inf, "joint_arm": 0.1, "joint_wrist_yaw": 0.0})],
        )
    note = sim.follow_trajectory(
        "head_controller",
        ["joint_head_pan", "joint_head_tilt"],
        [TrajectoryPoint(1.0, {"joint_head_pan": 0.5, "joint_head_tilt": -3.0})],
    )
    assert note is not None and "joint_head_tilt -3 clamped to [-1.53, 0.79]" in note
    sim.advance(2.0)
    joints = sim.joint_positions()
    assert joints["joint_head_pan"] == pytest.approx(0.5, abs=0.01)
    assert joints["joint_head_tilt"] == pytest.approx(robot_model.JOINTS["joint_head_tilt"].lower, abs=0.02)


def test_scripted_events_move_remove_and_add_objects() -> None:
    document = load_scenario("kitchen").model_dump(mode="json")
    extra = {"id": "green_cup", "label": "cup", "color": "green", "shape": "cylinder", "size": [0.08, 0.08, 0.1],
             "place": {"on": "dining_table"}}  # fmt: skip
    document["events"] = [
        {"action": "move", "object": "red_cup", "to": {"on": "dining_table", "at": [0.4, 0.1]}, "when": {"at": 1.0}},
        {"action": "remove", "object": "yellow_banana", "when": {"robot_in": "dining_room"}},
        {"action": "add", "object": extra, "when": {"at": 2.0}},
    ]
    sim = Simulator(parse_scenario(document))
    assert "green_cup" not in sim.object_poses()
    sim.advance(1.5)
    assert sim.evaluate("on(red_cup, dining_table)") and not sim.evaluate("on(red_cup, counter)")
    assert [e.description for e in sim.event_log] == ["moved red_cup"]
    assert sim.event_log[0].time_s == pytest.approx(1.0, abs=0.01)
    sim.advance(1.0)
    assert sim.evaluate("on(green_cup, dining_table)") and "green_cup" in sim.object_poses()
    assert "yellow_banana" in sim.object_poses()
    sim.data.qpos[sim._joint_qpos["base_x"]] = 6.0  # carry the robot into the dining room
    sim.advance(0.1)
    assert "yellow_banana" not in sim.object_poses()
    assert sim.evaluate("in(robot, dining_room)") and not sim.evaluate("on(yellow_banana, counter)")


def test_walls_have_openings_at_doors() -> None:
    scenario = load_scenario("kitchen")
    segments = wall_segments(scenario)
    shared = sorted((min(y0, y1), max(y0, y1)) for x0, y0, x1, y1 in segments if x0 == x1 == 5.0)
    assert shared == [(0.0, 1.5), (2.5, 4.0)]  # the door at y=2, 1 m wide


def test_camera_depth_matches_the_geometry_and_segmentation_finds_objects() -> None:
    sim = kitchen(pose=[1.6, 2.5, math.pi / 2])  # facing the counter
    sim.advance(0.2)
    camera = CameraRenderer(sim.model, sim.scenario.camera, sim.object_geoms())
    try:
        frame = camera.render(sim.copy_state())
    finally:
        camera.close()
    assert frame.color.shape == (480, 640, 3) and frame.depth.shape == (480, 640)
    assert frame.instances is not None
    world_to_camera = np.linalg.inv(frame.camera_pose)
    for object_id in ("red_cup", "blue_cup"):
        centre = world_to_camera @ np.append(sim.object_pose(object_id)[:3, 3], 1.0)
        pixel = camera.intrinsics.matrix @ centre[:3]
        u, v = round(pixel[0] / pixel[2]), round(pixel[1] / pixel[2])
        radius = 0.04  # the camera sees the cup's near side
        near_side = np.linalg.norm(centre[:3]) - radius
        assert frame.depth[v, u] * np.linalg.norm(centre[:3]) / centre[2] == pytest.approx(near_side, abs=0.01)
        assert frame.instances[v, u] == sim.object_ids.index(object_id) + 1
        red, _, blue = frame.color[v, u].astype(int)
        assert (red > 2 * blue) if object_id == "red_cup" else (blue > 2 * red)
    assert np.isnan(frame.depth).sum() < frame.depth.size  # in range where there is geometry


def test_depth_range_and_noise() -> None:
    document = copy.deepcopy(load_scenario("kitchen").model_dump(mode="json"))
    document["camera"].update(max_depth=1.5, depth_noise=0.01)
    sim = Simulator(parse_scenario(document), seed=3)
    camera = CameraRenderer(sim.model, sim.scenario.camera, sim.object_geoms(), seed=3)
    try:
        depth = camera.render(sim.copy_state(), segmentation=False).depth
    finally:
        camera.close()
    valid = depth[np.isfinite(depth)]
    assert valid.size and valid.max() <= 1.5 and valid.min() >= 0.2
