"""Saving and loading the scene graph as JSON, so a restart does not forget the world."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject

FORMAT_VERSION = 1


class PersistenceError(ValueError):
    """A saved graph cannot be read; the message names the file and the problem."""


def graph_to_dict(graph: SceneGraph) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "frame_id": graph.frame_id,
        "stamp_ns": graph.stamp_ns,
        "revision": graph.revision,
        "objects": [
            {
                "id": o.id,
                "label": o.label,
                "kind": o.kind.name.lower(),
                "position": o.position.tolist(),
                "orientation": o.orientation.tolist(),
                "covariance": o.covariance.tolist(),
                "size": o.size.tolist(),
                "attributes": o.attributes,
                "confidence": o.confidence,
                "last_seen_ns": o.last_seen_ns,
                "state": o.state.name.lower(),
                "source": o.source,
            }
            for o in graph
        ],
        "relations": [[r.subject_id, r.predicate.value, r.object_id, r.confidence] for r in graph.relations],
    }


def graph_from_dict(document: dict[str, Any]) -> SceneGraph:
    if document.get("format") != FORMAT_VERSION:
        raise PersistenceError(f"format {document.get('format')!r} is not {FORMAT_VERSION}")
    graph = SceneGraph(document["frame_id"], int(document["stamp_ns"]), int(document["revision"]))
    for entry in document["objects"]:
        graph.objects[entry["id"]] = SceneObject(
            id=entry["id"],
            label=entry["label"],
            kind=ObjectKind[entry["kind"].upper()],
            position=np.array(entry["position"]),
            orientation=np.array(entry["orientation"]),
            covariance=np.array(entry["covariance"]),
            size=np.array(entry["size"]),
            attributes=dict(entry["attributes"]),
            confidence=float(entry["confidence"]),
            last_seen_ns=int(entry["last_seen_ns"]),
            state=ObjectState[entry["state"].upper()],
            source=entry["source"],
        )
    graph.relations = [Relation(s, Predicate(p), o, float(c)) for s, p, o, c in document["relations"]]
    return graph


def save_graph(graph: SceneGraph, path: str | Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(graph_to_dict(graph), indent=1))
    os.replace(temporary, path)


def load_graph(path: str | Path) -> SceneGraph:
    path = Path(path)
    try:
        return graph_from_dict(json.loads(path.read_text()))
    except OSError as error:
        raise PersistenceError(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise PersistenceError(f"{path}: not a saved scene graph: {error}") from None
