"""Questions to the scene graph: "where is the mug most likely now?", and the planner's subgraph."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from perception.scene_graph import ObjectKind, ObjectState, Predicate, Relation, SceneGraph, SceneObject

NS = 1_000_000_000
STOP_WORDS = {"the", "a", "an", "is", "where", "my", "most", "likely", "now", "of", "to", "on", "in", "and", "please"}


def words(text: str) -> list[str]:
    """Content words; an id such as "cup_2" stays whole, followed by its parts."""
    found: list[str] = []
    for token in re.findall(r"[a-z0-9_]+", text.lower()):
        parts = [p for p in token.split("_") if p]
        found += [token, *parts] if len(parts) > 1 else parts
    return [w for w in found if w not in STOP_WORDS]


def match_score(obj: SceneObject, terms: list[str]) -> float:
    """How well an object matches query words: label words, colour and id (0 when the label is absent)."""
    if not terms:
        return 0.0
    label_words = set(words(obj.label)) | {obj.label.replace(" ", "_")}
    described = label_words | set(obj.attributes.values()) | {obj.id}
    if not label_words & set(terms) and obj.id not in terms:
        return 0.0
    return sum(1.0 for term in terms if term in described) / len(terms)


@dataclass
class Answer:
    objects: list[SceneObject]
    scores: list[float]
    sentence: str
    doubts: list[Relation] = field(default_factory=list)  # possibly_same_as links of the objects


def doubts_of(graph: SceneGraph, object_ids: set[str]) -> list[Relation]:
    """The possibly_same_as relations with an end among the objects."""
    return [
        r
        for r in graph.relations
        if r.predicate == Predicate.POSSIBLY_SAME_AS and (r.subject_id in object_ids or r.object_id in object_ids)
    ]


def place_of(graph: SceneGraph, obj: SceneObject) -> str:
    """ "on the counter in the kitchen", or coordinates."""
    places = []
    support, room = support_of(graph, obj.id), room_of(graph, obj.id)
    if support and support in graph.objects:
        places.append(f"on the {graph.objects[support].label}")
    if room and room in graph.objects:
        places.append(f"in the {graph.objects[room].label}")
    return " ".join(places) or "at ({:.2f}, {:.2f}, {:.2f})".format(*obj.position)


def support_of(graph: SceneGraph, object_id: str) -> str | None:
    on = [r.object_id for r in graph.relations if r.subject_id == object_id and r.predicate == Predicate.ON]
    return on[0] if on else None


def room_of(graph: SceneGraph, object_id: str) -> str | None:
    rooms = [r.object_id for r in graph.relations if r.subject_id == object_id and r.predicate == Predicate.IN]
    return rooms[0] if rooms else None


def describe(graph: SceneGraph, obj: SceneObject, now_ns: int) -> str:
    where = place_of(graph, obj)
    age = max(0.0, (now_ns - obj.last_seen_ns) / NS)
    colour = obj.attributes.get("color")
    name = f"{colour} {obj.label}" if colour else obj.label
    if obj.state == ObjectState.MISSING:
        return f"The {name} ({obj.id}) was last seen {where} {age:.0f} s ago, but is no longer there."
    verb = "is most likely" if obj.confidence < 0.9 else "is"
    sentence = f"The {name} ({obj.id}) {verb} {where} (confidence {obj.confidence:.2f}, seen {age:.0f} s ago)."
    for doubt in doubts_of(graph, {obj.id}):
        known, sighting = graph.objects.get(doubt.object_id), graph.objects.get(doubt.subject_id)
        if known is None or sighting is None:
            continue
        if sighting.id == obj.id:
            sentence += (
                f" It may be {known.id}, last seen {place_of(graph, known)}, moved here (p={doubt.confidence:.2f});"
                " a look there would tell."
            )
        else:
            sentence += (
                f" Someone may have moved it: {sighting.id} {place_of(graph, sighting)} may be it"
                f" (p={doubt.confidence:.2f})."
            )
    return sentence


def query(graph: SceneGraph, text: str, now_ns: int, max_results: int = 0) -> Answer:
    """Objects matching the words of ``text``, best first (score, then confidence)."""
    terms = words(text)
    scored = [(match_score(o, terms), o) for o in graph if o.kind == ObjectKind.OBJECT]
    scored = [(s, o) for s, o in scored if s > 0]
    scored.sort(key=lambda item: (-item[0], -item[1].confidence))
    if max_results:
        scored = scored[:max_results]
    if not scored:
        return Answer([], [], f"I do not know where a {' '.join(terms) or 'thing'} is.")
    objects = [o for _, o in scored]
    return Answer(
        objects,
        [s * o.confidence for s, o in scored],
        describe(graph, scored[0][1], now_ns),
        doubts_of(graph, {o.id for o in objects}),
    )


def relevant_subgraph(
    graph: SceneGraph, command: str, now_ns: int, max_objects: int = 30, recent_s: float = 120.0
) -> SceneGraph:
    """The part of the graph a planner needs for a command, bounded for a prompt.

    Objects the command names, their supports and rooms, objects near them, the other end of their
    possibly_same_as doubts, and objects that changed recently (moved or missing); then every room and
    piece of furniture as places to go.
    """
    terms = words(command)
    keep: list[str] = []

    def add(object_id: str) -> None:
        if object_id in graph.objects and object_id not in keep:
            keep.append(object_id)

    objects = [o for o in graph if o.kind == ObjectKind.OBJECT]
    named = sorted((o for o in objects if match_score(o, terms) > 0), key=lambda o: -match_score(o, terms))
    for obj in named:
        add(obj.id)
        for relation in graph.relations:
            if relation.subject_id == obj.id and relation.predicate in (Predicate.ON, Predicate.IN, Predicate.NEAR):
                add(relation.object_id)
        for doubt in doubts_of(graph, {obj.id}):  # the other end of a doubt, which may be the same object
            add(doubt.object_id if doubt.subject_id == obj.id else doubt.subject_id)
    changed = [
        o
        for o in objects
        if o.state in (ObjectState.MOVED, ObjectState.MISSING) and (now_ns - o.last_seen_ns) / NS <= recent_s
    ]
    for obj in sorted(changed, key=lambda o: -o.last_seen_ns):
        add(obj.id)
    for obj in graph:
        if obj.kind in (ObjectKind.ROOM, ObjectKind.FURNITURE):
            add(obj.id)
    kept_objects = [i for i in keep if graph.objects[i].kind == ObjectKind.OBJECT][:max_objects]
    places = [i for i in keep if graph.objects[i].kind != ObjectKind.OBJECT]
    selected = set(kept_objects) | set(places)
    subgraph = SceneGraph(graph.frame_id, graph.stamp_ns, graph.revision)
    subgraph.objects = {i: graph.objects[i] for i in [*kept_objects, *places]}
    subgraph.relations = [
        Relation(r.subject_id, r.predicate, r.object_id, r.confidence)
        for r in graph.relations
        if r.subject_id in selected and r.object_id in selected
    ]
    return subgraph
