"""ROS-free perception: RGB-D geometry, detectors, tracking and the semantic scene graph."""
