"""Drift measures: the histogram, PSI, and the status rule."""

from __future__ import annotations

import pytest

from classifier.drift import THRESHOLDS, Observation, compare, histogram, psi, reference


def test_histogram_puts_every_probability_in_one_of_ten_bins() -> None:
    assert histogram([0.0, 0.05, 0.5, 0.99, 1.0]) == [2, 0, 0, 0, 0, 1, 0, 0, 0, 2]


def test_psi_is_zero_for_the_same_shape_and_grows_with_the_shift() -> None:
    base = [30, 0, 0, 0, 0, 0, 0, 0, 0, 30]
    assert psi(base, base) == pytest.approx(0.0, abs=1e-12)
    assert psi(base, [60, 0, 0, 0, 0, 0, 0, 0, 0, 60]) < 0.05, "only the smoothing differs"
    small = psi(base, [25, 5, 0, 0, 0, 0, 0, 0, 5, 25])
    large = psi(base, [0, 0, 0, 30, 30, 0, 0, 0, 0, 0])
    assert 0 < small < large
    with pytest.raises(ValueError, match="same bins"):
        psi(base, [1, 2])


def _many(p_ml: float, oov: float, coverage: float, n: int = 60) -> list[Observation]:
    return [Observation(p_ml, oov, coverage)] * n


REF = reference(_many(0.02, 0.6, 0.15, 30) + _many(0.98, 0.6, 0.15, 30))


@pytest.mark.parametrize(
    ("window", "status", "reason"),
    [
        (_many(0.02, 0.6, 0.15, 30) + _many(0.98, 0.6, 0.15, 30), "ok", None),  # as trained
        (_many(0.5, 0.6, 0.15), "drifting", "psi"),  # every call in the middle
        (_many(0.02, 0.8, 0.15), "drifting", "oov_shift"),  # words the model never saw
        (_many(0.98, 0.6, 0.05), "drifting", "coverage_shift"),  # little role vocabulary
        (_many(0.5, 0.9, 0.01, 10), "ok", None),  # too few postings to judge
    ],
)
def test_status(window: list[Observation], status: str, reason: str | None) -> None:
    report = compare(REF, window)
    assert report.status == status
    assert report.enough == (len(window) >= THRESHOLDS["min_n"])
    if reason:
        assert any(r.startswith(reason) for r in report.reasons), report.reasons
