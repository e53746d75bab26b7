"""The navigation core: occupancy grids of the worlds, A* paths, pure pursuit, approach poses, maps."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from control.navigation import (
    NoPathError,
    NoPathReason,
    OccupancyGrid,
    PlannedPath,
    Pose2D,
    PurePursuit,
    PursuitCommand,
    PursuitParams,
    arm_extension_over,
    draw_map,
    furniture_poses,
    grasp_point,
    path_blocked,
    plan_path,
    reach_poses,
    room_pose,
    wrap_angle,
)
from control.navigation.approach import ARM_MAX, ARM_MIN, PREFERRED_ARM
from sim.robot import BASE_SIZE, MAST_XY, grasp_reach
from sim.scenario import Scenario, builtin_worlds, load_scenario

ROBOT_RADIUS = 0.25
REACH_Y_MIN = MAST_XY[1] - grasp_reach(ARM_MAX)  # the reachable band in base_link
REACH_Y_MAX = MAST_XY[1] - grasp_reach(ARM_MIN)


def world(name: str) -> tuple[Scenario, OccupancyGrid]:
    scenario = load_scenario(name)
    return scenario, OccupancyGrid.from_scenario(scenario)


def occupied_at(grid: OccupancyGrid, x: float, y: float) -> bool:
    return bool(grid.occupied[grid.world_to_cell(x, y)])


def min_clearance_along(grid: OccupancyGrid, points: list[tuple[float, float]]) -> float:
    """The least clearance of the cells under the polyline, sampled every centimetre."""
    samples = [
        (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        for a, b in itertools.pairwise(points)
        for t in np.linspace(0.0, 1.0, max(int(math.dist(a, b) / 0.01), 1) + 1)
    ]
    return float(grid.clearance_at(samples).min())


def distance_to_polyline(point: tuple[float, float], polyline: list[tuple[float, float]]) -> float:
    distances = []
    for a, b in itertools.pairwise(polyline):
        direction = np.subtract(b, a)
        t = float(np.clip(np.dot(np.subtract(point, a), direction) / np.dot(direction, direction), 0.0, 1.0))
        distances.append(math.dist(point, tuple(np.add(a, t * direction))))
    return min(distances)


def in_base_link(pose: Pose2D, point: tuple[float, float]) -> tuple[float, float]:
    assert pose.yaw is not None
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    dx, dy = point[0] - pose.x, point[1] - pose.y
    return c * dx + s * dy, -s * dx + c * dy


# --- the occupancy grid ---


def test_from_scenario_marks_walls_but_leaves_the_door_open() -> None:
    scenario, grid = world("kitchen")  # one door, at (5, 2), 1 m wide, in the wall x = 5
    assert scenario.doors[0].center == (5.0, 2.0)
    assert not occupied_at(grid, 5.0 + 0.01, 2.0 + 0.01)
    assert occupied_at(grid, 5.0, 1.4) and occupied_at(grid, 5.0, 2.6)  # the wall beside the door
    assert occupied_at(grid, 5.0, 0.8) and occupied_at(grid, 2.0, 0.0)
    door_clearance = grid.clearance()[grid.world_to_cell(5.01, 2.01)]
    # The opening is 1 m less a wall thickness: the walls reach half a thickness past their ends.
    assert door_clearance == pytest.approx(0.45 - scenario.walls.thickness / 2, abs=grid.resolution)


def test_from_scenario_occupies_furniture_and_outside_the_rooms() -> None:
    scenario, grid = world("apartment")
    for piece in scenario.furniture:
        assert occupied_at(grid, piece.pose[0], piece.pose[1]), piece.id
    # The dresser turns 90 degrees: 1.2 m along y, 0.5 m along x, centred at (0.35, 6.0).
    assert occupied_at(grid, 0.5, 6.5) and not occupied_at(grid, 0.8, 6.0)
    min_x, min_y, max_x, max_y = scenario.bounds()
    assert occupied_at(grid, min_x - 0.3, min_y - 0.3) and occupied_at(grid, max_x + 0.3, 2.0)
    assert occupied_at(grid, 7.0, 6.0)  # beyond the kitchen, beside the bedroom: in no room
    assert not occupied_at(grid, *scenario.robot.pose[:2])
    assert grid.bounds() == pytest.approx((min_x - 0.5, min_y - 0.5, max_x + 0.5, max_y + 0.5))


def test_cells_and_map_points_convert_both_ways() -> None:
    grid = OccupancyGrid(np.zeros((10, 20), dtype=bool), resolution=0.1, origin=(-1.0, 2.0))
    assert grid.world_to_cell(-0.95, 2.35) == (3, 0)
    assert grid.cell_to_world(3, 0) == pytest.approx((-0.95, 2.35))
    assert grid.contains(0.99, 2.99) and not grid.contains(1.01, 2.5) and not grid.contains(0.0, 1.99)
    assert np.isinf(grid.clearance()).all()  # nothing occupied


def test_with_obstacles_returns_a_copy_and_ignores_points_off_the_grid() -> None:
    _, grid = world("kitchen")
    clearance = grid.clearance()
    assert grid.clearance() is clearance and not clearance.flags.writeable
    changed = grid.with_obstacles(np.array([[3.0, 2.0], [100.0, 100.0], [np.nan, 1.0]]))
    assert occupied_at(changed, 3.0, 2.0) and not occupied_at(grid, 3.0, 2.0)
    assert changed.occupied.sum() == grid.occupied.sum() + 1
    assert changed.clearance()[changed.world_to_cell(3.3, 2.0)] < clearance[grid.world_to_cell(3.3, 2.0)]


# --- paths ---


@pytest.mark.parametrize("name", builtin_worlds())
def test_paths_lead_through_a_door_to_every_other_room_and_keep_clear(name: str) -> None:
    scenario, grid = world(name)
    start = scenario.robot.pose[:2]
    home = scenario.room_at(*start)
    assert home is not None
    for room in scenario.rooms:
        if room.id == home.id:
            continue
        goal = room_pose(grid, room, ROBOT_RADIUS)
        assert goal is not None and room.contains(goal.x, goal.y)
        path = plan_path(grid, start, (goal.x, goal.y), robot_radius=ROBOT_RADIUS)
        assert path.points[0] == start and path.points[-1] == (goal.x, goal.y)
        assert path.length_m == pytest.approx(sum(math.dist(a, b) for a, b in itertools.pairwise(path.points)))
        assert path.length_m >= math.dist(start, (goal.x, goal.y))
        assert min_clearance_along(grid, path.points) >= ROBOT_RADIUS
        dense = np.vstack([np.linspace(a, b, 50) for a, b in itertools.pairwise(path.points)])
        assert any(np.hypot(*(dense - door.center).T).min() < door.width / 2 for door in scenario.doors), (
            f"{name}: the path to {room.id} passes no door"
        )


def test_a_path_keeps_to_the_middle_of_the_door() -> None:
    _, grid = world("kitchen")
    path = plan_path(grid, (3.0, 1.0), (7.0, 3.0))
    dense = np.vstack([np.linspace(a, b, 200) for a, b in itertools.pairwise(path.points)])
    at_the_wall = dense[np.abs(dense[:, 0] - 5.0) < 0.05]
    assert len(at_the_wall) and np.abs(at_the_wall[:, 1] - 2.0).max() < 0.1


def test_an_obstacle_across_the_room_forces_a_detour() -> None:
    scenario, grid = world("kitchen")
    start, goal = scenario.robot.pose[:2], (7.0, 3.0)
    direct = plan_path(grid, start, goal)
    barrier = np.column_stack([np.full(60, 3.6), np.linspace(0.0, 2.4, 60)])  # a gap remains below the counter
    blocked = grid.with_obstacles(barrier)
    detour = plan_path(blocked, start, goal)
    assert detour.length_m > direct.length_m + 0.2
    assert min_clearance_along(blocked, detour.points) >= ROBOT_RADIUS


def test_an_obstacle_sealing_the_only_door_leaves_no_path() -> None:
    scenario, grid = world("kitchen")
    sealed = grid.with_obstacles(np.column_stack([np.full(40, 5.0), np.linspace(1.4, 2.6, 40)]))
    with pytest.raises(NoPathError, match="not connected") as error:
        plan_path(sealed, scenario.robot.pose[:2], (7.0, 3.0))
    assert error.value.reason is NoPathReason.NO_PATH


def test_a_blocked_start_or_goal_is_an_error_of_its_own_kind() -> None:
    scenario, grid = world("kitchen")
    table = scenario.furniture_piece("dining_table").pose[:2]
    start = scenario.robot.pose[:2]
    with pytest.raises(NoPathError, match="start") as error:
        plan_path(grid, table, start)
    assert error.value.reason is NoPathReason.START_BLOCKED
    with pytest.raises(NoPathError, match=r"goal .* is blocked") as error:
        plan_path(grid, start, table)
    assert error.value.reason is NoPathReason.GOAL_BLOCKED
    with pytest.raises(NoPathError, match="off the map") as error:
        plan_path(grid, start, (50.0, 2.0))
    assert error.value.reason is NoPathReason.GOAL_BLOCKED


def test_a_start_or_goal_near_a_wall_snaps_to_the_nearest_allowed_cell() -> None:
    _, grid = world("kitchen")
    start, goal = (1.5, 0.2), (4.0, 0.15)  # 0.15 m and 0.1 m from the wall's face
    path = plan_path(grid, start, goal)
    assert path.points[0] == start
    assert math.dist(path.points[1], start) <= 0.3 and math.dist(path.points[-1], goal) <= 0.3
    assert min_clearance_along(grid, path.points[1:]) >= ROBOT_RADIUS
    assert plan_path(grid, (2.0, 2.0), (2.0, 2.0)).length_m == 0.0


def test_path_blocked_finds_a_new_obstacle_on_the_remaining_path() -> None:
    scenario, grid = world("kitchen")
    path = plan_path(grid, scenario.robot.pose[:2], (7.0, 3.0))
    assert path_blocked(grid, path.points, ROBOT_RADIUS, path.points[0]) is None
    a, b = np.asarray(path.points[0]), np.asarray(path.points[1])
    obstacle = a + (b - a) * 1.5 / float(np.hypot(*(b - a)))  # 1.5 m along the path
    changed = grid.with_obstacles([obstacle])
    distance = path_blocked(changed, path.points, ROBOT_RADIUS, path.points[0])
    assert distance is not None and 1.5 - ROBOT_RADIUS - 0.1 <= distance <= 1.5 - ROBOT_RADIUS + 0.05
    assert path_blocked(changed, path.points, ROBOT_RADIUS, (5.5, 2.0)) is None  # already past it


def test_a_robot_parked_in_the_forbidden_zone_is_not_blocked_by_it() -> None:
    _, grid = world("kitchen")
    start = (1.5, 0.2)  # 0.15 m from the wall's face: closer than the robot's radius
    path = plan_path(grid, start, (4.0, 2.0))
    assert path_blocked(grid, path.points, ROBOT_RADIUS, start) is None
    ahead = np.asarray(path.points[-1])
    changed = grid.with_obstacles([ahead])  # a new obstacle at the goal still counts
    assert path_blocked(changed, path.points, ROBOT_RADIUS, start) is not None


# --- pure pursuit ---


def simulate(
    controller: PurePursuit, pose: tuple[float, float, float], dt: float = 0.05, steps: int = 2000
) -> tuple[list[tuple[float, float, float]], list[PursuitCommand]]:
    """Drive a unicycle with the controller's commands (exact arcs) until it reports done."""
    poses, commands = [pose], []
    for _ in range(steps):
        command = controller.step(pose, dt)
        commands.append(command)
        if command.done:
            break
        x, y, yaw = pose
        v, w = command.linear, command.angular
        if abs(w) < 1e-9:
            x, y = x + v * dt * math.cos(yaw), y + v * dt * math.sin(yaw)
        else:
            x += v / w * (math.sin(yaw + w * dt) - math.sin(yaw))
            y -= v / w * (math.cos(yaw + w * dt) - math.cos(yaw))
        pose = (x, y, wrap_angle(yaw + w * dt))
        poses.append(pose)
    return poses, commands


