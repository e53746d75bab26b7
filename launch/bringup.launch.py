"""The whole stack: simulator (or none on a robot), skill server, perception and the agent.

    ros2 launch robot_agent bringup.launch.py [sim:=mujoco|gazebo|none] [world:=kitchen] [backend:=offline] ...

`ros2 launch robot_agent bringup.launch.py --show-args` lists every argument. The graph itself is
robot_agent/bringup.py, which `robot-agent up` starts as well; this file only turns its plan into
launch actions. Parameters come from config/robot_agent.yaml (params_file:=...), keyed by node name.
"""

from __future__ import annotations

from typing import Any

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def _launch_setup(context: LaunchContext) -> list[Any]:
    from ament_index_python.packages import get_package_share_directory

    from robot_agent.bringup import ARGUMENT_NAMES, plan_bringup

    plan = plan_bringup({name: LaunchConfiguration(name).perform(context) for name in ARGUMENT_NAMES})
    share = get_package_share_directory("robot_agent")
    actions: list[Any] = [
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(f"{share}/launch/{include.launch_file}"),
            launch_arguments=include.arguments.items(),
        )
        for include in plan.includes
    ]
    actions += [
        Node(
            package="robot_agent",
            executable=node.executable,
            name=node.name,
            output="screen",
            parameters=[node.parameters],
            remappings=list(node.remappings),
            arguments=["--ros-args", "--log-level", plan.arguments["log_level"]],
        )
        for node in plan.nodes
    ]
    return actions


def generate_launch_description() -> LaunchDescription:
    from robot_agent.bringup import ARGUMENTS

    return LaunchDescription(
        [
            *(
                DeclareLaunchArgument(
                    argument.name,
                    default_value=argument.default,
                    description=argument.description,
                    **({"choices": list(argument.choices)} if argument.choices else {}),
                )
                for argument in ARGUMENTS
            ),
            OpaqueFunction(function=_launch_setup),
        ]
    )
