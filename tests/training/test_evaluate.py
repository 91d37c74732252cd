from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.labels import DATA_SCIENCE as DS
from classifier.labels import ML_ENGINEERING as ML
from training.errors import TrainingError
from training.evaluate import (
    _macro_f1,
    _roc_auc,
    expected_calibration_error,
    read_labeled,
    score,
)


def test_figures_of_a_small_hand_checked_case() -> None:
    report = score([DS, DS, ML, ML], [0.1, 0.7, 0.8, 0.9])
    assert report.accuracy == 0.75
    assert report.confusion == [[1, 1], [0, 2]]
    assert report.roc_auc == 1.0
    assert report.brier == pytest.approx((0.01 + 0.49 + 0.04 + 0.01) / 4, abs=1e-4)
    # macro-F1: DS f1 = 2/3, ML f1 = 0.8
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)
    assert set(report.to_dict()) >= {"n", "accuracy", "macro_f1", "roc_auc", "brier", "ece"}


def test_perfectly_calibrated_bins_have_no_calibration_error() -> None:
    y = np.array([0, 0, 0, 1] * 5, dtype=float)
    p = np.full(20, 0.25)
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(20, 0.75)) == pytest.approx(0.5)


def test_one_class_only_has_no_auc() -> None:
    assert score([ML, ML], [0.9, 0.4]).roc_auc is None


@pytest.mark.parametrize(
    ("labels", "message"),
    [([], "no labeled rows"), (["chef"], "unknown labels")],
)
def test_unusable_labels_are_refused(labels: list[str], message: str) -> None:
    with pytest.raises(TrainingError, match=message):
        score(labels, [0.5] * len(labels))


def test_missing_column_names_the_columns_there_are(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,body,label\n1,hello,data_science\n")
    with pytest.raises(TrainingError, match=r"columns are: id, body, label \(use --text-column\)"):
        read_labeled(path, "description", "label")


def test_accuracy_of_each_strength_band_and_the_verdict_counts() -> None:
    report = score(
        [DS, DS, ML, ML, ML],
        [0.05, 0.7, 0.95, 0.55, 0.45],
        ["clear", "moderate", "clear", "mixed", "mixed"],
        [DS, ML, ML, "neither", DS],
    )
    assert report.by_strength == {
        "clear": {"n": 2, "accuracy": 1.0},
        "moderate": {"n": 1, "accuracy": 0.0},  # P 0.7 calls ML for a DS posting
        "mixed": {"n": 2, "accuracy": 0.5},
    }
    assert report.verdicts == {DS: 2, ML: 2, "neither": 1}
    assert report.to_dict()["by_strength"]["mixed"]["n"] == 2


def test_an_empty_band_has_no_accuracy() -> None:
    report = score([DS, ML], [0.1, 0.9], ["clear", "clear"], [DS, ML])
    assert report.by_strength["mixed"] == {"n": 0, "accuracy": None}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            # a few distinct values, so that ties and the 0.5 threshold come up often
            st.one_of(st.sampled_from([0.0, 0.2, 0.5, 0.5, 0.7, 1.0]), st.floats(0.0, 1.0)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_figures_are_scikit_learns(rows: list[tuple[bool, float]]) -> None:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, roc_auc_score

    labels = [ML if is_ml else DS for is_ml, _ in rows]
    p = [q for _, q in rows]
    predicted = [ML if q >= 0.5 else DS for q in p]
    report = score(labels, p)
    assert report.accuracy == round(accuracy_score(labels, predicted), 4)
    assert report.confusion == confusion_matrix(labels, predicted, labels=[DS, ML]).tolist()
    # Unrounded: two sums may differ in the last bit, and a value like 0.20625 would then
    # round to either side in the report's fourth decimal.
    truth = np.asarray([label == ML for label in labels])
    expected_f1 = f1_score(labels, predicted, average="macro", labels=[DS, ML], zero_division=0)
    assert _macro_f1(truth, np.asarray(p) >= 0.5) == pytest.approx(expected_f1, abs=1e-12)
    assert report.macro_f1 == round(_macro_f1(truth, np.asarray(p) >= 0.5), 4)
    if len(set(labels)) == 2:
        assert _roc_auc(truth, np.asarray(p)) == pytest.approx(roc_auc_score(truth, p), abs=1e-12)
        assert report.roc_auc == round(_roc_auc(truth, np.asarray(p)), 4)
    else:
        assert report.roc_auc is None
