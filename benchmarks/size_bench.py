"""Benchmark of object size estimation (no ROS) against the embedded simulator's true sizes.

    python benchmarks/size_bench.py --out reports/bench

(inside the environment: ``source scripts/env.sh`` first, or ``scripts/in-env python ...``). Writes
size.json and size.md into --out and prints the Markdown.

Every object of every built-in world is looked at from three base poses 1.1 m away, facing it, with
the head on it: of the azimuths (10 degrees apart) where the base has 0.3 m clearance and the camera
sees at least half as many of the object's pixels as from the best of them, the first look is from
the middle of the longest run, the other two 40 degrees to either side (within the run). Each look is
one rendered RGB-D frame; the object's mask comes from the simulator's segmentation
(``perception.detectors.oracle``), so the figures measure size estimation, not detection. Two more
rows: the same masks on depth with Gaussian noise of 3 mm at 1 m growing with depth squared
(``--depth-noise``), and the masks of the colour detector (``perception.detectors.color``), each
matched to the object most of whose pixels it covers.

Two estimators get the same frames: the product's (``perception.measure`` with the track's
``perception.extent.ExtentAccumulator``, through ``perception.tracker.Tracker``), and ``legacy``:
the estimator before oriented boxes (centre half a width behind the nearest surface, footprint as
deep as wide, sizes averaged 0.7/0.3 over looks) on the same cleaned points. Width is the narrower
side of the footprint, length the longer one (a cylinder's and a sphere's are both the diameter).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import sim  # noqa: F401  # picks the OpenGL backend before mujoco is imported
from control.manip_skills import GRIPPER_OPEN
from control.navigation.grid import OccupancyGrid
from perception.detectors.color import ColorDetector
from perception.detectors.oracle import OracleDetector
from perception.frame import Detection, OracleSegmentation, RGBDFrame
from perception.measure import MeasureSettings, Observation, measure
from perception.tracker import Tracker
from sim import robot
from sim.camera import CameraRenderer
from sim.scenario import builtin_worlds, load_scenario, parse_scenario
from sim.simulator import Simulator

Array = npt.NDArray[np.float64]

DISTANCE_M = 1.1  # base to object
CLEARANCE_M = 0.3  # the base's free radius at a viewpoint
AZIMUTH_STEP_DEG = 10
SIDE_LOOK_DEG = 40  # the second and third looks, either side of the first
MIN_PIXELS = 80  # a look that sees fewer pixels of the object is not a look at it
MIN_OVERLAP = 0.5  # a colour detection is the object's when this much of its mask is the object
SHAPES = ("box", "cylinder", "sphere")
LOOKS = (1, 3)
NEW, LEGACY = "oriented boxes", "legacy"
ORACLE, COLOR = "oracle masks", "colour detector's masks"
ESTIMATORS = (NEW, LEGACY)
WIDTH_GOAL_M = 0.01


# --- the scene and the looks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    world: str
    object_id: str
    label: str
    shape: str
    size: tuple[float, float, float]  # x, y, z extents in the object's frame (diameter for round shapes)
    centre: tuple[float, float, float]

    @property
    def width(self) -> float:
        return min(self.size[:2])

    @property
    def length(self) -> float:
        return max(self.size[:2])


@dataclass
class Looks:
    truth: Truth
    frames: list[RGBDFrame]  # first look first
    azimuths_deg: list[float]


def set_view(simulator: Simulator, base: tuple[float, float, float], target: Array) -> None:
    """Put the base at ``base`` and point the head at ``target`` (no physics: kinematics only)."""
    import mujoco  # here, after sim has picked the OpenGL backend

    q = simulator.data.qpos
    joints = simulator._joint_qpos
    x, y, yaw = base
    q[joints["base_x"]], q[joints["base_y"]], q[joints["base_yaw"]] = x, y, yaw
    c, s = math.cos(yaw), math.sin(yaw)
    head_x = x + c * robot.MAST_XY[0] - s * robot.MAST_XY[1]
    head_y = y + s * robot.MAST_XY[0] + c * robot.MAST_XY[1]
    pan = math.atan2(target[1] - head_y, target[0] - head_x) - yaw
    tilt = -math.atan2(robot.HEAD_HEIGHT - target[2], math.hypot(target[0] - head_x, target[1] - head_y))
    q[joints["joint_head_pan"]] = math.atan2(math.sin(pan), math.cos(pan))
    q[joints["joint_head_tilt"]] = max(-1.4, min(0.7, tilt))
    mujoco.mj_forward(simulator.model, simulator.data)


def largest_run(valid: Sequence[bool]) -> list[int]:
    """The indices of the longest circular run of True values, in order."""
    n = len(valid)
    if all(valid):
        return list(range(n))
    best: list[int] = []
    for start in range(n):
        if valid[start] and not valid[start - 1]:
            run = [start]
            while valid[(run[-1] + 1) % n]:
                run.append((run[-1] + 1) % n)
            best = max(best, run, key=len)
    return best


class World:
    """One built-in world, settled, with a renderer for looks from chosen base poses."""

    def __init__(self, name: str) -> None:
        document = load_scenario(name).model_dump(mode="json")
        document["events"] = []
        self.name = name
        self.simulator = Simulator(parse_scenario(document))
        self.simulator.advance(0.3)  # let objects settle
        self.grid = OccupancyGrid.from_scenario(self.simulator.scenario)
        self.renderer = CameraRenderer(
            self.simulator.model, self.simulator.scenario.camera, self.simulator.object_geoms()
        )
        self.labels = {o.id: o.label for o in self.simulator.scenario.all_objects()}
        self.table = {i + 1: (oid, self.labels[oid]) for i, oid in enumerate(self.simulator.object_ids)}
        self._qpos = self.simulator.data.qpos.copy()

    def truth(self, object_id: str) -> Truth:
        spec = next(o for o in self.simulator.scenario.objects if o.id == object_id)
        centre = self.simulator.object_pose(object_id)[:3, 3]
        size = (spec.size[0], spec.size[0], spec.size[2]) if spec.shape != "box" else spec.size
        return Truth(self.name, object_id, spec.label, spec.shape, size, (centre[0], centre[1], centre[2]))

    def frame(self, base: tuple[float, float, float], target: Array) -> RGBDFrame:
        self.simulator.data.qpos[:] = self._qpos
        set_view(self.simulator, base, target)
        rendered = self.renderer.render(self.simulator.data)
        assert rendered.instances is not None
        return RGBDFrame(
            1_000_000_000,
            rendered.color,
            rendered.depth,
            self.renderer.intrinsics,
            rendered.camera_pose,
            OracleSegmentation(rendered.instances, self.table),
        )

    def looks(self, object_id: str) -> Looks | None:
        """Up to three looks at an object (the first from the middle of the arc it is seen from)."""
        truth = self.truth(object_id)
        centre = np.array(truth.centre)
        instance = self.simulator.object_ids.index(object_id) + 1
        azimuths = np.radians(np.arange(0, 360, AZIMUTH_STEP_DEG))
        bases = centre[:2] + DISTANCE_M * np.column_stack([np.cos(azimuths), np.sin(azimuths)])
        free = self.grid.clearance_at(bases) >= CLEARANCE_M
        frames: dict[int, RGBDFrame] = {}
        pixels = np.zeros(len(azimuths))
        for index in np.flatnonzero(free):
            base = (float(bases[index, 0]), float(bases[index, 1]), float(azimuths[index] + math.pi))
            frame = self.frame(base, centre)
            assert frame.oracle is not None
            frames[int(index)] = frame
            pixels[index] = float((frame.oracle.mask == instance).sum())
        seen = pixels >= max(MIN_PIXELS, 0.5 * float(pixels.max()))
        run = largest_run(list(seen))
        if not run:
            return None
        middle = run[len(run) // 2]
        step = round(SIDE_LOOK_DEG / AZIMUTH_STEP_DEG)
        chosen = [middle]
        for offset in (-step, step):
            side = run[max(0, min(len(run) - 1, run.index(middle) + offset))]
            if side not in chosen:
                chosen.append(side)
        return Looks(truth, [frames[i] for i in chosen], [float(i * AZIMUTH_STEP_DEG) for i in chosen])

    def close(self) -> None:
        self.renderer.close()


# --- masks ---------------------------------------------------------------------------------------


def oracle_mask(detector: OracleDetector, frame: RGBDFrame, object_id: str) -> Detection | None:
    return next((d for d in detector.detect(frame) if d.true_id == object_id), None)


def color_mask(detector: ColorDetector, frame: RGBDFrame, object_id: str) -> Detection | None:
    """The colour detection most of whose pixels are the object's, if any."""
    assert frame.oracle is not None
    instance = next(i for i, (oid, _) in frame.oracle.objects.items() if oid == object_id)
    truth = frame.oracle.mask == instance
    best, overlap = None, MIN_OVERLAP
    for detection in detector.detect(frame):
        share = float((detection.mask & truth).sum()) / max(1.0, float(detection.mask.sum()))
        if share >= overlap:
            best, overlap = replace(detection, true_id=object_id), share
    return best


