"""Training: labeled phrases in, one calibrated scikit-learn Pipeline out.

Phrases are a few words long; postings are hundreds of words, most of them neutral or shared
by both roles. A model fitted on phrases alone puts its threshold where phrases need it, not
where postings do. :func:`train` therefore calibrates on *pseudo-postings*: held-out phrases
of one role, a few of the other role, and neutral filler sentences, shuffled together. The
decision values of out-of-fold models on those pseudo-postings fit a Platt scaling
``logit' = a·logit + b``, which is folded into the logistic regression's coefficients and
intercept. The pipeline stays two stock parts and the score stays exactly linear, so every
explanation still adds up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from classifier.labels import LABELS, ML_ENGINEERING, TrainingPhrase
from classifier.reading import Analyzer
from training.errors import TrainingError


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters; the defaults were chosen by measurement (see README, Model quality)."""

    ngram_max: int = 2
    sublinear_tf: bool = False
    stop_words: str | None = "english"
    C: float = 0.1
    class_weight: str | None = "balanced"
    calibrate: bool = True
    pseudo_postings_per_fold: int = 400
    random_state: int = 0
    strength_band: dict[str, list[float]] = field(
        default_factory=lambda: {"mixed": [0.4, 0.6], "clear": [0.2, 0.8]}
    )
    # A "role term" weighs at least this quantile of the model's absolute weights; fewer than
    # min_role_terms of them in a posting earns a warning. Measured on 221 real postings:
    # 13 or more at the 1st percentile, 25 at the 5th; a pastry chef's posting has 8.
    role_weight_quantile: float = 0.9
    min_role_terms: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted, calibrated pipeline with what it was trained on and how it scored."""

    pipeline: Pipeline
    phrases: tuple[TrainingPhrase, ...]
    params: TrainingParams
    metrics: dict[str, Any]
    calibration: dict[str, float]
    evidence: dict[str, float]


def build_pipeline(params: TrainingParams) -> Pipeline:
    """An unfitted TF-IDF + logistic-regression pipeline for ``params``.

    The vectorizer's analyzer is rolelens's one reading (stop words, then n-grams that never
    cross a sentence or list boundary), so explanations find exactly the features it counts.

    Raises:
        TrainingError: ``stop_words`` is neither ``"english"`` nor ``None``.
    """
    if params.stop_words not in ("english", None):
        raise TrainingError(f"stop_words {params.stop_words!r}: use 'english' or None")
    stop_words = ENGLISH_STOP_WORDS if params.stop_words == "english" else frozenset()
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer=Analyzer(stop_words, (1, params.ngram_max)),
                    lowercase=False,
                    sublinear_tf=params.sublinear_tf,
                ),
            ),
            (
                "logreg",
                LogisticRegression(
                    C=params.C,
                    class_weight=params.class_weight,
                    max_iter=2000,
                    random_state=params.random_state,
                ),
            ),
        ]
    )


def pseudo_postings(
    by_label: dict[str, list[str]],
    filler: Sequence[str],
    count: int,
    rng: np.random.Generator,
) -> tuple[list[str], list[str]]:
    """Synthetic postings: phrases of one role, fewer of the other, neutral filler.

    Args:
        by_label: phrase texts per label (both labels needed).
        filler: neutral sentences; may be empty.
        count: how many postings to make, half per label.
        rng: the random generator (seeded by the caller).

    Returns:
        ``(texts, labels)``.
    """
    texts, labels = [], []
    for i in range(count):
        label = LABELS[i % 2]
        own, other = by_label[label], by_label[LABELS[1 - i % 2]]
        n_own = int(rng.integers(3, 13))
        n_other = int(rng.integers(0, n_own + 1))
        n_filler = int(rng.integers(5, 20)) if filler else 0
        parts = [own[j] for j in rng.integers(0, len(own), n_own)]
        parts += [other[j] for j in rng.integers(0, len(other), n_other)]
        parts += [filler[j] for j in rng.integers(0, len(filler), n_filler)]
        rng.shuffle(parts)
        texts.append(". ".join(parts))
        labels.append(label)
    return texts, labels


def _folds(labels: Sequence[str], random_state: int) -> StratifiedKFold:
    smallest = min(labels.count(label) for label in LABELS)
    return StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=random_state)


def _calibrate(
    pipeline: Pipeline,
    texts: list[str],
    labels: list[str],
    filler: Sequence[str],
    params: TrainingParams,
) -> tuple[dict[str, float], dict[str, float]]:
    """Fit Platt scaling on out-of-fold pseudo-postings; return (a, b) and their metrics."""
    rng = np.random.default_rng(params.random_state)
    decisions, truth = [], []
    for train_idx, test_idx in _folds(labels, params.random_state).split(texts, labels):
        fold = clone(pipeline).fit([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        held: dict[str, list[str]] = {label: [] for label in LABELS}
        for i in test_idx:
            held[labels[i]].append(texts[i])
        p_texts, p_labels = pseudo_postings(held, filler, params.pseudo_postings_per_fold, rng)
        decisions.append(fold.decision_function(p_texts))
        truth += [label == ML_ENGINEERING for label in p_labels]
    raw = np.concatenate(decisions).reshape(-1, 1)
    y = np.asarray(truth)
    platt = LogisticRegression(C=1e4).fit(raw, y)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = a * raw.ravel() + b
    p = 1.0 / (1.0 + np.exp(-calibrated))
    metrics = {
        "n": len(y),
        "accuracy_raw": float(np.mean((raw.ravel() > 0) == y)),
        "accuracy": float(np.mean((calibrated > 0) == y)),
        "brier": float(np.mean((p - y) ** 2)),
    }
    return {"scale": a, "shift": b}, metrics


def train(
    phrases: Sequence[TrainingPhrase],
    params: TrainingParams | None = None,
    filler: Sequence[str] = (),
) -> TrainedModel:
    """Fit the pipeline on ``phrases``, cross-validate, and calibrate it for postings.

    Args:
        phrases: labeled phrases; both labels need at least two.
        params: hyper-parameters (defaults: :class:`TrainingParams`).
        filler: neutral sentences for the calibration pseudo-postings.

    Returns:
        The trained model with cross-validation and calibration metrics.

    Raises:
        TrainingError: too few phrases of a label, or an unknown label.
    """
    params = params or TrainingParams()
    texts = [p.text for p in phrases]
    labels = [p.label for p in phrases]
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise TrainingError(f"unknown labels {sorted(unknown)}; use {', '.join(LABELS)}")
    for label in LABELS:
        if labels.count(label) < 2:
            raise TrainingError(
                f"need at least 2 phrases labeled {label!r} to train, have "
                f"{labels.count(label)}; add some with `rolelens phrases add`"
            )
    pipeline = build_pipeline(params)
    oof = cross_val_predict(clone(pipeline), texts, labels, cv=_folds(labels, params.random_state))
    metrics: dict[str, Any] = {
        "phrases_cv": {
            "n": len(texts),
            "accuracy": float(accuracy_score(labels, oof)),
            "macro_f1": float(f1_score(labels, oof, average="macro")),
        }
    }
    pipeline.fit(texts, labels)
    calibration = {"scale": 1.0, "shift": 0.0}
    if params.calibrate:
        calibration, metrics["pseudo_postings_cv"] = _calibrate(
            pipeline, texts, labels, filler, params
        )
        logreg = pipeline[-1]
        logreg.coef_ = logreg.coef_ * calibration["scale"]
        logreg.intercept_ = logreg.intercept_ * calibration["scale"] + calibration["shift"]
    weights = np.abs(pipeline[-1].coef_[0])
    evidence = {
        "role_weight": float(np.quantile(weights, params.role_weight_quantile)),
        "min_role_terms": params.min_role_terms,
    }
    return TrainedModel(pipeline, tuple(phrases), params, metrics, calibration, evidence)