def assert_within_limits(params: PursuitParams, commands: list[PursuitCommand], dt: float) -> None:
    previous = (0.0, 0.0)
    for command in commands:
        assert 0.0 <= command.linear <= params.max_linear + 1e-9
        assert abs(command.angular) <= params.max_angular + 1e-9
        assert abs(command.linear - previous[0]) <= params.max_linear_accel * dt + 1e-9
        assert abs(command.angular - previous[1]) <= params.max_angular_accel * dt + 1e-9
        previous = (command.linear, command.angular)


L_PATH = [(0.0, 0.0), (2.0, 0.0), (2.0, 1.5)]


@pytest.mark.parametrize(("start_yaw", "goal_yaw"), [(0.0, math.pi), (math.pi, None), (-1.0, 0.3)])
def test_pursuit_follows_an_l_shaped_path_within_limits_and_stops_on_the_goal(
    start_yaw: float, goal_yaw: float | None
) -> None:
    params, dt = PursuitParams(), 0.05
    controller = PurePursuit(params)
    controller.set_path(L_PATH, goal_yaw)
    poses, commands = simulate(controller, (0.0, 0.0, start_yaw), dt)
    assert commands[-1].done and commands[-1].linear == 0.0 and commands[-1].angular == 0.0
    assert not any(command.done for command in commands[:-1])
    x, y, yaw = poses[-1]
    assert math.dist((x, y), L_PATH[-1]) <= params.position_tolerance
    if goal_yaw is not None:
        assert abs(wrap_angle(yaw - goal_yaw)) <= params.yaw_tolerance
    assert_within_limits(params, commands, dt)
    assert max(p[1] for p in poses) <= L_PATH[-1][1] + params.position_tolerance  # no overshoot
    assert max(distance_to_polyline((x, y), L_PATH) for x, y, _ in poses) < 0.15  # cuts the corner a little
    if start_yaw == math.pi:  # facing away: it turns in place before driving
        assert commands[0].linear == 0.0 and commands[0].angular != 0.0
    assert commands[0].distance_remaining == pytest.approx(3.5)


