"""What a classification returns: small frozen records with a ``to_dict()`` for JSON/CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from classifier.labels import HUMAN


@dataclass(frozen=True)
class Phrase:
    """A stretch of the posting that moved the score.

    ``text`` is exactly ``posting[start:end]`` of the first span; ``spans`` lists every place
    the same wording occurs; ``weight`` is its share of the logit (positive pushes toward
    ``ml_engineering``, negative toward ``data_science``); ``toward`` names that label.
    """

    text: str
    weight: float
    toward: str
    spans: tuple[tuple[int, int], ...]
    terms: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            **vars(self),
            "spans": [list(span) for span in self.spans],
            "terms": list(self.terms),
        }


@dataclass(frozen=True)
class Score:
    """The linear score: ``logit == bias + contributions_sum``, ``sigmoid(logit)`` is P(ml)."""

    logit: float
    bias: float
    contributions_sum: float


@dataclass(frozen=True)
class Evidence:
    """How much role vocabulary the posting holds, and a warning when it is too little.

    ``weight`` is how far the posting's words move the score in all, either way (the sum of
    the absolute contributions, in logit units). ``balance`` is the weight pushing toward
    one role over the weight pushing toward the other, the smaller over the larger: 0 when
    all of the evidence points one way, 1 when it is evenly split.
    """

    known_terms: int
    role_terms: int
    token_count: int
    coverage: float
    weight: float
    balance: float
    warning: str | None


@dataclass(frozen=True)
class SimilarPhrase:
    """A training phrase close to the posting (cosine similarity in TF-IDF space)."""

    text: str
    label: str
    source: str
    similarity: float


@dataclass(frozen=True)
class Prediction:
    """The answer for one posting.

    ``label`` is the leaning, always one of the two roles; ``verdict`` is the headline: the
    leaning, or ``neither`` when the posting holds too little of either role's vocabulary
    for the leaning to mean much.
    """

    label: str
    verdict: str
    probability: dict[str, float]
    strength: str
    key_phrases: tuple[Phrase, ...]
    counter_phrases: tuple[Phrase, ...]
    score: Score
    evidence: Evidence
    similar_phrases: tuple[SimilarPhrase, ...]
    model_version: str

    @property
    def leaning(self) -> str:
        """The label in words: ``data-science-leaning`` or ``ML-engineering-leaning``."""
        return HUMAN[self.label]

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data (not ``dataclasses.asdict``: it deep-copies, slowly)."""
        return {
            "label": self.label,
            "verdict": self.verdict,
            "leaning": self.leaning,
            "probability": dict(self.probability),
            "strength": self.strength,
            "key_phrases": [p.to_dict() for p in self.key_phrases],
            "counter_phrases": [p.to_dict() for p in self.counter_phrases],
            "score": dict(vars(self.score)),
            "evidence": dict(vars(self.evidence)),
            "similar_phrases": [dict(vars(s)) for s in self.similar_phrases],
            "model_version": self.model_version,
        }
