"""The skills' RobotInterface on the embedded simulator, in-process and in lockstep (no ROS).

``LockstepContext.wait`` advances the physics instead of waiting, so a skill runs as fast as
the simulator steps and every run is repeatable. The scene graph is the simulator's ground
truth (perception is exercised in the ROS tests); obstacles not in the map are the objects
standing on the floor, as a depth camera would see them. For tests and benchmarks.
"""

from __future__ import annotations

import threading

import numpy as np

from control.arm.trajectory import JointTrajectoryPlan
from control.navigation.grid import OccupancyGrid
from control.robot import BasePose, RobotInterface
from control.skills import Feedback, SkillContext
from perception.scene_graph import SceneGraph
from sim.ground_truth import ground_truth_graph
from sim.simulator import Simulator, TrajectoryPoint

FLOOR_OBJECT_MAX_Z = 0.6  # an object whose centre is lower than this, off every furniture, is an obstacle


class SimulatedRobot(RobotInterface):
    def __init__(self, sim: Simulator, grid: OccupancyGrid | None = None) -> None:
        self.sim = sim
        self.grid = grid if grid is not None else OccupancyGrid.from_scenario(sim.scenario)
        self.commands: list[tuple[float, float, float]] = []  # (time, linear, angular) as sent
        self.trace: list[tuple[float, float]] = []  # the base's (x, y) at each command

    def base_pose(self) -> BasePose | None:
        x, y, yaw = self.sim.base_pose()
        return BasePose(x, y, yaw, self.sim.time)

    def drive(self, linear: float, angular: float) -> None:
        self.commands.append((self.sim.time, linear, angular))
        x, y, _ = self.sim.base_pose()
        self.trace.append((x, y))
        self.sim.command_base_velocity(linear, 0.0, angular)

    def point_head(self, pan: float, tilt: float, seconds: float) -> None:
        point = TrajectoryPoint(seconds, {"joint_head_pan": pan, "joint_head_tilt": tilt})
        self.sim.follow_trajectory("head_controller", ["joint_head_pan", "joint_head_tilt"], [point])

    def head_angles(self) -> tuple[float, float] | None:
        joints = self.sim.joint_positions()
        return joints["joint_head_pan"], joints["joint_head_tilt"]

    def joint_positions(self) -> dict[str, float] | None:
        return dict(self.sim.joint_positions())

    def send_trajectory(self, controller: str, plan: JointTrajectoryPlan) -> None:
        points = [TrajectoryPoint(p.time_from_start, plan.positions_at(i)) for i, p in enumerate(plan.points)]
        self.sim.follow_trajectory(controller, list(plan.joint_names), points)

    def scene(self) -> SceneGraph | None:
        return ground_truth_graph(self.sim)

    def static_map(self) -> OccupancyGrid | None:
        return self.grid

    def obstacle_map(self) -> OccupancyGrid | None:
        on_furniture = {r.subject_id for r in ground_truth_graph(self.sim).relations if r.predicate.value == "on"}
        points = []
        for object_id, pose in self.sim.object_poses().items():
            if object_id in on_furniture or object_id not in self.sim.present or pose[2, 3] > FLOOR_OBJECT_MAX_Z:
                continue
            if self.sim.holding(object_id):  # it goes where the robot goes
                continue
            spec = next(o for o in self.sim.scenario.all_objects() if o.id == object_id)
            half = np.array(spec.size[:2]) / 2
            corners = np.array([[sx, sy] for sx in np.linspace(-1, 1, 5) for sy in np.linspace(-1, 1, 5)]) * half
            points.append(corners @ pose[:2, :2].T + pose[:2, 3])
        return self.grid.with_obstacles(np.vstack(points)) if points else self.grid


class LockstepContext(SkillContext):
    """A skill's context whose waiting steps the simulator; feedback and speech are kept in lists."""

    def __init__(self, sim: Simulator, cancel: threading.Event | None = None) -> None:
        super().__init__(cancel or threading.Event())
        self.sim = sim
        self.feedback: list[Feedback] = []
        self.said: list[str] = []

    def now(self) -> float:
        return self.sim.time

    def publish_feedback(self, feedback: Feedback) -> None:
        self.feedback.append(feedback)

    def say(self, text: str) -> None:
        self.said.append(text)

    def wait(self, seconds: float) -> bool:
        if self.stop_code() is not None:
            return False
        self.sim.advance(seconds)
        return self.stop_code() is None
