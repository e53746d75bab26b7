"""ROS-free embedded simulation: scenarios, the MuJoCo world and robot, rendering, Gazebo export.

MuJoCo reads MUJOCO_GL when it is imported. Importing this package first picks a headless OpenGL
backend that works here: the MUJOCO_GL the environment sets, else EGL (a GPU, or Mesa's llvmpipe on
a CPU), else OSMesa. Child processes inherit the choice.
"""

import importlib.util
import logging
import os
import subprocess
import sys

GL_BACKENDS = ("egl", "osmesa")
_PROBE = "import mujoco; c = mujoco.GLContext(16, 16); c.make_current(); c.free()"


def _working_gl_backend() -> str | None:
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
    return None


if "MUJOCO_GL" not in os.environ and "mujoco" not in sys.modules and importlib.util.find_spec("mujoco"):
    _backend = _working_gl_backend()
    if _backend is None:
        logging.getLogger("sim").warning(
            "no headless OpenGL for MuJoCo: neither EGL (libegl1, libegl-mesa0) nor OSMesa (libosmesa6) "
            "works; the camera cannot render. Run `make setup`, or set MUJOCO_GL."
        )
    else:
        os.environ["MUJOCO_GL"] = _backend
