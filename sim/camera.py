"""The head's RGB-D camera: colour, depth aligned to colour (metres), and the oracle segmentation.

Renders headless with the OpenGL backend that importing ``sim`` chose (EGL, else OSMesa). Render from
a copy of the simulation state (``mujoco.mj_copyData``) so physics can go on while a frame renders.
The renderer's OpenGL context belongs to the thread that created it.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
import numpy.typing as npt

from perception.camera import CameraIntrinsics
from sim.scenario import CameraSettings


@dataclass
class Frame:
    """One camera frame. ``instances`` holds 0 for background, else 1 + the index into object_ids."""

    time_s: float
    color: npt.NDArray[np.uint8]  # (H, W, 3) rgb8
    depth: npt.NDArray[np.float32]  # (H, W) metres; NaN outside [min_depth, max_depth]
    instances: npt.NDArray[np.uint16] | None  # (H, W); None when not rendered
    camera_pose: npt.NDArray[np.float64]  # world pose of the optical frame at this frame


def intrinsics_of(settings: CameraSettings) -> CameraIntrinsics:
    """Pinhole intrinsics matching MuJoCo's rendering (vertical field of view, square pixels)."""
    focal = 0.5 * settings.height / np.tan(np.radians(settings.vertical_fov_deg) / 2.0)
    # MuJoCo's image centre lies between pixels: index coordinates put it at (W-1)/2, (H-1)/2.
    return CameraIntrinsics(
        settings.width, settings.height, float(focal), float(focal), (settings.width - 1) / 2.0,
        (settings.height - 1) / 2.0,
    )  # fmt: skip


class CameraRenderer:
    """Renders the ``head_camera`` of a model: colour, depth and segmentation."""

    def __init__(self, model: mujoco.MjModel, settings: CameraSettings, object_geoms: list[int], seed: int = 0) -> None:
        self.settings = settings
        self.intrinsics = intrinsics_of(settings)
        self._renderer = mujoco.Renderer(model, settings.height, settings.width)
        self._camera = model.camera("head_camera").id
        self._rng = np.random.default_rng(seed)
        # geom id -> instance value (0: background)
        self._instance_of_geom = np.zeros(model.ngeom + 1, dtype=np.uint16)
        for index, geom in enumerate(object_geoms):
            self._instance_of_geom[geom] = index + 1

    def render(self, data: mujoco.MjData, segmentation: bool = True) -> Frame:
        """Render a simulation state: colour and depth, and the segmentation when asked."""
        renderer = self._renderer
        renderer.update_scene(data, camera=self._camera)
        color = renderer.render().copy()
        renderer.enable_depth_rendering()
        renderer.update_scene(data, camera=self._camera)
        depth = renderer.render().astype(np.float32)
        renderer.disable_depth_rendering()
        instances = self._render_instances(data) if segmentation else None

        settings = self.settings
        if settings.depth_noise > 0:
            depth = depth + self._rng.normal(0.0, 1.0, depth.shape).astype(np.float32) * (
                settings.depth_noise * depth * depth
            )
        depth[(depth < settings.min_depth) | (depth > settings.max_depth)] = np.nan
        pose = np.eye(4)
        pose[:3, :3] = data.cam_xmat[self._camera].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0])
        pose[:3, 3] = data.cam_xpos[self._camera]
        return Frame(float(data.time), color, depth, instances, pose)

    def _render_instances(self, data: mujoco.MjData) -> npt.NDArray[np.uint16]:
        renderer = self._renderer
        renderer.enable_segmentation_rendering()
        renderer.update_scene(data, camera=self._camera)
        segmentation = renderer.render()
        renderer.disable_segmentation_rendering()
        geom_ids = segmentation[:, :, 0]
        is_geom = (segmentation[:, :, 1] == int(mujoco.mjtObj.mjOBJ_GEOM)) & (geom_ids >= 0)
        return np.where(is_geom, self._instance_of_geom[np.clip(geom_ids, 0, None)], 0).astype(np.uint16)

    def close(self) -> None:
        self._renderer.close()
