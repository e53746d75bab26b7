"""Topic, service and action names of the ROS boundary (shared/design.md). Others rely on them."""

COMMAND_TOPIC = "/robot_agent/command"
RESPONSE_TOPIC = "/robot_agent/response"
STATUS_TOPIC = "/robot_agent/status"
EXECUTE_TASK_ACTION = "/robot_agent/execute_task"
EXECUTE_SKILL_ACTION = "/robot_agent/execute_skill"
LIST_SKILLS_SERVICE = "/robot_agent/list_skills"
SCENE_GRAPH_TOPIC = "/scene_graph"
SCENE_GRAPH_MARKERS_TOPIC = "/scene_graph/markers"
QUERY_SCENE_SERVICE = "/scene_graph/query"
VALUE_MAP_MARKERS_TOPIC = "/robot_agent/value_map/markers"  # planned arm motions: path, target, obstacles
VALUE_MAP_CLOUD_TOPIC = "/robot_agent/value_map/cloud"  # the same plans' cost, a PointCloud2 with a cost field
COLOR_IMAGE_TOPIC = "/camera/color/image_raw"  # the RGB-D camera's colour stream (bringup remaps it per robot)

# Simulation only (the embedded world's extras; a robot has none of these).
SIM_GROUND_TRUTH_TOPIC = "/sim/ground_truth"
SIM_INJECT_EVENT_SERVICE = "/sim/inject_event"
SIM_RESET_SERVICE = "/sim/reset"
SIM_CHECK_SERVICE = "/sim/check"
SIM_PAUSE_CAMERA_SERVICE = "/sim/pause_camera"
