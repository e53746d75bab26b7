"""VoxPoser-style 3D value maps: a declarative spec, composition on a voxel grid, planners, pictures.

A language model writes a small JSON spec (:mod:`planning.value_maps.spec`); :func:`parse_spec`
validates it, :func:`compose` builds the affordance, avoidance, rotation, velocity and gripper
maps and the cost on a :class:`VoxelGrid`, and a planner (:data:`PLANNERS`, default
``"search"``) turns the cost into end-effector waypoints (:class:`ManipulationPath`). Nothing
here runs model-written code.
"""

from planning.value_maps.compose import ComposedMaps, compose, occupied_by, resolve
from planning.value_maps.grid import (
    DEFAULT_SHAPE,
    SceneItem,
    VoxelGrid,
    items_from_scene_graph,
    workspace_around,
)
from planning.value_maps.maps import (
    affordance_map,
    avoidance_map,
    distance_to,
    grasp_yaw,
    gripper_map,
    observer_directions,
    obstacle_cores,
    obstacle_zone,
    rotation_map,
    target_region,
    velocity_map,
)
from planning.value_maps.planners import (
    DEFAULT_PLANNER,
    PLANNERS,
    ManipulationPath,
    plan,
    plan_greedy,
    plan_search,
)
from planning.value_maps.render import render_slices
from planning.value_maps.sources import PhraseError, SpecResult, spec_from_model, spec_from_phrases
from planning.value_maps.spec import (
    VALUE_MAP_SPEC_SCHEMA,
    AffordanceSpec,
    AvoidSpec,
    GripperAction,
    GripperSpec,
    Relation,
    RotationMode,
    RotationSpec,
    SlowNearSpec,
    SpecError,
    ValueMapSpec,
    VelocitySpec,
    default_pick_spec,
    default_place_spec,
    parse_spec,
)

__all__ = [
    "DEFAULT_PLANNER",
    "DEFAULT_SHAPE",
    "PLANNERS",
    "VALUE_MAP_SPEC_SCHEMA",
    "AffordanceSpec",
    "AvoidSpec",
    "ComposedMaps",
    "GripperAction",
    "GripperSpec",
    "ManipulationPath",
    "PhraseError",
    "Relation",
    "RotationMode",
    "RotationSpec",
    "SceneItem",
    "SlowNearSpec",
    "SpecError",
    "SpecResult",
    "ValueMapSpec",
    "VelocitySpec",
    "VoxelGrid",
    "affordance_map",
    "avoidance_map",
    "compose",
    "default_pick_spec",
    "default_place_spec",
    "distance_to",
    "grasp_yaw",
    "gripper_map",
    "items_from_scene_graph",
    "observer_directions",
    "obstacle_cores",
    "obstacle_zone",
    "occupied_by",
    "parse_spec",
    "plan",
    "plan_greedy",
    "plan_search",
    "render_slices",
    "resolve",
    "rotation_map",
    "spec_from_model",
    "spec_from_phrases",
    "target_region",
    "velocity_map",
    "workspace_around",
]
