"""ROS 2 glue of robot_agent: nodes, message conversions, transforms, parameters and the CLI."""
