"""Drift: do the postings coming in still look like the ones the model was checked on?

Three measures per posting, all read from its :class:`~classifier.prediction.Prediction`:

- ``p_ml``: P(ml_engineering);
- ``oov_share``: the share of the posting's tokens that no term of the model's vocabulary
  covers (``1 - evidence.coverage``; a posting with no tokens counts as all unknown);
- ``role_coverage``: role terms per token (``evidence.role_terms / evidence.token_count``),
  role terms being the features whose weight passes the card's ``evidence.role_weight``.

At training time :func:`reference` sums them up over the validation postings (a histogram
of ``p_ml`` in :data:`BINS` equal bins, the mean OOV share and role coverage) and the card
keeps it as ``drift_reference``. At serve time :func:`compare` measures a window of recent
postings against it:

==================  =================================================  ==========
figure              meaning                                            drifting if
==================  =================================================  ==========
``psi``             population stability index of the ``p_ml``          > 0.5
                    histogram (window against reference)
``oov_shift``       window mean OOV share minus the reference's        > 0.15
``coverage_shift``  window mean role coverage over the reference's,    < -0.6
                    minus 1 (relative change)
==================  =================================================  ==========

Any one of them past its mark makes the status ``drifting``. The validation postings are
written for the project and hold more role vocabulary per word than real postings, so the
marks leave room for that. Measured with the default model against its reference: 221 real
postings of both roles (the team's dev set) gave PSI 0.20 (samples of 100: 0.16-0.21), OOV
shift +0.01, coverage shift -0.48; the 66 postings for other jobs in
``fixtures/postings/other_roles.csv`` gave PSI 3.8, OOV shift +0.07, coverage shift -0.84;
60 of each gave PSI 1.0 and coverage shift -0.67.
Fewer than ``min_n`` (50) postings in the window are too few to judge: the status stays
``ok`` and ``enough`` is false.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from classifier.labels import ML_ENGINEERING
from classifier.prediction import Prediction

BINS = 10
SMOOTHING = 0.5  # pseudo-count per bin, so an empty bin does not make PSI infinite
THRESHOLDS: dict[str, float] = {
    "psi": 0.5,
    "oov_shift": 0.15,
    "coverage_shift": -0.6,
    "min_n": 50,
}


@dataclass(frozen=True)
class Observation:
    """The drift measures of one posting."""

    p_ml: float
    oov_share: float
    role_coverage: float


def observe(prediction: Prediction) -> Observation:
    """The drift measures of one classified posting."""
    evidence = prediction.evidence
    tokens = evidence.token_count
    return Observation(
        p_ml=float(prediction.probability[ML_ENGINEERING]),
        oov_share=1.0 - float(evidence.coverage) if tokens else 1.0,
        role_coverage=evidence.role_terms / tokens if tokens else 0.0,
    )


def histogram(p_values: Iterable[float], bins: int = BINS) -> list[int]:
    """Counts of ``p_values`` in ``bins`` equal bins over [0, 1] (1.0 falls in the last)."""
    counts = [0] * bins
    for p in p_values:
        counts[min(bins - 1, max(0, int(p * bins)))] += 1
    return counts


def psi(expected: Sequence[int], actual: Sequence[int]) -> float:
    """Population stability index of two histograms of counts, smoothed per bin.

    ``Σ (a - e) · ln(a / e)`` over the bins' shares; 0 when the shapes are equal.
    """
    if len(expected) != len(actual):
        raise ValueError("the histograms need the same bins")
    e_total = sum(expected) + SMOOTHING * len(expected)
    a_total = sum(actual) + SMOOTHING * len(actual)
    total = 0.0
    for e_count, a_count in zip(expected, actual, strict=True):
        e = (e_count + SMOOTHING) / e_total
        a = (a_count + SMOOTHING) / a_total
        total += (a - e) * math.log(a / e)
    return total


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def reference(observations: Sequence[Observation]) -> dict[str, Any]:
    """The drift reference a card keeps: histogram of ``p_ml``, mean OOV share and coverage."""
    return {
        "n": len(observations),
        "bins": BINS,
        "p_ml_histogram": histogram(o.p_ml for o in observations),
        "oov_share": round(_mean([o.oov_share for o in observations]), 6),
        "role_coverage": round(_mean([o.role_coverage for o in observations]), 6),
    }


@dataclass(frozen=True)
class DriftReport:
    """Recent postings against the reference; ``status`` is ``ok`` or ``drifting``."""

    n: int
    psi: float
    oov_share: float
    oov_shift: float
    role_coverage: float
    coverage_shift: float
    status: str
    enough: bool
    reasons: tuple[str, ...]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(THRESHOLDS))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values, figures rounded to four places."""
        values = {k: round(v, 4) if isinstance(v, float) else v for k, v in vars(self).items()}
        return {**values, "reasons": list(self.reasons)}


def compare(
    ref: Mapping[str, Any],
    window: Sequence[Observation],
    thresholds: Mapping[str, float] = THRESHOLDS,
) -> DriftReport:
    """Measure ``window`` against the reference ``ref`` (a card's ``drift_reference``)."""
    bins = int(ref.get("bins", BINS))
    value = psi(ref["p_ml_histogram"], histogram((o.p_ml for o in window), bins))
    oov = _mean([o.oov_share for o in window])
    coverage = _mean([o.role_coverage for o in window])
    oov_shift = oov - float(ref["oov_share"])
    base = float(ref["role_coverage"])
    coverage_shift = coverage / base - 1.0 if base > 0 else 0.0
    enough = len(window) >= thresholds["min_n"]
    reasons = []
    if value > thresholds["psi"]:
        reasons.append(f"psi {value:.3f} > {thresholds['psi']}")
    if oov_shift > thresholds["oov_shift"]:
        reasons.append(f"oov_shift {oov_shift:.3f} > {thresholds['oov_shift']}")
    if coverage_shift < thresholds["coverage_shift"]:
        reasons.append(f"coverage_shift {coverage_shift:.3f} < {thresholds['coverage_shift']}")
    return DriftReport(
        n=len(window),
        psi=value,
        oov_share=oov,
        oov_shift=oov_shift,
        role_coverage=coverage,
        coverage_shift=coverage_shift,
        status="drifting" if enough and reasons else "ok",
        enough=enough,
        reasons=tuple(reasons) if enough else (),
        thresholds=dict(thresholds),
    )
