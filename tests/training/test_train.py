"""Training: refuses unusable phrases, calibrates without breaking linearity, is repeatable."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.labels import DATA_SCIENCE, ML_ENGINEERING, TrainingPhrase
from training.errors import TrainingError
from training.phrases import load_packs, read_filler
from training.train import TrainingParams, pseudo_postings, train

SMALL = [
    TrainingPhrase("deploy models to production", ML_ENGINEERING, "test"),
    TrainingPhrase("kubernetes and docker", ML_ENGINEERING, "test"),
    TrainingPhrase("model serving latency", ML_ENGINEERING, "test"),
    TrainingPhrase("statistical hypothesis testing", DATA_SCIENCE, "test"),
    TrainingPhrase("present insights to stakeholders", DATA_SCIENCE, "test"),
    TrainingPhrase("design a/b experiments", DATA_SCIENCE, "test"),
]


@pytest.mark.parametrize(
    "phrases",
    [
        [],  # nothing at all
        SMALL[:3],  # one label only
        SMALL[:3] + SMALL[3:4],  # one phrase of the other label
    ],
)
def test_too_few_phrases_of_a_label_is_refused(phrases: list[TrainingPhrase]) -> None:
    with pytest.raises(TrainingError, match="need at least 2 phrases labeled"):
        train(phrases)


def test_calibration_is_folded_into_a_linear_model() -> None:
    plain = train(load_packs(["seed"]), TrainingParams(calibrate=False), read_filler())
    calibrated = train(load_packs(["seed"]), TrainingParams(), read_filler())
    scale, shift = calibrated.calibration["scale"], calibrated.calibration["shift"]
    assert scale > 0
    text = ["build dashboards and deploy pipelines"]
    raw = plain.pipeline.decision_function(text)[0]
    assert calibrated.pipeline.decision_function(text)[0] == pytest.approx(scale * raw + shift)
    assert "pseudo_postings_cv" in calibrated.metrics


def test_training_is_repeatable() -> None:
    first = train(SMALL, TrainingParams(pseudo_postings_per_fold=20))
    second = train(SMALL, TrainingParams(pseudo_postings_per_fold=20))
    assert np.array_equal(first.pipeline[-1].coef_, second.pipeline[-1].coef_)


def test_pseudo_postings_mix_both_roles_and_filler() -> None:
    rng = np.random.default_rng(0)
    by_label = {DATA_SCIENCE: ["ds one", "ds two"], ML_ENGINEERING: ["ml one", "ml two"]}
    texts, labels = pseudo_postings(by_label, ["neutral filler"], 50, rng)
    assert labels.count(DATA_SCIENCE) == labels.count(ML_ENGINEERING) == 25
    assert any("neutral filler" in t for t in texts)
    assert any("ds " in t and "ml " in t for t in texts)


def test_cross_validation_figures_are_recorded() -> None:
    model = train(load_packs(["seed"]), filler=read_filler())
    cv = model.metrics["phrases_cv"]
    assert cv["n"] == len(model.phrases)
    assert 0.5 < cv["macro_f1"] <= 1.0