# --- the estimators ------------------------------------------------------------------------------


def legacy_estimate(points: Array, camera_position: Array, voxel_size: float) -> tuple[Array, Array, float]:
    """The estimator before oriented boxes (perception/measure.py's ``estimate_centre`` until
    2026-12): centre half a width behind the nearest surface, the footprint as deep as wide."""
    mean = points.mean(axis=0)
    view = mean[:2] - camera_position[:2]
    norm = float(np.linalg.norm(view))
    view = view / norm if norm > 1e-6 else np.array([1.0, 0.0])
    lateral = np.array([-view[1], view[0]])
    along = points[:, :2] @ view
    across = points[:, :2] @ lateral
    width = float(across.max() - across.min()) + voxel_size
    depth_extent = max(width, float(along.max() - along.min()))
    centre_along = float(along.min()) + depth_extent / 2
    centre_across = float(across.max() + across.min()) / 2
    low, high = float(points[:, 2].min()) - voxel_size / 2, float(points[:, 2].max()) + voxel_size / 2
    centre = np.array([*(centre_along * view + centre_across * lateral), (low + high) / 2])
    return centre, np.array([depth_extent, width, high - low]), math.atan2(view[1], view[0])


@dataclass
class Estimate:
    centre: Array
    size: Array  # along the box's x axis, across it, height

    @property
    def width(self) -> float:
        return float(min(self.size[:2]))

    @property
    def length(self) -> float:
        return float(max(self.size[:2]))


