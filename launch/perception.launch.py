"""Perception: camera -> live scene graph.

ros2 launch robot_agent perception.launch.py [detector:=color] [map_file:=kitchen] [use_sim_time:=true]
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    detector = LaunchConfiguration("detector")
    map_file = LaunchConfiguration("map_file")
    use_sim_time = LaunchConfiguration("use_sim_time")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "detector",
                default_value="color",
                choices=["color", "sim_oracle", "open_vocab"],
                description="Object detector: color (configurable classes), sim_oracle (simulation only), "
                "open_vocab (OWLv2/OWL-ViT from a local model_dir)",
            ),
            DeclareLaunchArgument(
                "map_file",
                default_value="",
                description="Rooms and furniture: a built-in world or a scenario/map YAML file; empty: none",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                choices=["true", "false"],
                description="Follow /clock (simulation) instead of the system clock",
            ),
            Node(
                package="robot_agent",
                executable="perception",
                name="perception",
                output="screen",
                parameters=[
                    {
                        "detector": ParameterValue(detector, value_type=str),
                        "map_file": ParameterValue(map_file, value_type=str),
                        "use_sim_time": ParameterValue(use_sim_time, value_type=bool),
                    }
                ],
            ),
        ]
    )
