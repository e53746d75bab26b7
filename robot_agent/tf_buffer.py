"""A small transform buffer with tf2's semantics, for machines without tf2_ros.

Frames form a tree: each child has one parent. Static transforms hold at every time; timed
transforms are kept for ``cache_time_s`` and interpolated (linear translation, slerp rotation).
``lookup(target, source, stamp)`` returns T_target_source, the 4x4 matrix that maps points in
``source`` coordinates into ``target`` coordinates. A stamp of 0 means the latest time at which
every transform on the chain is known, as in tf2. Plain Python, no rclpy: robot_agent.tf feeds it.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from perception.geometry import Matrix4, invert, make_transform, quaternion_of, translation_of

NS_PER_S = 1_000_000_000


class TransformError(LookupError):
    """A transform cannot be looked up; the subclass and message say why."""


class FrameNotFoundError(TransformError):
    """A frame has never been published."""


class ConnectivityError(TransformError):
    """Both frames are known but lie in trees that no transform connects."""


class ExtrapolationError(TransformError):
    """The stamp lies outside the buffered time range of a transform on the chain."""


@dataclass
class _Link:
    """The transforms from one parent frame to one child frame, sorted by stamp."""

    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)
    translations: list[np.ndarray] = field(default_factory=list)
    quaternions: list[np.ndarray] = field(default_factory=list)

    def insert(self, stamp_ns: int, matrix: Matrix4) -> None:
        if self.static:
            self.stamps, self.translations, self.quaternions = [stamp_ns], [], []
            self.translations.append(translation_of(matrix))
            self.quaternions.append(quaternion_of(matrix))
            return
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if i < len(self.stamps) and self.stamps[i] == stamp_ns:
            self.translations[i], self.quaternions[i] = translation_of(matrix), quaternion_of(matrix)
            return
        self.stamps.insert(i, stamp_ns)
        self.translations.insert(i, translation_of(matrix))
        self.quaternions.insert(i, quaternion_of(matrix))

    def prune(self, oldest_ns: int) -> None:
        keep_from = max(0, min(bisect.bisect_left(self.stamps, oldest_ns), len(self.stamps) - 1))
        if keep_from:
            del self.stamps[:keep_from], self.translations[:keep_from], self.quaternions[:keep_from]

    def at(self, stamp_ns: int, child: str) -> Matrix4:
        if self.static:
            return make_transform(self.translations[0], self.quaternions[0])
        first, last = self.stamps[0], self.stamps[-1]
        if not first <= stamp_ns <= last:
            raise ExtrapolationError(
                f"transform {self.parent} -> {child} is known from {first / NS_PER_S:.3f} s "
                f"to {last / NS_PER_S:.3f} s; requested {stamp_ns / NS_PER_S:.3f} s"
            )
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if self.stamps[i] == stamp_ns:
            return make_transform(self.translations[i], self.quaternions[i])
        t0, t1 = self.stamps[i - 1], self.stamps[i]
        ratio = (stamp_ns - t0) / (t1 - t0)
        translation = (1.0 - ratio) * self.translations[i - 1] + ratio * self.translations[i]
        rotations = Rotation.from_quat(np.stack([self.quaternions[i - 1], self.quaternions[i]]))
        quaternion = Slerp([0.0, 1.0], rotations)([ratio]).as_quat()[0]
        return make_transform(translation, quaternion)


class TransformBuffer:
    """Static and timed transforms between named frames; thread-safe."""

    def __init__(self, cache_time_s: float = 10.0) -> None:
        if cache_time_s <= 0:
            raise ValueError(f"cache_time_s must be positive, got {cache_time_s}")
        self._cache_ns = int(cache_time_s * NS_PER_S)
        self._links: dict[str, _Link] = {}  # by child frame
        self._lock = threading.Lock()

    def set_transform(self, parent: str, child: str, stamp_ns: int, matrix: Matrix4, static: bool = False) -> None:
        """Record T_parent_child at a stamp. A child's new parent replaces its old one, as in tf2."""
        if not parent or not child:
            raise ValueError(f"frame ids must not be empty (parent={parent!r}, child={child!r})")
        if parent == child:
            raise ValueError(f"a frame cannot be its own parent: {parent!r}")
        if not np.all(np.isfinite(matrix)):
            raise ValueError(f"transform {parent} -> {child} holds non-finite values")
        with self._lock:
            link = self._links.get(child)
            if link is None or link.parent != parent or link.static != static:
                link = _Link(parent=parent, static=static)
                self._links[child] = link
            link.insert(int(stamp_ns), matrix)
            if not static:
                link.prune(link.stamps[-1] - self._cache_ns)

    def frames(self) -> set[str]:
        with self._lock:
            return set(self._links) | {link.parent for link in self._links.values()}

    def can_transform(self, target: str, source: str, stamp_ns: int = 0) -> bool:
        try:
            self.lookup(target, source, stamp_ns)
        except TransformError:
            return False
        return True

    def lookup(self, target: str, source: str, stamp_ns: int = 0) -> Matrix4:
        """T_target_source at ``stamp_ns`` (0: the latest common time of the chain)."""
        with self._lock:
            known = set(self._links) | {link.parent for link in self._links.values()}
            for frame in (target, source):
                if frame not in known:
                    raise FrameNotFoundError(
                        f"frame {frame!r} does not exist; known frames: {', '.join(sorted(known)) or 'none'}"
                    )
            if target == source:
                return np.eye(4)
            source_chain = self._chain_to_root(source)
            target_chain = self._chain_to_root(target)
            target_frames = {frame for frame, _ in target_chain} | {self._root(target_chain, target)}
            up_from_source: list[tuple[str, _Link]] = []
            common = None
            for frame, link in source_chain:
                if frame in target_frames:
                    common = frame
                    break
                up_from_source.append((frame, link))
            if common is None:
                common = self._root(source_chain, source)
                if common not in target_frames:
                    raise ConnectivityError(
                        f"frames {target!r} and {source!r} are not connected: their trees have roots "
                        f"{self._root(target_chain, target)!r} and {common!r}"
                    )
            up_from_target = [(f, link) for f, link in target_chain[: self._index_of(target_chain, common)]]
            chain = up_from_source + up_from_target
            if stamp_ns == 0:
                timed = [link.stamps[-1] for _, link in chain if not link.static]
                stamp_ns = min(timed) if timed else 0
            common_from_source = np.eye(4)
            for frame, link in up_from_source:
                common_from_source = link.at(stamp_ns, frame) @ common_from_source
            common_from_target = np.eye(4)
            for frame, link in up_from_target:
                common_from_target = link.at(stamp_ns, frame) @ common_from_target
            return invert(common_from_target) @ common_from_source

    def latest_stamp(self, parent: str, child: str) -> int | None:
        """Newest stamp of the direct transform parent -> child, or None (static: its stamp)."""
        with self._lock:
            link = self._links.get(child)
            if link is None or link.parent != parent:
                return None
            return link.stamps[-1]

    # The chain from a frame up to its root: [(frame, link to its parent), ...]
    def _chain_to_root(self, frame: str) -> list[tuple[str, _Link]]:
        chain: list[tuple[str, _Link]] = []
        seen = {frame}
        while frame in self._links:
            link = self._links[frame]
            chain.append((frame, link))
            frame = link.parent
            if frame in seen:
                raise ConnectivityError(f"the transforms form a loop through frame {frame!r}")
            seen.add(frame)
        return chain

    @staticmethod
    def _root(chain: list[tuple[str, _Link]], frame: str) -> str:
        return chain[-1][1].parent if chain else frame

    @staticmethod
    def _index_of(chain: list[tuple[str, _Link]], frame: str) -> int:
        for i, (f, _) in enumerate(chain):
            if f == frame:
                return i
        return len(chain)
