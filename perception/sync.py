"""A small stamp-matching synchroniser (message_filters is not installable everywhere).

Items of several streams are matched when their stamps lie within a tolerance; the newest
complete set wins, and anything older is dropped, as an approximate-time policy does.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class StampSynchronizer(Generic[T]):
    def __init__(self, streams: tuple[str, ...], tolerance_ns: int, queue_size: int = 5) -> None:
        if not streams:
            raise ValueError("at least one stream is needed")
        self.streams = streams
        self.tolerance_ns = tolerance_ns
        self._queues: dict[str, deque[tuple[int, T]]] = {s: deque(maxlen=queue_size) for s in streams}

    def add(self, stream: str, stamp_ns: int, item: T) -> dict[str, T] | None:
        """Add an item; the matched set (stream -> item) when this completes one, else None."""
        if stream not in self._queues:
            raise KeyError(f"unknown stream {stream!r}; streams: {', '.join(self.streams)}")
        self._queues[stream].append((stamp_ns, item))
        matched: dict[str, T] = {}
        stamps: dict[str, int] = {}
        for name, queue in self._queues.items():
            candidates = [(abs(s - stamp_ns), s, i) for s, i in queue if abs(s - stamp_ns) <= self.tolerance_ns]
            if not candidates:
                return None
            _, stamps[name], matched[name] = min(candidates, key=lambda c: c[0])
        for name, queue in self._queues.items():  # drop what is matched and everything older
            while queue and queue[0][0] <= stamps[name]:
                queue.popleft()
        return matched
