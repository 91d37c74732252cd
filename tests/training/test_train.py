"""Training: refuses unusable phrases, calibrates without breaking linearity, is repeatable."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.labels import DATA_SCIENCE, ML_ENGINEERING, TrainingPhrase
from classifier.reading import Analyzer
from tests.classifier.strategies import mixed_text
from training.errors import TrainingError
from training.phrases import load_packs, read_neutral
from training.train import PART_JOIN, TrainedModel, TrainingParams, pseudo_postings, train

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


@pytest.fixture(scope="module")
def seed_model() -> TrainedModel:
    """The seed pack trained with the neutral pack and default parameters (read only)."""
    return train(load_packs(["seed"]), neutral=read_neutral())


def test_calibration_is_folded_into_a_linear_model(seed_model: TrainedModel) -> None:
    plain = train(load_packs(["seed"]), TrainingParams(calibrate=False), read_neutral())
    calibrated = seed_model
    scale, shift = calibrated.calibration["scale"], calibrated.calibration["shift"]
    assert scale > 0
    text = ["build dashboards and deploy pipelines"]
    raw = plain.pipeline.decision_function(text)[0]
    assert calibrated.pipeline.decision_function(text)[0] == pytest.approx(scale * raw + shift)
    assert "pseudo_postings_cv" in calibrated.metrics


def test_training_is_repeatable() -> None:
    """The same inputs give the same model, bit for bit (tests/conftest.py relies on it)."""
    params = TrainingParams(pseudo_postings_per_fold=20)
    neutral = read_neutral()[:40]
    first, second = (train(SMALL, params, neutral) for _ in range(2))
    for fitted in ("coef_", "intercept_"):
        assert np.array_equal(
            getattr(first.pipeline[-1], fitted), getattr(second.pipeline[-1], fitted)
        )
    assert first.pipeline[0].vocabulary_ == second.pipeline[0].vocabulary_
    assert np.array_equal(first.pipeline[0].idf_, second.pipeline[0].idf_)
    assert (first.metrics, first.calibration, first.evidence, first.strength_band) == (
        second.metrics,
        second.calibration,
        second.evidence,
        second.strength_band,
    )


def test_training_reads_each_text_once_and_the_model_keeps_the_plain_analyzer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five folds, the last fit and the calibration all see the same phrases: one read each."""
    read: list[str] = []
    plain = Analyzer.__call__

    def counted(self: Analyzer, text: str) -> list[str]:
        read.append(text)
        return plain(self, text)

    monkeypatch.setattr(Analyzer, "__call__", counted)
    model = train(SMALL * 2, TrainingParams(pseudo_postings_per_fold=20), ["a team of people"])
    assert Counter(read) == Counter([p.text for p in SMALL] + ["a team of people"])
    assert type(model.pipeline[0].analyzer) is Analyzer
    assert pickle.loads(pickle.dumps(model.pipeline)).predict(["deploy models"]) == [ML_ENGINEERING]


def test_pseudo_postings_mix_both_roles_and_neutral_text() -> None:
    rng = np.random.default_rng(0)
    by_label = {DATA_SCIENCE: ["ds one", "ds two"], ML_ENGINEERING: ["ml one", "ml two"]}
    parts, labels, mixed = pseudo_postings(by_label, ["neutral filler"], 400, rng, 0.25)
    texts = [PART_JOIN.join(p) for p in parts]
    assert labels.count(DATA_SCIENCE) == labels.count(ML_ENGINEERING) == 200
    assert any("neutral filler" in t for t in texts)
    assert 0.15 < sum(mixed) / len(mixed) < 0.35

    def other_share(text: str, label: str) -> float:
        own, other = ("ds ", "ml ") if label == DATA_SCIENCE else ("ml ", "ds ")
        return text.count(other) / text.count(own)

    shares = [other_share(t, lab) for t, lab in zip(texts, labels, strict=True)]
    assert all(s <= 1.0 for s in shares), "a pseudo-posting never leans the other way"
    assert all(s <= 1 / 3 for s, m in zip(shares, mixed, strict=True) if not m)
    assert min(s for s, m in zip(shares, mixed, strict=True) if m) >= 1 / 3


def test_cross_validation_figures_are_recorded(seed_model: TrainedModel) -> None:
    cv = seed_model.metrics["phrases_cv"]
    assert cv["n"] == len(seed_model.phrases)
    assert 0.5 < cv["macro_f1"] <= 1.0


BENEFITS = [
    "We offer a generous pension, private health cover and a friendly team.",
    "Our team works from a bright office with flexible hours.",
    "Join a supportive team that values learning and a healthy work-life balance.",
    "Every team member gets a learning budget and 30 days of holiday.",
]
# "team" is used only by data-science phrases here, so without the neutral pack it looks
# like data-science vocabulary.
LOPSIDED = [
    *SMALL,
    TrainingPhrase("present findings to the leadership team", DATA_SCIENCE, "test"),
    TrainingPhrase("answer the marketing team's questions with data", DATA_SCIENCE, "test"),
    TrainingPhrase("monitor model drift in production", ML_ENGINEERING, "test"),
    TrainingPhrase("build feature pipelines", ML_ENGINEERING, "test"),
]