@pytest.mark.parametrize("name", builtin_worlds())
def test_pursuit_drives_a_planned_path_to_another_room_clear_of_obstacles(name: str) -> None:
    scenario, grid = world(name)
    start = scenario.robot.pose[:2]
    home = scenario.room_at(*start)
    room = next(room for room in scenario.rooms if home is None or room.id != home.id)
    goal = room_pose(grid, room, ROBOT_RADIUS)
    assert goal is not None
    path = plan_path(grid, start, (goal.x, goal.y), robot_radius=ROBOT_RADIUS)
    controller, dt = PurePursuit(), 0.05
    controller.set_path(path.points, goal_yaw=0.5)
    poses, commands = simulate(controller, scenario.robot.pose, dt, steps=4000)
    assert commands[-1].done and math.dist(poses[-1][:2], (goal.x, goal.y)) <= controller.params.position_tolerance
    assert_within_limits(controller.params, commands, dt)
    # Cutting corners keeps the base box clear of obstacles by a margin.
    base_half_diagonal = math.hypot(BASE_SIZE[0], BASE_SIZE[1]) / 2
    assert grid.clearance_at([pose[:2] for pose in poses]).min() >= base_half_diagonal + 0.05


def test_pursuit_reports_done_until_given_a_new_path_and_needs_one_to_start() -> None:
    controller = PurePursuit()
    with pytest.raises(RuntimeError, match="set_path"):
        controller.step((0.0, 0.0, 0.0), 0.05)
    controller.set_path([(0.0, 0.0)], goal_yaw=None)
    assert controller.step((0.0, 0.0, 0.0), 0.05) == (0.0, 0.0, True, 0.0)
    assert controller.step((0.3, 0.0, 0.0), 0.05).done
    controller.set_path([(0.0, 0.0), (1.0, 0.0)])
    command = controller.step((0.0, 0.0, 0.0), 0.05)
    assert not command.done and 0.0 < command.linear <= 0.6 * 0.05 + 1e-9
    controller.reset()
    assert controller.last_command == (0.0, 0.0)
    with pytest.raises(ValueError, match="max_linear"):
        PursuitParams(max_linear=5.0)


