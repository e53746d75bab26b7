"""Who is who: a track's label and colour from accumulated evidence, and whether a new sighting is a
known object that someone moved (docs/perception.md, "Identity").

Both pieces are plain functions of numbers the tracker keeps; no particles, no frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Colours that shading or a detector may confuse; other colour pairs are different objects.
SIMILAR_COLORS = ({"orange", "brown"}, {"white", "gray"}, {"gray", "black"}, {"red", "pink"}, {"yellow", "orange"})


def colors_fit(a: str | None, b: str | None) -> bool:
    """Same (or an easily confused) colour; an unknown colour fits any."""
    return a is None or b is None or a == b or {a, b} in SIMILAR_COLORS


@dataclass
class Belief:
    """A categorical belief (a track's label, its colour) from the scores of every sighting.

    Evidence is a log-likelihood per category, E(l) = sum over sightings of log max(s(l), floor): a
    category a sighting did not report counts as ``floor``. The value shown changes only when another
    category leads the current one by ``switch_margin`` (e^2, about seven times likelier, by default),
    so a look-alike class seen in a few frames does not rename an object.
    """

    switch_margin: float = 2.0
    evidence: dict[str, float] = field(default_factory=dict)
    value: str | None = None
    floor: float = 0.1
    sightings: int = 0

    def add(self, scores: Mapping[str, float]) -> bool:
        """Fold one sighting's scores in; True when the value changed (a flip, not the first naming)."""
        unseen = math.log(self.floor)
        for name in [*scores, *([self.value] if self.value else [])]:
            self.evidence.setdefault(name, unseen * self.sightings)
        for name in self.evidence:
            self.evidence[name] += math.log(max(float(scores.get(name, 0.0)), self.floor))
        self.sightings += 1
        return self._settle()

    def merge(self, other: Belief) -> None:
        """Two tracks found to be one object: their sightings together."""
        unseen = math.log(self.floor)
        for name in set(self.evidence) | set(other.evidence):
            mine = self.evidence.get(name, unseen * self.sightings)
            self.evidence[name] = mine + other.evidence.get(name, unseen * other.sightings)
        self.sightings += other.sightings
        self._settle()

    def plausible(self, within: float = 3.0) -> set[str]:
        """The current value and every category whose evidence is within ``within`` of the best."""
        names = {self.value} if self.value else set()
        if self.evidence:
            best = max(self.evidence.values())
            names |= {n for n, e in self.evidence.items() if e >= best - within}
        return names

    def _settle(self) -> bool:
        if not self.evidence:
            return False
        leader = max(self.evidence, key=lambda n: (self.evidence[n], n == self.value))
        if self.value is None:
            self.value = leader
            return False
        current = self.evidence.get(self.value, -math.inf)
        if leader != self.value and self.evidence[leader] >= current + self.switch_margin:
            self.value = leader
            return True
        return False


@dataclass(frozen=True)
class IdentityPrior:
    """Numbers of the moved-or-new decision (docs/perception.md gives the equations)."""

    new_instance: float = 0.1  # prior that another, unseen instance of a kind turns up ...
    new_instance_seen_together: float = 0.5  # ... once two of that kind were seen at the same time
    link_threshold: float = 0.05  # below this the sighting is simply a new object
    size_sigma_m: float = 0.02  # size agreement: sigma = this + size_sigma_relative * size
    size_sigma_relative: float = 0.3
    similar_color_likelihood: float = 0.3  # an easily confused colour instead of the same one


def moved_prior(confidence: float, unseen_s: float, move_rate_per_s: float) -> float:
    """P(someone moved the object away from its believed spot): the belief that left the spot plus the
    chance of a move since it was last seen, 1 - c exp(-r dt)."""
    return 1.0 - min(max(confidence, 0.0), 1.0) * math.exp(-move_rate_per_s * max(unseen_s, 0.0))


def size_likelihood(observed: npt.NDArray[np.float64], known: npt.NDArray[np.float64], prior: IdentityPrior) -> float:
    """How well two boxes agree, 1 for equal sizes: a Gaussian on the sorted footprint sides and height."""
    a = np.array([*sorted(observed[:2]), observed[2]], dtype=np.float64)
    b = np.array([*sorted(known[:2]), known[2]], dtype=np.float64)
    sigma = prior.size_sigma_m + prior.size_sigma_relative * np.abs(b)
    return float(np.exp(-0.5 * float((((a - b) / sigma) ** 2).sum())))


@dataclass(frozen=True)
class Candidate:
    """A known object the new sighting may be."""

    track_id: str
    moved: float  # moved_prior
    appearance: float  # size (and colour) likelihood, 1 for a perfect fit


def same_object_probabilities(
    candidates: Iterable[Candidate], seen_together: bool, prior: IdentityPrior
) -> dict[str, float]:
    """P(the sighting is candidate k) for each k, against "a new object":

        P(k) = m_k a_k / (sum_j m_j a_j + beta),  beta = P(another instance of the kind exists)

    The sighting's place is equally likely under both (a moved object could be anywhere in the map),
    so only the move priors m and appearance a weigh. Candidates under ``link_threshold`` are left out.
    """
    beta = prior.new_instance_seen_together if seen_together else prior.new_instance
    listed = list(candidates)
    weights = {c.track_id: c.moved * c.appearance for c in listed}
    total = sum(weights.values()) + beta
    return {k: w / total for k, w in weights.items() if w / total >= prior.link_threshold}
