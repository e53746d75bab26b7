"""ROS-free planning: model clients, task planning, grounding and value maps."""
