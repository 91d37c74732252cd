"""The headline a person reads: ``neither`` for other jobs, no "clear" for mixed roles."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from classifier.labels import DATA_SCIENCE, ML_ENGINEERING, NEITHER
from classifier.model import RoleClassifier, strength_of

POSTINGS = Path(__file__).resolve().parents[2] / "fixtures" / "postings"


def _rows(name: str) -> list[dict[str, str]]:
    with open(POSTINGS / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_other_jobs_are_called_neither(classifier: RoleClassifier) -> None:
    rows = _rows("other_roles.csv")
    assert len(rows) >= 40
    predictions = classifier.classify_many([row["text"] for row in rows])
    missed = [
        row["title"] for row, p in zip(rows, predictions, strict=True) if p.verdict != NEITHER
    ]
    assert len(missed) <= 0.05 * len(rows), f"called a data role: {missed}"
    # The leaning is still there, underneath the headline.
    assert {p.label for p in predictions} <= {DATA_SCIENCE, ML_ENGINEERING}
    assert all(p.evidence.warning for p in predictions if p.verdict == NEITHER)


def test_data_postings_keep_their_leaning_as_the_verdict(classifier: RoleClassifier) -> None:
    rows = [row for row in _rows("validation.csv") if row["case"] == "regular"]
    predictions = classifier.classify_many([row["text"] for row in rows])
    neither = [p for p in predictions if p.verdict == NEITHER]
    assert len(neither) <= 0.02 * len(rows)
    assert all(p.verdict == p.label for p in predictions if p.verdict != NEITHER)


def test_postings_that_split_the_work_are_rarely_clear(classifier: RoleClassifier) -> None:
    rows = _rows("mixed_roles.csv")
    assert len(rows) >= 30
    predictions = classifier.classify_many([row["text"] for row in rows])
    clear = [
        row["title"] for row, p in zip(rows, predictions, strict=True) if p.strength == "clear"
    ]
    assert len(clear) <= 0.10 * len(rows), f"called clear: {clear}"


def test_one_role_postings_are_mostly_clear(classifier: RoleClassifier) -> None:
    rows = [row for row in _rows("validation.csv") if row["case"] == "regular"]
    predictions = classifier.classify_many([row["text"] for row in rows])
    clear = [
        p.label == row["label"]
        for row, p in zip(rows, predictions, strict=True)
        if p.strength == "clear"
    ]
    assert len(clear) >= 0.7 * len(rows)
    assert sum(clear) >= 0.97 * len(clear)


BAND = {"mixed": [0.4, 0.6], "clear": [0.15, 0.85], "clear_balance": 0.35}


@pytest.mark.parametrize(
    ("p_ml", "balance", "expected"),
    [
        (0.95, 0.1, "clear"),  # confident and one-sided
        (0.95, 0.5, "moderate"),  # confident, but half as much weight pushes the other way
        (0.05, 0.34, "clear"),  # just under the balance limit
        (0.05, 0.35, "moderate"),  # at it
        (0.5, 0.0, "mixed"),  # inside the mixed band whatever the balance
        (0.7, 0.0, "moderate"),  # between the bands
    ],
)
def test_a_clear_call_needs_lopsided_evidence(p_ml: float, balance: float, expected: str) -> None:
    assert strength_of(p_ml, BAND, balance) == expected


def test_balance_is_the_smaller_side_over_the_larger(classifier: RoleClassifier) -> None:
    text = (
        "Design A/B tests and analyse them with statistics. Deploy models to production on "
        "Kubernetes and monitor their latency."
    )
    prediction = classifier.classify(text)
    phrases = classifier.all_phrases(text)
    toward_ml = sum(p.weight for p in phrases if p.weight > 0)
    toward_ds = -sum(p.weight for p in phrases if p.weight < 0)
    expected = min(toward_ml, toward_ds) / max(toward_ml, toward_ds)
    assert prediction.evidence.balance == pytest.approx(expected, abs=1e-4)
    assert prediction.evidence.weight == pytest.approx(toward_ml + toward_ds, abs=1e-4)
    answer = prediction.to_dict()
    assert answer["verdict"] == prediction.verdict
    assert answer["evidence"]["balance"] == prediction.evidence.balance


def test_a_card_from_before_the_balance_and_weight_thresholds_still_works(
    classifier: RoleClassifier,
) -> None:
    # Older cards have neither clear_balance nor min_weight: strength checks P alone and
    # 'neither' falls back to counting role terms.
    old = dict(classifier.card)
    old["strength_band"] = {"mixed": [0.4, 0.6], "clear": [0.2, 0.8]}
    old["evidence"] = {
        "role_weight": classifier.evidence_rules["role_weight"],
        "min_role_terms": 10,
    }
    legacy = RoleClassifier(classifier.model, old, classifier.phrases)
    chef = (POSTINGS / "pastry_chef.txt").read_text(encoding="utf-8")
    ml = (POSTINGS / "ml_engineer_platform.txt").read_text(encoding="utf-8")
    chef_call, ml_call = legacy.classify_many([chef, ml])
    assert chef_call.verdict == NEITHER and "vocabulary" in (chef_call.evidence.warning or "")
    assert ml_call.verdict == ML_ENGINEERING and ml_call.strength == "clear"
    nothing = legacy.classify("zzzz qqqq")  # no known word: balance 1, never clear
    assert nothing.verdict == NEITHER and nothing.strength != "clear"