# --- approach poses ---


def test_reach_poses_put_the_target_in_the_arms_band_on_free_cells() -> None:
    _, grid = world("kitchen")
    target = (2.5, 3.5)  # on the counter
    poses = reach_poses(grid, target, ROBOT_RADIUS)
    assert poses
    previous_preference = 0.0
    for pose in poses:
        x, y = in_base_link(pose, target)
        assert x == pytest.approx(MAST_XY[0], abs=1e-9)
        assert REACH_Y_MIN <= y <= REACH_Y_MAX
        assert grid.clearance()[grid.world_to_cell(pose.x, pose.y)] >= ROBOT_RADIUS
        preference = round(abs(y - (MAST_XY[1] - grasp_reach(PREFERRED_ARM))), 6)
        assert preference >= previous_preference  # the preferred reach first
        previous_preference = preference
    assert grasp_point(poses[0], PREFERRED_ARM) == pytest.approx(target)


def test_reach_poses_do_not_reach_through_a_wall() -> None:
    scenario, grid = world("apartment")
    shelf = scenario.furniture_piece("bookshelf")  # against the wall x = 5, the kitchen beyond it
    poses = reach_poses(grid, (shelf.pose[0], shelf.pose[1]), ROBOT_RADIUS)
    assert poses and all(pose.x < 5.0 for pose in poses)


