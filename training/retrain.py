"""Train, write, verify, evaluate, gate and promote: one new serving version, or none.

Availability first: the serving version is only replaced by one that was written
completely, loaded back through the same checks as serving uses, passed a smoke test, and
scored on the validation postings no worse than the serving one (within a tolerance).
If any step fails, ``CURRENT`` is untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.artifacts import TrainingPhrase, current_version, load_version, read_card
from classifier.errors import ModelNotFound
from classifier.labels import LABELS
from classifier.model import RoleClassifier
from training.errors import PromotionRefused, TrainingError
from training.evaluate import evaluate, read_labeled
from training.lock import registry_lock
from training.phrases import PACKS, dedupe, fixtures_dir, load_packs, normalise, read_filler
from training.registry import previous_version, promote, prune, remove_stale, write_version
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "promoted": self.promoted,
            "previous": self.previous,
            "validation": self.validation,
            "previous_validation": self.previous_validation,
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
    promote_new: bool = True,
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
        promote_new: False writes and verifies the new version but leaves the serving one
            in place (to evaluate it first, e.g. the seed-only model).

    Returns:
        The outcome; ``promoted`` is True when ``CURRENT`` now names the new version.

    Raises:
        TrainingError: the phrases cannot be trained on, or the new version failed its
            checks (the serving version is kept).
        PromotionRefused: the new version scored too low; it stays on disk, unpromoted.
        RetrainBusy: another retrain is running and ``wait`` is false.
    """
    with registry_lock(home, wait):
        remove_stale(home)
        return _retrain_locked(home, packs, params, force, tolerance, promote_new)


def _retrain_locked(
    home: Path,
    packs: Sequence[str],
    params: TrainingParams | None,
    force: bool,
    tolerance: float,
    promote_new: bool = True,
) -> RetrainResult:
    model = train(gather_phrases(home, packs), params, read_filler())
    texts, labels = read_labeled(validation_path(), "text", "label")
    fresh = RoleClassifier(model.pipeline, {"version": "candidate"}, model.phrases)
    report = evaluate(fresh, texts, labels).to_dict()
    version = write_version(home, model, {"validation": report, "packs": list(packs)})
    verified(home, version)
    try:
        previous: str | None = current_version(home)
    except ModelNotFound:
        previous = None
    previous_report = None
    if previous is not None:
        previous_report = read_card(home, previous).get("metrics", {}).get("validation")
    if not promote_new:
        return RetrainResult(version, False, previous, report, previous_report)
    if previous_report and not force:
        drop = previous_report["macro_f1"] - report["macro_f1"]
        if drop > tolerance:
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