def new_estimates(observations: list[Observation], frames: list[RGBDFrame]) -> list[Estimate]:
    """What a track holds after each look (the product: measure, then Tracker with its accumulator)."""
    tracker = Tracker(seed=0)
    estimates = []
    for index, (observation, frame) in enumerate(zip(observations, frames, strict=True)):
        stamp = (index + 1) * 1_000_000_000
        tracker.update(replace(frame, stamp_ns=stamp), [observation])
        track = max(tracker.tracks.values(), key=lambda t: (t.last_seen_ns, t.hits))  # the one it just saw
        estimates.append(Estimate(track.position(), track.size.copy()))
    return estimates


def legacy_estimates(observations: list[Observation], frames: list[RGBDFrame], voxel: float) -> list[Estimate]:
    estimates: list[Estimate] = []
    for observation, frame in zip(observations, frames, strict=True):
        centre, size, _ = legacy_estimate(observation.points, frame.camera_pose[:3, 3], voxel)
        if estimates:  # the old track's exponential average; its filter followed the newest centre
            size = 0.7 * estimates[-1].size + 0.3 * size
        estimates.append(Estimate(centre, size))
    return estimates


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One object under one detector and estimator: its estimate after one look and after three."""

    truth: Truth
    detector: str
    estimator: str
    after: dict[int, Estimate] = field(default_factory=dict)


Masker = Callable[[RGBDFrame, str], Detection | None]


def measure_looks(looks: Looks, masker: Masker, detector: str, settings: MeasureSettings) -> list[Row]:
    observations, frames = [], []
    for frame in looks.frames:
        detection = masker(frame, looks.truth.object_id)
        observation = measure(detection, frame, settings) if detection is not None else None
        if observation is not None:
            observations.append(observation)
            frames.append(frame)
    if not observations:
        return []
    rows = []
    for estimator, estimates in (
        (NEW, new_estimates(observations, frames)),
        (LEGACY, legacy_estimates(observations, frames, settings.voxel_size)),
    ):
        row = Row(looks.truth, detector, estimator)
        row.after[1] = estimates[0]
        if len(estimates) >= 3:
            row.after[3] = estimates[2]
        rows.append(row)
    return rows


def noisy(frame: RGBDFrame, sigma_at_1m: float, rng: np.random.Generator) -> RGBDFrame:
    """The frame with Gaussian depth noise of ``sigma_at_1m`` times the squared depth (a stereo or
    structured-light camera's)."""
    depth = frame.depth
    noise = rng.normal(0.0, 1.0, depth.shape).astype(np.float32) * np.float32(sigma_at_1m) * depth * depth
    return replace(frame, depth=(depth + noise).astype(np.float32))


def run(worlds: Sequence[str], with_color: bool, noise: float) -> tuple[list[Row], list[dict[str, Any]]]:
    settings = MeasureSettings()
    oracle = OracleDetector()
    color = ColorDetector() if with_color else None
    rng = np.random.default_rng(0)
    maskers: list[tuple[str, Masker]] = [(ORACLE, lambda f, o: oracle_mask(oracle, f, o))]
    if noise > 0:
        maskers.append((f"{ORACLE}, depth noise {1000 * noise:g} mm at 1 m", lambda f, o: oracle_mask(oracle, f, o)))
    if color is not None:
        maskers.append((COLOR, lambda f, o: color_mask(color, f, o)))
    rows: list[Row] = []
    looked: list[dict[str, Any]] = []
    for name in worlds:
        world = World(name)
        for spec in world.simulator.scenario.objects:
            looks = world.looks(spec.id)
            if looks is None:
                looked.append({"world": name, "object": spec.id, "looks": 0})
                continue
            looked.append(
                {"world": name, "object": spec.id, "looks": len(looks.frames), "azimuths_deg": looks.azimuths_deg}
            )
            for detector_name, masker in maskers:
                seen = looks
                if detector_name.startswith(f"{ORACLE}, depth noise"):
                    seen = Looks(looks.truth, [noisy(f, noise, rng) for f in looks.frames], looks.azimuths_deg)
                rows += measure_looks(seen, masker, detector_name, settings)
        world.close()
    return rows, looked


def errors(rows: list[Row], looks: int) -> dict[str, Any]:
    chosen = [r for r in rows if looks in r.after]
    width = [abs(r.after[looks].width - r.truth.width) for r in chosen]
    length = [abs(r.after[looks].length - r.truth.length) for r in chosen]
    centre = [float(np.linalg.norm(r.after[looks].centre[:2] - np.array(r.truth.centre[:2]))) for r in chosen]
    too_wide = [r.truth.object_id for r in chosen if r.truth.width <= GRIPPER_OPEN < r.after[looks].width]

    def stats(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"median": None, "p90": None, "max": None}
        return {
            "median": float(np.median(values)),
            "p90": float(np.percentile(values, 90)),
            "max": float(np.max(values)),
        }

    return {
        "objects": len(chosen),
        "width_error_m": stats(width),
        "length_error_m": stats(length),
        "centre_error_m": stats(centre),
        "wider_than_gripper": too_wide,
    }


def results(rows: list[Row]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for detector in dict.fromkeys(r.detector for r in rows):
        for estimator in ESTIMATORS:
            for looks in LOOKS:
                for shape in (*SHAPES, "all"):
                    chosen = [
                        r
                        for r in rows
                        if r.detector == detector and r.estimator == estimator and shape in (r.truth.shape, "all")
                    ]
                    table.setdefault(detector, {}).setdefault(estimator, {}).setdefault(str(looks), {})[shape] = errors(
                        chosen, looks
                    )
    return table


def per_object(rows: list[Row]) -> list[dict[str, Any]]:
    return [
        {
            "world": r.truth.world,
            "object": r.truth.object_id,
            "shape": r.truth.shape,
            "true_size": list(r.truth.size),
            "detector": r.detector,
            "estimator": r.estimator,
            **{f"size_after_{n}": [round(float(v), 4) for v in e.size] for n, e in r.after.items()},
        }
        for r in rows
    ]


def goal_met(errors: dict[str, Any]) -> bool:
    median = errors["width_error_m"]["median"]
    return median is not None and median <= WIDTH_GOAL_M and not errors["wider_than_gripper"]


def cm(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Object sizes",
        "",
        f"`{report['command']}` on {report['machine']}, {report['date']}, {report['run_time_s']:.0f} s. "
        f"Worlds: {', '.join(report['worlds'])}; {report['objects_looked_at']} objects, looks from "
        f"{DISTANCE_M} m. Width: the narrower side of the footprint, length: the longer (cm). "
        f"Too wide: narrower than the {GRIPPER_OPEN:.2f} m gripper but measured wider. "
        f"Goal: median width error <= {100 * WIDTH_GOAL_M:.0f} cm and none too wide, per shape, "
        "after one look and after three.",
    ]
    for detector, by_estimator in report["results"].items():
        missed = [
            f"{shape} after {looks}"
            for looks in LOOKS
            for shape in SHAPES
            if not goal_met(by_estimator[NEW][str(looks)][shape])
        ]
        lines += ["", f"{detector}: goal {'missed for ' + ', '.join(missed) if missed else 'met'} ({NEW})."]
    for detector, by_estimator in report["results"].items():
        for looks in LOOKS:
            lines += [
                "",
                f"## {detector}, after {looks} look{'s' if looks > 1 else ''}",
                "",
                "| shape | estimator | objects | width median | width p90 | width max | length median | length p90 "
                "| centre median | too wide |",
                "|---|---|---|---|---|---|---|---|---|---|",
            ]
            for shape in (*SHAPES, "all"):
                for estimator in ESTIMATORS:
                    e = by_estimator[estimator][str(looks)][shape]
                    wide = e["wider_than_gripper"]
                    lines.append(
                        f"| {shape} | {estimator} | {e['objects']} | {cm(e['width_error_m']['median'])} "
                        f"| {cm(e['width_error_m']['p90'])} | {cm(e['width_error_m']['max'])} "
                        f"| {cm(e['length_error_m']['median'])} "
                        f"| {cm(e['length_error_m']['p90'])} | {cm(e['centre_error_m']['median'])} "
                        f"| {len(wide)}{' (' + ', '.join(wide) + ')' if wide else ''} |"
                    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=None, help="write size.json and size.md here")
    parser.add_argument("--worlds", nargs="*", default=builtin_worlds())
    parser.add_argument("--no-color", action="store_true", help="skip the colour detector's row")
    parser.add_argument(
        "--depth-noise", type=float, default=0.003, help="a row with this depth noise in m at 1 m (0: none)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    rows, looked = run(args.worlds, not args.no_color, args.depth_noise)
    options = f" --out {args.out}" if args.out else ""
    options += " --no-color" if args.no_color else ""
    options += f" --depth-noise {args.depth_noise:g}" if args.depth_noise != 0.003 else ""
    report: dict[str, Any] = {
        "command": f"python benchmarks/size_bench.py{options}",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": date.today().isoformat(),
        "worlds": list(args.worlds),
        "objects_looked_at": sum(1 for entry in looked if entry["looks"]),
        "looks": looked,
        "results": results(rows),
        "objects": per_object(rows),
    }
    report["run_time_s"] = time.perf_counter() - started
    text = markdown(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "size.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / "size.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
