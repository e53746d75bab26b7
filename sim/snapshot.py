"""Pictures of a simulated world: what the head camera sees, and a labelled top-down map.

    python -m sim.snapshot --world kitchen --out snapshots/ [--robot X Y YAW] [--pan P] [--tilt T]

writes color.png, depth.png (colourised, with a scale) and topdown.png.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib import patches, transforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

from sim.camera import CameraRenderer, Frame
from sim.mjcf import wall_segments
from sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario, rgb_of
from sim.simulator import Simulator, TrajectoryPoint

SETTLE_S = 1.0


def colorize_depth(depth: npt.NDArray[np.float32], max_depth: float) -> npt.NDArray[np.uint8]:
    """Depth to an RGB image (turbo: near is blue, far is red); no reading is black."""
    scaled = np.clip(np.nan_to_num(depth, nan=0.0) / max_depth, 0.0, 1.0)
    rgb: npt.NDArray[np.uint8] = (plt.get_cmap("turbo")(scaled)[:, :, :3] * 255).astype(np.uint8)
    rgb[~np.isfinite(depth)] = 0
    return rgb


def save_depth_figure(depth: npt.NDArray[np.float32], path: Path) -> None:
    finite = depth[np.isfinite(depth)]
    top = float(finite.max()) if finite.size else 1.0
    figure, axes = plt.subplots(figsize=(depth.shape[1] / 100 + 1.4, depth.shape[0] / 100 + 0.4), dpi=100)
    shown = axes.imshow(np.where(np.isfinite(depth), depth, np.nan), cmap="turbo", vmin=0.0, vmax=top)
    axes.set_axis_off()
    figure.colorbar(shown, ax=axes, label="depth (m)", fraction=0.04, pad=0.02)
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def save_camera_images(frame: Frame, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"color": out_dir / "color.png", "depth": out_dir / "depth.png"}
    Image.fromarray(frame.color).save(paths["color"])
    save_depth_figure(frame.depth, paths["depth"])
    return paths


def layout_axes(scenario: Scenario) -> tuple[Figure, Axes]:
    """A figure with the scenario's rooms, walls and furniture drawn to scale, in map coordinates."""
    min_x, min_y, max_x, max_y = scenario.bounds()
    figure, axes = plt.subplots(figsize=(max(6.0, (max_x - min_x) * 1.3), max(4.5, (max_y - min_y) * 1.3)), dpi=100)
    for room in scenario.rooms:
        width, height = room.max[0] - room.min[0], room.max[1] - room.min[1]
        axes.add_patch(patches.Rectangle(room.min, width, height, color=rgb_of(room.floor_color), alpha=0.35, lw=0))
        axes.text(room.min[0] + 0.1, room.max[1] - 0.25, room.name, fontsize=10, weight="bold", color="0.25")
    for x0, y0, x1, y1 in wall_segments(scenario):
        axes.plot([x0, x1], [y0, y1], color="0.2", lw=3, solid_capstyle="butt")
    for piece in scenario.furniture:
        x, y, yaw = piece.pose
        box = patches.Rectangle((-piece.size[0] / 2, -piece.size[1] / 2), piece.size[0], piece.size[1],
                                facecolor=rgb_of(piece.color), edgecolor="0.3", alpha=0.6)  # fmt: skip
        box.set_transform(transforms.Affine2D().rotate(yaw).translate(x, y) + axes.transData)
        axes.add_patch(box)
        axes.text(x, y - piece.size[1] / 2 - 0.12, piece.name, fontsize=7, ha="center", va="top", color="0.3")
    axes.set_xlim(min_x - 0.3, max_x + 0.3)
    axes.set_ylim(min_y - 0.3, max_y + 0.3)
    axes.set_aspect("equal")
    axes.set_xlabel("x (m, map)")
    axes.set_ylabel("y (m, map)")
    return figure, axes


def draw_topdown(sim: Simulator, path: Path, camera_range: float = 2.0) -> None:
    """Rooms, walls, furniture, objects (coloured, labelled), the robot and its camera's view."""
    scenario = sim.scenario
    figure, axes = layout_axes(scenario)
    specs = {o.id: o for o in scenario.all_objects()}
    for object_id, pose in sim.object_poses().items():
        x, y = pose[0, 3], pose[1, 3]
        axes.scatter([x], [y], s=60, color=rgb_of(specs[object_id].color), edgecolors="black", zorder=5)
        axes.annotate(object_id, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7, zorder=6)
    x, y, yaw = sim.base_pose()
    axes.add_patch(patches.Circle((x, y), 0.2, facecolor="0.15", edgecolor="orange", lw=2, zorder=7))
    axes.arrow(x, y, 0.3 * math.cos(yaw), 0.3 * math.sin(yaw), width=0.03, color="orange", zorder=8)
    camera = sim.camera_pose()
    forward = camera[:3, 2]
    heading = math.atan2(forward[1], forward[0])
    half_fov = math.atan(math.tan(math.radians(scenario.camera.vertical_fov_deg) / 2) * scenario.camera.width
                         / scenario.camera.height)  # fmt: skip
    wedge = patches.Wedge((camera[0, 3], camera[1, 3]), camera_range, math.degrees(heading - half_fov),
                          math.degrees(heading + half_fov), color="orange", alpha=0.15, zorder=4)  # fmt: skip
    axes.add_patch(wedge)
    axes.set_title(f"{scenario.name} at t = {sim.time:.1f} s")
    figure.savefig(path, bbox_inches="tight")
    plt.close(figure)


def snapshot(
    world: str,
    out_dir: Path,
    robot_pose: tuple[float, float, float] | None = None,
    pan: float | None = None,
    tilt: float | None = None,
) -> dict[str, Path]:
    """Load a world, place the robot and its head, let things settle, and save the three pictures."""
    scenario = load_scenario(world)
    if robot_pose is not None:
        document = scenario.model_dump(mode="json")
        document["robot"]["pose"] = list(robot_pose)
        scenario = parse_scenario(document, f"{world} with the robot at {list(robot_pose)}")
    sim = Simulator(scenario)
    joints = sim.joint_positions()
    head = {"joint_head_pan": joints["joint_head_pan"] if pan is None else pan,
            "joint_head_tilt": joints["joint_head_tilt"] if tilt is None else tilt}  # fmt: skip
    sim.follow_trajectory("head_controller", list(head), [TrajectoryPoint(0.5, head)])
    sim.advance(SETTLE_S)
    renderer = CameraRenderer(sim.model, scenario.camera, sim.object_geoms(), sim.seed)
    try:
        frame = renderer.render(sim.copy_state(), segmentation=False)
    finally:
        renderer.close()
    paths = save_camera_images(frame, out_dir)
    paths["topdown"] = out_dir / "topdown.png"
    draw_topdown(sim, paths["topdown"])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", default="kitchen", help="built-in world name or scenario file")
    parser.add_argument("--out", type=Path, default=Path("snapshots"), help="folder for the PNG files")
    parser.add_argument("--robot", type=float, nargs=3, metavar=("X", "Y", "YAW"), help="robot pose in the map")
    parser.add_argument("--pan", type=float, help="head pan, radians")
    parser.add_argument("--tilt", type=float, help="head tilt, radians (negative looks down)")
    options = parser.parse_args(argv)
    try:
        paths = snapshot(options.world, options.out, options.robot, options.pan, options.tilt)
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return 2
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
