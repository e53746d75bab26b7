"""Gazebo (Harmonic) with a scenario and the robot, bridged onto the robot_agent ROS contract.

    ros2 launch robot_agent gazebo.launch.py [world:=kitchen] [headless:=false] [bridge_config:=FILE]

Writes the scenario's assets (sim/gazebo.py: world.sdf, robot.urdf, bridge.yaml) into a fresh
temporary folder, starts Gazebo through ros_gz_sim, spawns the robot from the URDF, and runs
robot_state_publisher, ros_gz_bridge, a map -> odom static transform and the contract adapter.

The adapter (robot_agent/nodes/gz_adapter.py) serves /cmd_vel, /joint_states and
/gripper_controller/joint_trajectory with the embedded simulator's semantics on top of the bridged
/gazebo/... topics (see sim/gazebo.py).
"""

from __future__ import annotations

import tempfile
from typing import Any

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def _launch_setup(context: LaunchContext) -> list[Any]:
    from ament_index_python.packages import get_package_share_directory

    from sim import gazebo
    from sim.scenario import load_scenario

    scenario = load_scenario(LaunchConfiguration("world").perform(context))
    headless = LaunchConfiguration("headless").perform(context) == "true"
    assets = gazebo.write_gazebo_assets(scenario, tempfile.mkdtemp(prefix=f"robot_agent_gazebo_{scenario.name}_"))
    bridge_config = LaunchConfiguration("bridge_config").perform(context) or str(assets["bridge"])
    x, y, yaw = scenario.robot.pose
    # -r: run at once; headless: the server only, sensors rendering off-screen (EGL).
    gz_args = f"-r {'-s --headless-rendering ' if headless else ''}{assets['world']}"
    gz_sim = PythonLaunchDescriptionSource(f"{get_package_share_directory('ros_gz_sim')}/launch/gz_sim.launch.py")
    sim_time = {"use_sim_time": True}
    return [
        IncludeLaunchDescription(gz_sim, launch_arguments={"gz_args": gz_args, "on_exit_shutdown": "true"}.items()),
        Node(
            package="ros_gz_sim",
            executable="create",
            output="screen",
            arguments=[
                "-world",
                scenario.name,
                "-name",
                gazebo.MODEL_NAME,
                "-file",
                str(assets["robot"]),
                "-x",
                str(x),
                "-y",
                str(y),
                "-z",
                "0.0",
                "-Y",
                str(yaw),
            ],
        ),
        Node(
            package="robot_state_publisher",
            executable="robot_state_publisher",
            output="screen",
            parameters=[{"robot_description": assets["robot"].read_text(encoding="utf-8"), **sim_time}],
        ),
        Node(
            package="ros_gz_bridge",
            executable="parameter_bridge",
            name="gz_bridge",
            output="screen",
            parameters=[{"config_file": bridge_config, **sim_time}],
        ),
        # Gazebo's odometry frame is its world frame, which is the scenario's map frame.
        Node(
            package="robot_agent",
            executable="static_transform_publisher",
            output="screen",
            arguments=["--frame-id", "map", "--child-frame-id", "odom"],
        ),
        Node(
            package="robot_agent",
            executable="gz_adapter",
            output="screen",
            arguments=["--base", scenario.robot.base],
            parameters=[sim_time],
        ),
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "world",
                default_value="kitchen",
                description="Built-in world name (kitchen, apartment, office) or a scenario YAML file",
            ),
            DeclareLaunchArgument(
                "headless",
                default_value="false",
                choices=["true", "false"],
                description="Run the Gazebo server only, without the GUI (sensors still render)",
            ),
            DeclareLaunchArgument(
                "bridge_config",
                default_value="",
                description="ros_gz_bridge YAML; empty: the one generated with the world (config/gz_bridge.yaml)",
            ),
            OpaqueFunction(function=_launch_setup),
        ]
    )
