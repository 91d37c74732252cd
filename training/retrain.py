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

from classifier.artifacts import current_version, load_version, read_card
from classifier.errors import ModelNotFound
from classifier.labels import LABELS
from classifier.model import RoleClassifier
from training.errors import PromotionRefused, TrainingError
from training.evaluate import evaluate, read_labeled
from training.phrases import fixtures_dir, load_packs, read_filler
from training.registry import promote, write_version
from training.train import TrainingParams, train

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


def retrain(
    home: Path,
    packs: Sequence[str] = ("seed", "curated"),
    params: TrainingParams | None = None,
    *,
    force: bool = False,
    tolerance: float = 0.02,
) -> RetrainResult:
    """Train on ``packs``, write a version, verify it and promote it if it is good enough.

    Args:
        home: the data directory.
        packs: shipped phrase packs to train on.
        params: hyper-parameters.
        force: promote even if the validation macro-F1 dropped more than ``tolerance``.
        tolerance: largest allowed drop of validation macro-F1 against the serving version.

    Returns:
        The outcome; ``promoted`` is True when ``CURRENT`` now names the new version.

    Raises:
        TrainingError: the phrases cannot be trained on, or the new version failed its
            checks (the serving version is kept).
        PromotionRefused: the new version scored too low; it stays on disk, unpromoted.
    """
    model = train(load_packs(packs), params, read_filler())
    texts, labels = read_labeled(validation_path(), "text", "label")
    fresh = RoleClassifier(model.pipeline, {"version": "candidate"}, model.phrases)
    report = evaluate(fresh, texts, labels).to_dict()
    version = write_version(home, model, {"validation": report, "packs": list(packs)})
    candidate = RoleClassifier.from_loaded(load_version(home, version))
    smoke_test(candidate)
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
            raise PromotionRefused(
                f"version {version} scored validation macro-F1 {report['macro_f1']:.3f}, "
                f"{drop:.3f} below the serving {previous} ({previous_report['macro_f1']:.3f}; "
                f"tolerance {tolerance}); it was kept unpromoted. Use --force to promote anyway"
            )
    promote(home, version)
    return RetrainResult(version, True, previous, report, previous_report)
