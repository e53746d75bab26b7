"""The embedded MuJoCo world on the robot's ROS contract.

    ros2 launch robot_agent sim.launch.py [world:=kitchen] [seed:=0] [real_time_factor:=1.0] [camera_rate_hz:=0.0]

Nodes that run with it should set use_sim_time:=true: the simulator publishes /clock.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    arguments = {
        "world": ("kitchen", str, "Built-in world (kitchen, apartment, office) or a scenario YAML file"),
        "seed": ("0", int, "Seed of the depth noise"),
        "real_time_factor": ("1.0", float, "Simulated seconds per wall second; 0 runs as fast as it can"),
        "camera_rate_hz": ("0.0", float, "Camera frame rate; 0: the scenario's camera.rate_hz"),
        "camera_enabled": ("true", bool, "Render and publish the RGB-D camera"),
    }
    return LaunchDescription(
        [
            *(
                DeclareLaunchArgument(name, default_value=default, description=description)
                for name, (default, _, description) in arguments.items()
            ),
            Node(
                package="robot_agent",
                executable="sim",
                name="sim",
                output="screen",
                parameters=[
                    {
                        name: ParameterValue(LaunchConfiguration(name), value_type=value_type)
                        for name, (_, value_type, _) in arguments.items()
                    }
                ],
            ),
        ]
    )
