"""What changed between two model versions: phrases, weights, and calls on the validation set.

Shared by ``rolelens models diff A B`` and the ``/models`` page. The "phrases behind a move"
of a validation posting are the phrases of that posting whose weight changed most between
the two versions (each version's own explanation of the posting, compared phrase by phrase).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from training.evaluate import read_labeled
from training.phrases import normalise, validation_path


@dataclass(frozen=True)
class PhraseChange:
    """A training phrase present in only one of the two versions."""

    text: str
    label: str
    source: str


@dataclass(frozen=True)
class WeightChange:
    """A vocabulary term whose weight moved (0 where a version lacks the term)."""

    term: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class MovedCall:
    """A validation posting whose label changed, and the phrases that moved it most."""

    index: int
    truth: str
    before: str
    after: str
    p_before: float
    p_after: float
    excerpt: str
    phrases: tuple[tuple[str, float], ...]  # (phrase, weight change toward ml_engineering)


@dataclass(frozen=True)
class VersionDiff:
    """Everything that changed from version ``a`` to version ``b``."""

    a: str
    b: str
    added: tuple[PhraseChange, ...]
    removed: tuple[PhraseChange, ...]
    weights: tuple[WeightChange, ...]
    moved: tuple[MovedCall, ...]
    validation_n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "phrases_added": [vars(p) for p in self.added],
            "phrases_removed": [vars(p) for p in self.removed],
            "weight_changes": [
                {"term": w.term, "before": w.before, "after": w.after, "delta": w.delta}
                for w in self.weights
            ],
            "validation_n": self.validation_n,
            "moved_calls": [
                {**vars(m), "phrases": [{"text": t, "delta": d} for t, d in m.phrases]}
                for m in self.moved
            ],
        }


def _phrase_changes(a: RoleClassifier, b: RoleClassifier) -> tuple[list[PhraseChange], ...]:
    keyed_a = {(normalise(p.text), p.label): p for p in a.phrases}
    keyed_b = {(normalise(p.text), p.label): p for p in b.phrases}
    added = [
        PhraseChange(p.text, p.label, p.source) for k, p in keyed_b.items() if k not in keyed_a
    ]
    removed = [
        PhraseChange(p.text, p.label, p.source) for k, p in keyed_a.items() if k not in keyed_b
    ]
    return added, removed


def _weights(model: RoleClassifier) -> dict[str, float]:
    """Each term's weight toward ml_engineering, whatever the order of ``classes_``."""
    sign = 1.0 if model.classes[1] == ML_ENGINEERING else -1.0
    return {term: sign * float(w) for term, w in zip(model.model.features, model.coef, strict=True)}


def weight_changes(a: RoleClassifier, b: RoleClassifier, top: int = 20) -> list[WeightChange]:
    """The ``top`` terms whose weight toward ml_engineering moved most, largest first."""
    before, after = _weights(a), _weights(b)
    terms = sorted(before.keys() | after.keys())
    deltas = np.array([after.get(t, 0.0) - before.get(t, 0.0) for t in terms])
    order = np.argsort(-np.abs(deltas), kind="stable")[:top]
    return [
        WeightChange(
            terms[i], round(before.get(terms[i], 0.0), 4), round(after.get(terms[i], 0.0), 4)
        )
        for i in order.tolist()
        if deltas[i] != 0
    ]


def _phrase_weights(model: RoleClassifier, text: str) -> dict[str, float]:
    sign = 1.0 if model.classes[1] == ML_ENGINEERING else -1.0
    found: dict[str, float] = {}
    for phrase in model.all_phrases(text):
        key = phrase.text.lower()
        found[key] = found.get(key, 0.0) + sign * phrase.weight
    return found


def moved_calls(
    a: RoleClassifier, b: RoleClassifier, texts: Sequence[str], truth: Sequence[str], top: int = 5
) -> list[MovedCall]:
    """Postings whose label differs between the versions, with the phrases that moved most."""
    moved = []
    pairs = zip(a.classify_many(texts), b.classify_many(texts), strict=True)
    for index, (before, after) in enumerate(pairs):
        if before.label == after.label:
            continue
        text = texts[index]
        was, now = _phrase_weights(a, text), _phrase_weights(b, text)
        deltas = {k: now.get(k, 0.0) - was.get(k, 0.0) for k in was.keys() | now.keys()}
        ranked = sorted(deltas.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:top]
        moved.append(
            MovedCall(
                index=index,
                truth=truth[index],
                before=before.label,
                after=after.label,
                p_before=round(before.probability[ML_ENGINEERING], 4),
                p_after=round(after.probability[ML_ENGINEERING], 4),
                excerpt=" ".join(text.split())[:160],
                phrases=tuple((k, round(d, 4)) for k, d in ranked),
            )
        )
    return moved


def diff_versions(home: Path, a: str, b: str, validation: Path | None = None) -> VersionDiff:
    """Compare version ``a`` (before) with version ``b`` (after).

    Args:
        home: the data directory.
        a: the older (or serving) version.
        b: the newer (or candidate) version.
        validation: labeled postings (default: ``fixtures/postings/validation.csv``).

    Raises:
        ModelNotFound: no such version.
        ArtifactError: a version cannot be loaded.
    """
    before, after = RoleClassifier.from_registry(home, a), RoleClassifier.from_registry(home, b)
    added, removed = _phrase_changes(before, after)
    path = validation or validation_path()
    texts, truth = read_labeled(path, "text", "label")
    return VersionDiff(
        a=a,
        b=b,
        added=tuple(added),
        removed=tuple(removed),
        weights=tuple(weight_changes(before, after)),
        moved=tuple(moved_calls(before, after, texts, truth)),
        validation_n=len(texts),
    )
