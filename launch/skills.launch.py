"""The skill server.

``ros2 launch robot_agent skills.launch.py [map_file:=kitchen] [navigation:=nav2] [use_sim_time:=true]``
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    catalog_file = LaunchConfiguration("catalog_file")
    map_file = LaunchConfiguration("map_file")
    live_obstacles = LaunchConfiguration("live_obstacles")
    navigation = LaunchConfiguration("navigation")
    nav2_action = LaunchConfiguration("nav2_action")
    use_sim_time = LaunchConfiguration("use_sim_time")
    return LaunchDescription(
        [
            DeclareLaunchArgument(
                "catalog_file",
                default_value="",
                description="Skill catalog YAML; empty: the bundled config/skills.yaml",
            ),
            DeclareLaunchArgument(
                "map_file",
                default_value="",
                description="Map for GOTO and FIND: a built-in world (kitchen, office, apartment) or a "
                "scenario/map YAML file; empty: no map, so no GOTO or FIND",
            ),
            DeclareLaunchArgument(
                "live_obstacles",
                default_value="true",
                choices=["true", "false"],
                description="Add obstacles seen by the depth camera to the map",
            ),
            DeclareLaunchArgument(
                "navigation",
                default_value="internal",
                choices=["internal", "nav2"],
                description="Who drives GOTO and FIND: internal (A* and pure pursuit on /cmd_vel) or nav2 "
                "(Nav2's NavigateToPose; Nav2 must run, with its own map and costmaps)",
            ),
            DeclareLaunchArgument(
                "nav2_action",
                default_value="navigate_to_pose",
                description="Nav2's NavigateToPose action name (with navigation:=nav2)",
            ),
            DeclareLaunchArgument(
                "use_sim_time",
                default_value="false",
                choices=["true", "false"],
                description="Follow /clock (simulation) instead of the system clock",
            ),
            Node(
                package="robot_agent",
                executable="skill_server",
                name="skill_server",
                output="screen",
                parameters=[
                    {
                        "catalog_file": ParameterValue(catalog_file, value_type=str),
                        "map_file": ParameterValue(map_file, value_type=str),
                        "live_obstacles": ParameterValue(live_obstacles, value_type=bool),
                        "navigation": ParameterValue(navigation, value_type=str),
                        "nav2_action": ParameterValue(nav2_action, value_type=str),
                        "use_sim_time": ParameterValue(use_sim_time, value_type=bool),
                    }
                ],
            ),
        ]
    )
