"""Measuring a classifier on labeled postings: accuracy, macro-F1, ROC-AUC, calibration."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifier.labels import LABELS, ML_ENGINEERING, VERDICTS
from classifier.model import STRENGTHS, RoleClassifier
from classifier.prediction import Prediction
from training.errors import TrainingError


@dataclass(frozen=True)
class Report:
    """Figures of one evaluation. ``confusion[i][j]``: true ``labels[i]``, predicted ``[j]``."""

    n: int
    accuracy: float
    macro_f1: float
    roc_auc: float | None
    brier: float
    ece: float
    confusion: list[list[int]]
    labels: tuple[str, ...] = LABELS
    by_strength: dict[str, dict[str, Any]] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "roc_auc": self.roc_auc,
            "brier": self.brier,
            "ece": self.ece,
            "confusion": {"labels": list(self.labels), "matrix": self.confusion},
            "by_strength": self.by_strength,
            "verdicts": self.verdicts,
        }


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins of the predicted probability of the positive class."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(float(y[mask].mean()) - float(p[mask].mean()))
    return total / len(y) if len(y) else 0.0


# The figures below are scikit-learn's (tests compare them on random inputs), written out in
# numpy: importing sklearn.metrics took 1.4 s of every `rolelens evaluate`.


def _macro_f1(y: npt.NDArray[np.bool_], called: npt.NDArray[np.bool_]) -> float:
    """Macro-F1 over both classes; a class neither present nor predicted scores 0."""
    scores = []
    for truth, guess in ((y, called), (~y, ~called)):
        both = int(np.sum(truth & guess))
        either = int(np.sum(truth)) + int(np.sum(guess))
        scores.append(2 * both / either if either else 0.0)
    return sum(scores) / len(scores)


def _roc_auc(y: npt.NDArray[np.bool_], p: npt.NDArray[np.float64]) -> float:
    """The area under the ROC curve: the chance that a random positive scores above a random
    negative, ties counting half (the Mann-Whitney U over average ranks)."""
    order = np.argsort(p, kind="stable")
    _, first, counts = np.unique(p[order], return_index=True, return_counts=True)
    ranks = np.empty(len(p))
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)
    positives = int(np.sum(y))
    negatives = len(y) - positives
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def score(
    labels: Sequence[str],
    p_ml: Sequence[float],
    strengths: Sequence[str] = (),
    verdicts: Sequence[str] = (),
) -> Report:
    """Figures for true ``labels`` against predicted P(ml_engineering).

    Args:
        labels: the true labels.
        p_ml: predicted P(ml_engineering), one per label.
        strengths: each call's strength, for the accuracy of each band (optional).
        verdicts: each call's verdict, to count them (optional).

    Raises:
        TrainingError: no rows, or a label outside the known ones.
    """
    if not labels:
        raise TrainingError("no labeled rows to evaluate")
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise TrainingError(f"unknown labels {sorted(unknown)}; use {', '.join(LABELS)}")
    truth = np.asarray([label == ML_ENGINEERING for label in labels])
    y = truth.astype(float)
    p = np.asarray(p_ml, dtype=float)
    called = p >= 0.5
    predicted = [ML_ENGINEERING if c else LABELS[0] for c in called]
    both = len(set(labels)) == 2
    return Report(
        n=len(labels),
        accuracy=round(float(np.mean(truth == called)), 4),
        macro_f1=round(_macro_f1(truth, called), 4),
        roc_auc=round(_roc_auc(truth, p), 4) if both else None,
        brier=round(float(np.mean((p - y) ** 2)), 4),
        ece=round(expected_calibration_error(y, p), 4),
        confusion=[
            [int(np.sum(~truth & ~called)), int(np.sum(~truth & called))],
            [int(np.sum(truth & ~called)), int(np.sum(truth & called))],
        ],
        by_strength=_by_strength(labels, predicted, strengths),
        verdicts={verdict: list(verdicts).count(verdict) for verdict in VERDICTS}
        if verdicts
        else {},
    )


def _by_strength(
    labels: Sequence[str], predicted: Sequence[str], strengths: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """How many calls each strength band holds and the share of them that are right."""
    if not strengths:
        return {}
    bands: dict[str, dict[str, Any]] = {}
    for band in STRENGTHS:
        right = [t == p for t, p, s in zip(labels, predicted, strengths, strict=True) if s == band]
        bands[band] = {
            "n": len(right),
            "accuracy": round(sum(right) / len(right), 4) if right else None,
        }
    return bands


def read_labeled(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV of labeled postings.

    Raises:
        TrainingError: missing file or column, naming the columns there are.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            wanted_columns = ((text_column, "--text-column"), (label_column, "--label-column"))
            for wanted, option in wanted_columns:
                if wanted not in columns:
                    raise TrainingError(
                        f"column {wanted!r} not found; columns are: {', '.join(columns)} "
                        f"(use {option})"
                    )
            rows = [(row[text_column] or "", row[label_column]) for row in reader]
    except FileNotFoundError:
        raise TrainingError(f"file {path} not found") from None
    return [t for t, _ in rows], [label for _, label in rows]


def evaluate(classifier: RoleClassifier, texts: Sequence[str], labels: Sequence[str]) -> Report:
    """Classify ``texts`` and score the calls against ``labels``."""
    return score_predictions(labels, classifier.classify_many(texts))


def score_predictions(labels: Sequence[str], predictions: Sequence[Prediction]) -> Report:
    """:func:`score` for predictions: probability, strength band and verdict of each."""
    return score(
        labels,
        [p.probability[ML_ENGINEERING] for p in predictions],
        [p.strength for p in predictions],
        [p.verdict for p in predictions],
    )


def plot(report_path: Path, labels: Sequence[str], p_ml: Sequence[float]) -> None:
    """Draw a reliability diagram and a ROC curve into one PNG.

    Raises:
        TrainingError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TrainingError(
            "--plot needs matplotlib: in the rolelens folder run .venv/bin/pip install -e '.[plot]'"
        ) from None
    from sklearn.metrics import roc_curve

    y = np.asarray([label == ML_ENGINEERING for label in labels], dtype=float)
    p = np.asarray(p_ml, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
    xs = [p[which == b].mean() for b in range(10) if (which == b).any()]
    ys = [y[which == b].mean() for b in range(10) if (which == b).any()]
    left.plot([0, 1], [0, 1], linestyle="--", color="grey")
    left.plot(xs, ys, marker="o")
    left.set(title="Reliability", xlabel="predicted P(ml_engineering)", ylabel="observed share")
    if len(set(labels)) == 2:
        fpr, tpr, _ = roc_curve(y, p)
        right.plot(fpr, tpr)
    right.plot([0, 1], [0, 1], linestyle="--", color="grey")
    right.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    # Fixed margins: the labels are the same every time, and tight_layout measured every
    # text on each draw (a fifth of the drawing time).
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.92, wspace=0.25)
    fig.savefig(report_path, dpi=100)
    plt.close(fig)
