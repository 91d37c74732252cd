"""Scoring a chunk of postings: what a batch row shows, taken from the one classifier.

A row's label, probability and strength are :meth:`RoleClassifier.classify_many`'s, and its
key phrases are the first N of that answer's ``key_phrases`` (strongest first), so a CSV row
gives the same reasons as the page and ``POST /api/v1/classify`` for the same text. Only
those are asked for: no counter phrases, no similar training phrases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.labels import ML_ENGINEERING

if TYPE_CHECKING:  # the model's libraries load with a model, not with this module
    from classifier.model import RoleClassifier

KEY_PHRASES = 5  # per row, by default
MAX_KEY_PHRASES = 10  # what one classification lists


@dataclass(frozen=True, slots=True)
class ScoredRow:
    """One posting's batch result: what a CSV row shows."""

    label: str
    verdict: str
    probability_ml_engineering: float
    strength: str
    key_phrases: tuple[str, ...]


class Scorer:
    """Scores chunks of postings with one classifier.

    Args:
        classifier: the model version to use.
        key_phrases: how many key phrases each row gets (0 to :data:`MAX_KEY_PHRASES`).
        source: the registry folder and version ``classifier`` was loaded from; when given,
            a copy sent to a worker process carries only these and loads the version there.

    Raises:
        ValueError: ``key_phrases`` is out of range.
    """

    def __init__(
        self,
        classifier: RoleClassifier,
        key_phrases: int = KEY_PHRASES,
        source: tuple[Path, str] | None = None,
    ) -> None:
        if not 0 <= key_phrases <= MAX_KEY_PHRASES:
            raise ValueError(
                f"key_phrases is {key_phrases}; give a number from 0 to {MAX_KEY_PHRASES}"
            )
        self.classifier = classifier
        self.key_phrases = key_phrases
        self.source = source
        self.version = classifier.version

    @classmethod
    def from_registry(
        cls, home: Path, version: str | None = None, key_phrases: int = KEY_PHRASES
    ) -> Scorer:
        """Load ``version`` (default: the serving one) from the registry under ``home``.

        Raises:
            ModelNotFound: no model, or no such version.
            ArtifactError: the version fails its checks.
        """
        from classifier.model import RoleClassifier  # here: see TYPE_CHECKING above

        classifier = RoleClassifier.from_registry(home, version)
        return cls(classifier, key_phrases, (Path(home), classifier.version))

    def __reduce__(self) -> tuple[Any, ...]:
        if self.source is None:
            return (Scorer, (self.classifier, self.key_phrases))
        return (Scorer.from_registry, (*self.source, self.key_phrases))

    def score(self, texts: Sequence[str]) -> list[ScoredRow]:
        """Score a chunk of postings.

        Args:
            texts: posting texts; empty strings are scored too (callers flag them first).

        Returns:
            One :class:`ScoredRow` per text, in order.
        """
        predictions = self.classifier.classify_many(
            texts, key_phrases=self.key_phrases, counter_phrases=0, similar=False
        )
        rows = []
        for p in predictions:
            phrases = tuple(phrase.text for phrase in p.key_phrases)
            rows.append(
                ScoredRow(p.label, p.verdict, p.probability[ML_ENGINEERING], p.strength, phrases)
            )
        return rows
