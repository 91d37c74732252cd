"""Train, write, verify, evaluate, gate and promote: one new serving version, or none.

Availability first: the serving version is only replaced by one that was written
completely, loaded back through the same checks as serving uses, passed a smoke test, and
scored on the validation postings no worse than the serving one (within a tolerance).
If any step fails, ``CURRENT`` is untouched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from classifier import drift
from classifier.artifacts import PLOT_FILE, current_version, read_card
from classifier.errors import ModelNotFound, RolelensError
from classifier.labels import ML_ENGINEERING, SOURCES, TrainingPhrase
from classifier.model import RoleClassifier
from training import plots
from training.errors import PromotionRefused, TrainingError
from training.evaluate import evaluate, read_labeled, score_predictions
from training.lock import registry_lock
from training.phrases import dedupe, load_packs, read_neutral, validation_path
from training.pipeline import to_model
from training.registry import (
    note_refused,
    promote,
    prune,
    remove_stale,
    verified,
    write_version,
)
from training.store import open_store
from training.train import TrainingParams, train

# A candidate whose validation Brier score is this much worse than the serving version's is
# refused (besides the macro-F1 tolerance): on the 268 validation postings, dropping or
# adding 5% of the phrases moves it by about 0.001; a third of the labels flipped, by 0.025.
BRIER_TOLERANCE = 0.01


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


def gather_phrases(
    home: Path, sources: Sequence[str], fixtures: Path | None = None
) -> list[TrainingPhrase]:
    """Phrases of the shipped packs named in ``sources``, plus the store's if ``user`` is.

    Raises:
        TrainingError: an unknown source name.
    """
    unknown = [name for name in sources if name not in SOURCES]
    if unknown:
        raise TrainingError(f"unknown phrase source {unknown[0]!r}; use: {', '.join(SOURCES)}")
    phrases = load_packs([name for name in sources if name != "user"], fixtures)
    if "user" in sources:
        phrases += open_store(home, fixtures).training_phrases()
    return dedupe(phrases)


def retrain(
    home: Path,
    packs: Sequence[str] = SOURCES,
    params: TrainingParams | None = None,
    *,
    force: bool = False,
    tolerance: float = 0.02,
    wait: bool = False,
    fixtures: Path | None = None,
    keep: int | None = None,
    started_by: dict[str, str] | None = None,
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
        fixtures: the folder of the shipped packs, filler and validation postings (default:
            the project's ``fixtures/``).
        keep: after the new version is promoted (or refused), prune to this many versions
            (None: keep all); the serving version, its predecessor and the shadow stay.
        started_by: who asked, recorded in the card: ``{"via": "cli"|"http", "by": name}``.
        promote_new: False writes and verifies the new version but leaves the serving one
            in place (to evaluate it first, e.g. the seed-only model).

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
            result = _retrain_locked(
                home, packs, params, force, tolerance, fixtures, started_by, promote_new
            )
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
    fixtures: Path | None,
    started_by: dict[str, str] | None,
    promote_new: bool = True,
) -> RetrainResult:
    model = train(gather_phrases(home, packs, fixtures), params, read_neutral(fixtures))
    texts, labels = read_labeled(validation_path(fixtures), "text", "label")
    card = {
        "version": "candidate",
        "strength_band": model.strength_band,
        "evidence": model.evidence,
    }
    fresh = RoleClassifier(to_model(model.pipeline), card, model.phrases)
    predictions = fresh.classify_many(texts)
    p_ml = [p.probability[ML_ENGINEERING] for p in predictions]
    report = score_predictions(labels, predictions).to_dict()
    picture, why_not = plots.draw(labels, p_ml)
    extra = {
        "started_by": started_by or {"via": "library", "by": "-"},
        "validation_sha256": _digest(texts, labels),
        "drift_reference": drift.reference([drift.observe(p) for p in predictions]),
        "plots": {"validation": PLOT_FILE if picture else None, "missing_because": why_not},
    }
    version = write_version(
        home,
        model,
        {"validation": report, "packs": list(packs)},
        extra=extra,
        files={PLOT_FILE: picture} if picture else None,
    )
    verified(home, version)
    try:
        previous: str | None = current_version(home)
    except ModelNotFound:
        previous = None
    previous_report = None if previous is None else _serving_report(home, previous, texts, labels)
    if not promote_new:
        return RetrainResult(version, False, previous, report, previous_report)
    if previous_report and not force:
        reason = refusal(report, previous_report, tolerance)
        if reason:
            note_refused(home, version, reason)
            raise PromotionRefused(
                f"version {version} {reason} than the serving {previous} on the validation "
                "postings; it was kept unpromoted. Use --force to promote anyway"
            )
    promote(home, version)
    return RetrainResult(version, True, previous, report, previous_report)


def _digest(texts: Sequence[str], labels: Sequence[str]) -> str:
    """A fingerprint of the validation postings a version was scored on."""
    return hashlib.sha256(json.dumps([texts, labels]).encode()).hexdigest()


def _serving_report(
    home: Path, version: str, texts: Sequence[str], labels: Sequence[str]
) -> dict[str, Any] | None:
    """The serving version's figures on today's validation postings, so the gate compares
    like with like even when the postings changed since it was trained.

    Its card's figures when the card says they were measured on these very postings (no
    need to load and re-score it) or when it cannot be loaded; else it is scored again.
    """
    card = read_card(home, version)
    stored: dict[str, Any] | None = card.get("metrics", {}).get("validation")
    if stored is not None and card.get("validation_sha256") == _digest(texts, labels):
        return stored
    try:
        return evaluate(RoleClassifier.from_registry(home, version), texts, labels).to_dict()
    except RolelensError:
        return stored


def refusal(
    report: dict[str, Any],
    serving: dict[str, Any],
    tolerance: float = 0.02,
    brier_tolerance: float = BRIER_TOLERANCE,
) -> str | None:
    """Why a candidate scoring ``report`` must not replace one scoring ``serving``, or None.

    A candidate is refused when its macro-F1 is more than ``tolerance`` lower, or its Brier
    score more than ``brier_tolerance`` higher: F1 counts wrong calls, Brier also sees calls
    that stayed right but lost their confidence (or gained it wrongly).
    """
    drop = serving["macro_f1"] - report["macro_f1"]
    if drop > tolerance:
        return f"scored macro-F1 {report['macro_f1']:.3f}, {drop:.3f} lower (tolerance {tolerance})"
    rise = report["brier"] - serving["brier"]
    if rise > brier_tolerance:
        return f"scored Brier {report['brier']:.3f}, {rise:.3f} worse (tolerance {brier_tolerance})"
    return None
