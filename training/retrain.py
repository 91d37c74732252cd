"""Train, write, verify, evaluate, gate and promote: one new serving version, or none.

Availability first: the serving version is only replaced by one that was written
completely, loaded back through the same checks as serving uses, passed a smoke test, and
scored on the validation postings no worse than the serving one (within a tolerance).
If any step fails, ``CURRENT`` is untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from classifier.artifacts import TrainingPhrase, current_version, load_version, read_card
from classifier.errors import ModelNotFound
from classifier.labels import LABELS, ML_ENGINEERING
from classifier.model import RoleClassifier
from training import drift, plots
from training.errors import PromotionRefused, TrainingError
from training.evaluate import read_labeled, score
from training.lock import registry_lock
from training.phrases import PACKS, dedupe, fixtures_dir, load_packs, normalise, read_filler
from training.registry import (
    note_refused,
    previous_version,
    promote,
    prune,
    remove_stale,
    write_version,
)
from training.store import PhraseStore
from training.train import TrainingParams, train

SOURCES = (*PACKS, "user")

SMOKE_TEXTS = (
    "Deploy machine learning models to production with Docker and Kubernetes.",
    "Analyze data, run A/B tests and present statistical insights to stakeholders.",
)


@dataclass(frozen=True)
class RetrainResult:
    """What happened: the version written, whether it serves now, and the figures."""

    version: str
    promoted: bool
    previous: str | None
    validation: dict[str, Any]
    previous_validation: dict[str, Any] | None
    pruned: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "promoted": self.promoted,
            "previous": self.previous,
            "validation": self.validation,
            "previous_validation": self.previous_validation,
            "pruned": list(self.pruned),
        }


def smoke_test(classifier: RoleClassifier) -> None:
    """Classify a few fixed texts; raise if the answers are malformed.

    Raises:
        TrainingError: a prediction has an unknown label or a probability outside [0, 1].
    """
    for prediction in classifier.classify_many(SMOKE_TEXTS):
        total = sum(prediction.probability.values())
        if prediction.label not in LABELS or abs(total - 1.0) > 1e-6:
            raise TrainingError(f"smoke test failed for version {classifier.version}")


def validation_path() -> Path:
    """The labeled validation postings shipped in ``fixtures/postings/validation.csv``."""
    return fixtures_dir() / "postings" / "validation.csv"


def open_store(home: Path) -> PhraseStore:
    """The phrase store under ``home``, checking new phrases against the shipped packs too."""
    return PhraseStore(home, {normalise(p.text): p for p in load_packs(PACKS)})


def gather_phrases(home: Path, sources: Sequence[str]) -> list[TrainingPhrase]:
    """Phrases of the shipped packs named in ``sources``, plus the store's if ``user`` is.

    Raises:
        TrainingError: an unknown source name.
    """
    unknown = [name for name in sources if name not in SOURCES]
    if unknown:
        raise TrainingError(f"unknown phrase source {unknown[0]!r}; use: {', '.join(SOURCES)}")
    phrases = load_packs([name for name in sources if name != "user"])
    if "user" in sources:
        phrases += open_store(home).training_phrases()
    return dedupe(phrases)


def verified(home: Path, version: str) -> RoleClassifier:
    """Load ``version`` through every check serving applies, and smoke-test it.

    Raises:
        ModelNotFound, ArtifactError, TrainingError: the version cannot serve.
    """
    classifier = RoleClassifier.from_loaded(load_version(home, version))
    smoke_test(classifier)
    return classifier


def retrain(
    home: Path,
    packs: Sequence[str] = SOURCES,
    params: TrainingParams | None = None,
    *,
    force: bool = False,
    tolerance: float = 0.02,
    wait: bool = False,
    keep: int | None = None,
    started_by: dict[str, str] | None = None,
) -> RetrainResult:
    """Train on ``packs``, write a version, verify it and promote it if it is good enough.

    Only one retrain or rollback runs at a time per data directory.

    Args:
        home: the data directory.
        packs: phrase sources to train on: ``seed``, ``curated``, ``user`` (the store).
        params: hyper-parameters.
        force: promote even if the validation macro-F1 dropped more than ``tolerance``.
        tolerance: largest allowed drop of validation macro-F1 against the serving version.
        wait: wait for a running retrain instead of failing with RetrainBusy.
        keep: after the new version is promoted (or refused), prune to this many versions
            (None: keep all); the serving version, its predecessor and the shadow stay.
        started_by: who asked, recorded in the card: ``{"via": "cli"|"http", "by": name}``.

    Returns:
        The outcome; ``promoted`` is True when ``CURRENT`` now names the new version.

    Raises:
        TrainingError: the phrases cannot be trained on, or the new version failed its
            checks (the serving version is kept).
        PromotionRefused: the new version scored too low; it stays on disk, unpromoted,
            and is noted in ``models/REFUSED``.
        RetrainBusy: another retrain is running and ``wait`` is false.
    """
    with registry_lock(home, wait):
        remove_stale(home)
        try:
            result = _retrain_locked(home, packs, params, force, tolerance, started_by)
        except PromotionRefused:
            if keep is not None:  # refused versions count against the limit too
                prune(home, keep)
            raise
        if keep is not None:
            result = replace(result, pruned=tuple(prune(home, keep)))
        return result


def _retrain_locked(
    home: Path,
    packs: Sequence[str],
    params: TrainingParams | None,
    force: bool,
    tolerance: float,
    started_by: dict[str, str] | None,
) -> RetrainResult:
    model = train(gather_phrases(home, packs), params, read_filler())
    texts, labels = read_labeled(validation_path(), "text", "label")
    card = {"version": "candidate", "evidence": model.evidence}
    fresh = RoleClassifier(model.pipeline, card, model.phrases)
    predictions = fresh.classify_many(texts)
    p_ml = [p.probability[ML_ENGINEERING] for p in predictions]
    report = score(labels, p_ml).to_dict()
    picture, why_not = plots.draw(labels, p_ml)
    extra = {
        "started_by": started_by or {"via": "library", "by": "-"},
        "drift_reference": drift.reference([drift.observe(p) for p in predictions]),
        "plots": {"validation": plots.PLOT_FILE if picture else None, "missing_because": why_not},
    }
    version = write_version(
        home,
        model,
        {"validation": report, "packs": list(packs)},
        extra=extra,
        files={plots.PLOT_FILE: picture} if picture else None,
    )
    verified(home, version)
    try:
        previous: str | None = current_version(home)
    except ModelNotFound:
        previous = None
    previous_report = None
    if previous is not None:
        previous_report = read_card(home, previous).get("metrics", {}).get("validation")
    if previous_report and not force:
        drop = previous_report["macro_f1"] - report["macro_f1"]
        if drop > tolerance:
            note_refused(home, version, f"macro-F1 {drop:.3f} below {previous}")
            raise PromotionRefused(
                f"version {version} scored validation macro-F1 {report['macro_f1']:.3f}, "
                f"{drop:.3f} below the serving {previous} ({previous_report['macro_f1']:.3f}; "
                f"tolerance {tolerance}); it was kept unpromoted. Use --force to promote anyway"
            )
    promote(home, version)
    return RetrainResult(version, True, previous, report, previous_report)


def rollback(home: Path, version: str | None = None, wait: bool = False) -> str:
    """Serve ``version`` (default: the one that served before the serving one) again.

    The target is loaded and smoke-tested before ``CURRENT`` moves.

    Returns:
        The version now serving.

    Raises:
        ModelNotFound: no such version, or nothing served before.
        ArtifactError, TrainingError: the target cannot serve; the serving version stays.
        RetrainBusy: a retrain is running and ``wait`` is false.
    """
    with registry_lock(home, wait):
        target = version or previous_version(home)
        verified(home, target)
        promote(home, target)
    return target


def prune_registry(home: Path, keep: int, wait: bool = False) -> list[str]:
    """Remove all but the ``keep`` newest versions under the registry lock; see ``prune``."""
    with registry_lock(home, wait):
        return prune(home, keep)