def test_furniture_poses_are_free_and_square_to_the_piece_at_the_arms_side() -> None:
    scenario, grid = world("kitchen")
    counter = scenario.furniture_piece("counter")
    poses = furniture_poses(grid, counter, ROBOT_RADIUS)
    assert poses and len(set(poses)) == len(poses)
    (fx, fy, fyaw), (length, width) = counter.pose, counter.size[:2]

    def on_top(point: tuple[float, float], inset: float = 0.1) -> bool:
        along = math.cos(fyaw) * (point[0] - fx) + math.sin(fyaw) * (point[1] - fy)
        across = -math.sin(fyaw) * (point[0] - fx) + math.cos(fyaw) * (point[1] - fy)
        return abs(along) <= length / 2 - inset + 1e-6 and abs(across) <= width / 2 - inset + 1e-6

    for pose in poses:
        assert pose.yaw is not None
        assert grid.clearance()[grid.world_to_cell(pose.x, pose.y)] >= ROBOT_RADIUS
        arm_heading = pose.yaw - math.pi / 2  # the arm reaches square across an edge, within 30 degrees
        assert min(abs(wrap_angle(arm_heading - fyaw - k * math.pi / 2)) for k in range(4)) <= math.pi / 6 + 1e-6
        extensions = np.linspace(ARM_MIN, ARM_MAX, 53)  # 1 cm apart: allow 1 cm where the arm crosses a corner
        assert any(on_top(grasp_point(pose, float(arm)), inset=0.09) for arm in extensions), pose
        arm = arm_extension_over(pose, counter)
        assert arm is not None and ARM_MIN <= arm <= ARM_MAX and on_top(grasp_point(pose, arm))
    # The counter stands against the north wall: the robot stands south of it, facing along it.
    assert all(pose.y < fy for pose in poses[:10])
    assert all(abs(math.sin(pose.yaw or 0.0)) < 0.5 for pose in poses[:10])


def test_room_pose_is_a_free_point_near_the_room_centre() -> None:
    scenario, grid = world("office")
    for room in scenario.rooms:
        pose = room_pose(grid, room, ROBOT_RADIUS)
        assert pose is not None and pose.yaw is None and room.contains(pose.x, pose.y)
        assert grid.clearance()[grid.world_to_cell(pose.x, pose.y)] >= 0.5
        centre = ((room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2)
        assert math.dist((pose.x, pose.y), centre) < 1.5


def test_approach_finds_nothing_on_a_full_grid_without_raising() -> None:
    scenario = load_scenario("kitchen")
    full = OccupancyGrid(np.ones((40, 40), dtype=bool), origin=(0.0, 0.0))
    assert reach_poses(full, (1.0, 1.0)) == []
    assert furniture_poses(full, scenario.furniture_piece("kitchen_table")) == []
    assert room_pose(full, scenario.room("kitchen")) is None


# --- rendering ---


def test_draw_map_writes_a_png(tmp_path: Path) -> None:
    scenario, grid = world("kitchen")
    path = plan_path(grid, scenario.robot.pose[:2], (7.0, 3.0))
    out = draw_map(
        grid,
        out=tmp_path / "maps" / "kitchen.png",
        path=path,
        poses=[Pose2D(*scenario.robot.pose), Pose2D(7.0, 3.0)],
        labels={piece.id: piece.pose[:2] for piece in scenario.furniture},
        title="kitchen",
    )
    assert out == tmp_path / "maps" / "kitchen.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 1000
    assert isinstance(path, PlannedPath)
