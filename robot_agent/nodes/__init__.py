"""One module per ROS 2 node; each is thin and delegates to the ROS-free cores."""
