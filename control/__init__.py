"""ROS-free control: skill logic, navigation, arm kinematics and trajectories."""
