"""Benchmark of the embedded simulator: physics real-time factor, camera rendering rate, and the
sim node end to end (frames per second a subscriber in another process receives, and the
real-time factor the node keeps while it renders).

    scripts/in-env python benchmarks/sim_bench.py [--out reports/bench] [--seconds 10]

Writes sim.json and sim.md into --out and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sim  # noqa: F401  # picks the OpenGL backend before mujoco is imported
from sim.camera import CameraRenderer
from sim.scenario import builtin_worlds, load_scenario, parse_scenario
from sim.simulator import Simulator

RESOLUTIONS = ((640, 480), (320, 240))


@dataclass
class Row:
    measurement: str
    world: str
    resolution: str
    value: float
    unit: str


def physics_rtf(world: str, seconds: float) -> float:
    simulator = Simulator(load_scenario(world))
    steps = round(seconds / simulator.timestep)
    start = time.perf_counter()
    simulator.step(steps)
    return seconds / (time.perf_counter() - start)


def with_camera(world: str, width: int, height: int, rate_hz: float = 5.0) -> Simulator:
    document = load_scenario(world).model_dump(mode="json")
    document["camera"].update(width=width, height=height, rate_hz=rate_hz)
    return Simulator(parse_scenario(document))


def render_fps(world: str, width: int, height: int, segmentation: bool, frames: int = 30) -> float:
    simulator = with_camera(world, width, height)
    renderer = CameraRenderer(simulator.model, simulator.scenario.camera, simulator.object_geoms())
    try:
        state = simulator.copy_state()
        renderer.render(state, segmentation)  # warm-up
        start = time.perf_counter()
        for _ in range(frames):
            renderer.render(state, segmentation)
        return frames / (time.perf_counter() - start)
    finally:
        renderer.close()


def node_end_to_end(width: int, height: int, camera_rate_hz: float, seconds: float) -> tuple[float, float, float]:
    """(colour fps received, depth fps received, real-time factor) of the sim node in its own process."""
    import rclpy
    from rclpy.context import Context
    from rclpy.node import Node
    from rclpy.qos import QoSPresetProfiles
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import Image

    from robot_agent.ros_env import loopback_environment
    from robot_agent.ros_wait import BackgroundSpinner
    from robot_agent.testing import NodeProcess

    environment = loopback_environment(150 + os.getpid() % 50)
    os.environ.update(environment)
    world = Path(f"/tmp/robot_agent_bench_{os.getpid()}.yaml")
    document = load_scenario("kitchen").model_dump(mode="json")
    document["camera"].update(width=width, height=height)
    import yaml

    world.write_text(yaml.safe_dump(document))
    process = NodeProcess(
        "robot_agent.nodes.sim_node", "--ros-args", "-p", f"world:={world}", "-p", f"camera_rate_hz:={camera_rate_hz}"
    )
    context = Context()
    rclpy.init(context=context)
    node = Node("sim_bench", context=context)
    counts = {"color": 0, "depth": 0}
    clock: list[float] = []
    lock = threading.Lock()

    def counter(kind: str):  # type: ignore[no-untyped-def]
        def on_image(_: Image) -> None:
            with lock:
                counts[kind] += 1

        return on_image

    qos = QoSPresetProfiles.SENSOR_DATA.value
    node.create_subscription(Image, "/camera/color/image_raw", counter("color"), qos)
    node.create_subscription(Image, "/camera/depth/image_raw", counter("depth"), qos)
    node.create_subscription(Clock, "/clock", lambda m: clock.append(m.clock.sec + m.clock.nanosec / 1e9), 10)
    spinner = BackgroundSpinner(node, context=context)
    try:
        deadline = time.monotonic() + 60.0
        while not counts["color"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the node starting up
        time.sleep(2.0)  # steady state
        with lock:
            start_counts, start_clock, start_wall = dict(counts), clock[-1], time.monotonic()
        time.sleep(seconds)  # the measuring window
        with lock:
            wall = time.monotonic() - start_wall
            color = (counts["color"] - start_counts["color"]) / wall
            depth = (counts["depth"] - start_counts["depth"]) / wall
            rtf = (clock[-1] - start_clock) / wall
    finally:
        spinner.stop()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        process.stop()
        world.unlink(missing_ok=True)
    return color, depth, rtf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reports/bench"))
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time of each end-to-end run")
    options = parser.parse_args()
    rows: list[Row] = []
    print("physics ...", flush=True)
    for world in builtin_worlds():
        rows.append(Row("physics real-time factor (no camera)", world, "-", physics_rtf(world, 10.0), "x"))
    for width, height in RESOLUTIONS:
        resolution = f"{width}x{height}"
        print(f"rendering {resolution} ...", flush=True)
        rows.append(
            Row("render colour+depth", "kitchen", resolution, render_fps("kitchen", width, height, False), "fps")
        )
        rows.append(
            Row(
                "render colour+depth+segmentation",
                "kitchen",
                resolution,
                render_fps("kitchen", width, height, True),
                "fps",
            )
        )
        for rate in (5.0, 30.0):
            print(f"sim node {resolution} at {rate:g} Hz ...", flush=True)
            color, depth, rtf = node_end_to_end(width, height, rate, options.seconds)
            where = f"sim node, camera_rate_hz={rate:g}"
            rows.append(Row(f"{where}: colour received", "kitchen", resolution, color, "fps"))
            rows.append(Row(f"{where}: depth received", "kitchen", resolution, depth, "fps"))
            rows.append(Row(f"{where}: real-time factor", "kitchen", resolution, rtf, "x"))
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, MUJOCO_GL={os.environ['MUJOCO_GL']}"
    )
    table = ["| measurement | world | resolution | value |", "|---|---|---|---|"]
    table += [f"| {r.measurement} | {r.world} | {r.resolution} | {r.value:.1f} {r.unit} |" for r in rows]
    markdown = "\n".join([f"Machine: {machine}", "", *table, ""])
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "sim.json").write_text(json.dumps({"machine": machine, "rows": [asdict(r) for r in rows]}, indent=2))
    (options.out / "sim.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