def _weight(model: TrainedModel, word: str) -> float:
    pipeline = model.pipeline
    return float(pipeline[-1].coef_[0][pipeline[0].vocabulary_[word]])


def test_the_neutral_pack_pulls_shared_words_toward_zero() -> None:
    params = TrainingParams(calibrate=False)
    without = train(LOPSIDED, TrainingParams(calibrate=False, neutral_penalty=0.0), BENEFITS)
    with_pack = train(LOPSIDED, params, BENEFITS)
    assert _weight(without, "team") < 0, "the lopsided phrases make 'team' data-science"
    assert abs(_weight(with_pack, "team")) < 0.5 * abs(_weight(without, "team"))
    # A word only the neutral pack uses carries no weight at all; role words keep theirs.
    assert _weight(with_pack, "pension") == 0.0
    assert _weight(with_pack, "production") > 0 > _weight(with_pack, "statistical")


def test_neutral_examples_under_both_labels_are_the_other_option() -> None:
    params = TrainingParams(calibrate=False, neutral_penalty=0.0, neutral_weight=5.0)
    both = train(LOPSIDED, params, BENEFITS)
    without = train(LOPSIDED, TrainingParams(calibrate=False, neutral_penalty=0.0), BENEFITS)
    assert abs(_weight(both, "team")) < abs(_weight(without, "team"))


def test_calibration_stores_the_clear_balance_limit_and_the_evidence_floor(
    seed_model: TrainedModel,
) -> None:
    assert 0.0 < seed_model.strength_band["clear_balance"] < 1.0
    assert seed_model.strength_band["clear"] == TrainingParams().strength_band["clear"]
    assert seed_model.evidence["min_weight"] > 0


def test_training_and_serving_measure_balance_and_weight_alike(seed_model: TrainedModel) -> None:
    from classifier.model import RoleClassifier, balance_of
    from training.pipeline import to_model
    from training.train import _scored_parts

    model = seed_model
    texts = [
        "Design A/B tests and analyse them. Deploy the models to production on Kubernetes.",
        "Build dashboards for the sales team and forecast demand.",
        "We bake bread every morning.",  # no role words at all
    ]
    card = {"version": "t", "strength_band": model.strength_band, "evidence": model.evidence}
    served = RoleClassifier(to_model(model.pipeline), card, model.phrases).classify_many(texts)
    # as training measures a pseudo-posting (here of one part each)
    _, positive, negative = _scored_parts(model.pipeline, [[t] for t in texts])
    balance = balance_of(positive, negative)
    for prediction, p, n, b in zip(served, positive, negative, balance, strict=True):
        assert prediction.evidence.weight == pytest.approx(p + n, abs=1e-4)
        assert prediction.evidence.balance == pytest.approx(b, abs=1e-4)
    assert served[2].evidence.balance == 1.0, "no evidence is not one-sided evidence"
    assert served[2].strength != "clear"


def test_phrases_of_stop_words_only_are_refused_saying_what_to_fix() -> None:
    # The neutral pack gives the vectorizer words of its own, so scikit-learn would no longer
    # stop on an empty vocabulary: training itself must say these phrases are unusable.
    only_stop_words = [
        TrainingPhrase("the and of it", DATA_SCIENCE, "test"),
        TrainingPhrase("a an the", DATA_SCIENCE, "test"),
        *SMALL[:3],
    ]
    with pytest.raises(TrainingError, match=r"'data_science' hold no word .* add phrases"):
        train(only_stop_words, neutral=read_neutral())


@pytest.fixture(scope="module")
def small_model() -> TrainedModel:
    return train(SMALL, TrainingParams(calibrate=False), neutral=["a great team to work with"])


# Halves of the small model's bigrams too: a join that let n-grams span two parts would
# count "deploy models" from the parts "deploy" and "models".
ROLE_WORDS = [
    "deploy",
    "models",
    "present insights",
    "deploy models",
    "A/B",
    "C++",
    "CI/CD",
    "statistical testing.",
    "- kubernetes -",
    "İstanbul Σ",
    "insights to stakeholders",
    "",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.sampled_from(ROLE_WORDS), mixed_text(ROLE_WORDS, 4)), max_size=6),
        min_size=1,
        max_size=5,
    )
)
def test_pseudo_postings_scored_from_their_parts_equal_the_vectorizer_bit_for_bit(
    small_model: TrainedModel, postings: list[list[str]]
) -> None:
    from training.train import _scored_parts, _weighed

    pipeline = small_model.pipeline
    texts = [PART_JOIN.join(parts) for parts in postings]
    from_parts = _scored_parts(pipeline, postings)
    transformed = _weighed(pipeline, pipeline[0].transform(texts))
    for ours, vectorizers in zip(from_parts, transformed, strict=True):
        assert np.array_equal(ours, vectorizers)
