"""The agent (task planner): ``ros2 launch robot_agent agent.launch.py [backend:=offline] [model:='{...}']``."""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    backend = LaunchConfiguration("backend")
    model = LaunchConfiguration("model")
    use_sim_time = LaunchConfiguration("use_sim_time")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "backend",
                default_value="offline",
                choices=["offline", "llm_goal", "llm"],
                description="Planner backend: offline parser, model-written goals, or model-written plans",
            ),
            DeclareLaunchArgument(
                "model",
                default_value="",
                description="Model client config as JSON for the llm backends (docs/models.md)",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                choices=["true", "false"],
                description="Follow /clock (simulation) instead of the system clock",
            ),
            Node(
                package="robot_agent",
                executable="agent",
                name="agent",
                output="screen",
                parameters=[
                    {
                        "backend": ParameterValue(backend, value_type=str),
                        "model": ParameterValue(model, value_type=str),
                        "use_sim_time": ParameterValue(use_sim_time, value_type=bool),
                    }
                ],
            ),
        ]
    )
