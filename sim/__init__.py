"""ROS-free embedded simulation: scenarios, the MuJoCo world and robot, rendering, Gazebo export.

Importing this package picks MuJoCo's headless OpenGL backend before mujoco is imported: the
MUJOCO_GL the environment sets, else EGL when it works here (GPU or Mesa's llvmpipe on a CPU),
else OSMesa.
"""

import os
import subprocess
import sys

GL_BACKENDS = ("egl", "osmesa")
_PROBE = "import mujoco; c = mujoco.GLContext(16, 16); c.make_current(); c.free()"


def _working_gl_backend() -> str:
    for backend in GL_BACKENDS:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env={**os.environ, "MUJOCO_GL": backend},
            capture_output=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0:
            return backend
    raise RuntimeError(
        "no headless OpenGL for MuJoCo: neither EGL (libegl1, libegl-mesa0) nor OSMesa (libosmesa6) works; "
        "run `make setup`, or set MUJOCO_GL"
    )


if "MUJOCO_GL" not in os.environ:
    os.environ["MUJOCO_GL"] = _working_gl_backend()
