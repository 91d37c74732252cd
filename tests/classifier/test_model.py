"""The classifier's answers: exact scores, exact spans, the same in one or many."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from classifier.errors import ArtifactError, InvalidPosting
from classifier.labels import DATA_SCIENCE, LABELS, ML_ENGINEERING
from classifier.model import RoleClassifier, strength_of
from classifier.reading import Reader, Reading
from tests.classifier.strategies import mixed_text
from tests.conftest import REPO
from training.pipeline import rows_of

SAMPLES = REPO / "fixtures" / "postings"

POSTINGS = [
    # a clear ML-engineering posting
    "You will deploy machine learning models to production, build CI/CD pipelines with "
    "Docker and Kubernetes, and monitor model latency and drift.",
    # a clear data-science posting
    "Analyze customer data, design A/B tests, build statistical models and present insights "
    "to business stakeholders with Tableau dashboards.",
    # both roles in one posting, repeated phrases
    "Build models. Deploy models. Build models again; statistics and Kubernetes both matter.",
    # Unicode, tabs, HTML entities
    "Équipe basée à Montréal\tdéploie des modèles &amp; analyse des données — MLOps, SQL, "
    "A/B-tests &lt;fast&gt; 数据科学 🚀",
    # no role vocabulary at all
    "Bake croissants and laminate dough for our bakery's morning shift.",
    # empty
    "",
]


@pytest.mark.parametrize("text", POSTINGS)
def test_score_is_exactly_bias_plus_contributions(
    classifier: RoleClassifier, pipeline: Pipeline, text: str
) -> None:
    prediction = classifier.classify(text)
    logit = float(pipeline.decision_function([text])[0])
    p_ml = float(pipeline.predict_proba([text])[0][1])
    all_weights = sum(p.weight for p in classifier.all_phrases(text))
    assert prediction.score.logit == pytest.approx(logit, abs=1e-9)
    assert prediction.score.bias + prediction.score.contributions_sum == pytest.approx(
        logit, abs=1e-9
    )
    assert prediction.score.bias + all_weights == pytest.approx(logit, abs=1e-9)
    assert 1 / (1 + math.exp(-prediction.score.logit)) == pytest.approx(p_ml, abs=1e-9)
    assert prediction.probability[ML_ENGINEERING] == pytest.approx(p_ml, abs=1e-12)
    assert sum(prediction.probability.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("text", POSTINGS)
def test_every_phrase_slices_the_original_text(classifier: RoleClassifier, text: str) -> None:
    prediction = classifier.classify(text)
    for phrase in prediction.key_phrases + prediction.counter_phrases:
        start, end = phrase.spans[0]
        assert text[start:end] == phrase.text
        for s, e in phrase.spans:
            assert 0 <= s < e <= len(text)
        assert phrase.terms


def test_key_phrases_push_toward_the_label_and_counter_phrases_against(
    classifier: RoleClassifier,
) -> None:
    prediction = classifier.classify(POSTINGS[2])
    assert all(p.toward == prediction.label for p in prediction.key_phrases)
    assert all(p.toward != prediction.label for p in prediction.counter_phrases)
    weights = [abs(p.weight) for p in prediction.key_phrases]
    assert weights == sorted(weights, reverse=True)


def test_overlapping_ngrams_merge_into_one_phrase(classifier: RoleClassifier) -> None:
    text = "Experience deploying machine learning models to production."
    phrases = classifier.all_phrases(text)
    spans = sorted(span for p in phrases for span in p.spans)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start, "overlapping spans should have merged"
    assert any(len(p.terms) > 1 for p in phrases)


def test_many_gives_the_same_answers_as_one(classifier: RoleClassifier) -> None:
    many = classifier.classify_many(POSTINGS, chunk_size=4)
    assert [p.to_dict() for p in many] == [classifier.classify(t).to_dict() for t in POSTINGS]


@given(
    texts=st.lists(
        mixed_text(
            ["deploy", "models", "ci/cd", "C++", "A/B", "x", "İ", "Σ", ".", " "], 12, sep=""
        ),
        max_size=6,
    )
)
@settings(max_examples=100, deadline=None)
def test_a_chunk_gives_each_text_the_answer_it_gets_alone(
    classifier: RoleClassifier, texts: list[str]
) -> None:
    # The texts of a chunk are read as one string: nothing may cross from one to the next.
    many = classifier.classify_many(texts)
    assert [p.to_dict() for p in many] == [classifier.classify(t).to_dict() for t in texts]


def test_without_similar_phrases_the_rest_of_the_answer_is_the_same(
    classifier: RoleClassifier,
) -> None:
    plain = classifier.classify_many(POSTINGS, similar=False)
    full = classifier.classify_many(POSTINGS)
    assert any(p.similar_phrases for p in full)
    assert plain == [dataclasses.replace(p, similar_phrases=()) for p in full]


def test_to_dict_carries_every_field_of_the_prediction(classifier: RoleClassifier) -> None:
    prediction = classifier.classify(POSTINGS[2])
    data = prediction.to_dict()
    assert data["score"] == asdict(prediction.score)
    assert data["evidence"] == asdict(prediction.evidence)
    assert data["similar_phrases"] == [asdict(s) for s in prediction.similar_phrases]
    assert data["similar_phrases"], "the posting should have similar training phrases"
    for phrase, written in zip(prediction.key_phrases, data["key_phrases"], strict=True):
        assert written == {
            **asdict(phrase),
            "spans": [list(span) for span in phrase.spans],
            "terms": list(phrase.terms),
        }
    fields = {f.name for f in dataclasses.fields(prediction)} | {"leaning"}
    assert set(data) == fields
    assert json.loads(json.dumps(data)) == data


def test_long_posting_of_100_kb_is_classified(classifier: RoleClassifier) -> None:
    text = (POSTINGS[0] + " " + POSTINGS[1] + "\n") * 400
    assert len(text) > 100_000
    prediction = classifier.classify(text)
    assert prediction.label in LABELS
    assert prediction.key_phrases[0].spans[-1][1] <= len(text)


@pytest.mark.parametrize("text", [POSTINGS[4], "", "   \n\t "])
def test_text_without_role_vocabulary_carries_a_warning(
    classifier: RoleClassifier, text: str
) -> None:
    assert classifier.classify(text).evidence.warning


@pytest.mark.parametrize(
    "name", ["data_scientist_retail", "ml_engineer_platform", "hybrid_applied_scientist"]
)
def test_role_postings_carry_no_warning(classifier: RoleClassifier, name: str) -> None:
    evidence = classifier.classify((SAMPLES / f"{name}.txt").read_text()).evidence
    assert evidence.warning is None
    assert evidence.role_terms >= classifier.evidence_rules["min_role_terms"]
    assert 0 < evidence.coverage <= 1


def test_a_pastry_chef_posting_is_flagged_as_neither_role(classifier: RoleClassifier) -> None:
    evidence = classifier.classify((SAMPLES / "pastry_chef.txt").read_text()).evidence
    assert evidence.warning and "means little" in evidence.warning


def test_similar_phrases_are_training_phrases_with_their_source(
    classifier: RoleClassifier,
) -> None:
    similar = classifier.classify(POSTINGS[0]).similar_phrases
    assert 1 <= len(similar) <= 3
    known = {(p.text, p.label, p.source) for p in classifier.phrases}
    for phrase in similar:
        assert (phrase.text, phrase.label, phrase.source) in known
    assert [s.similarity for s in similar] == sorted((s.similarity for s in similar), reverse=True)


def test_prediction_names_the_model_version(classifier: RoleClassifier) -> None:
    assert classifier.classify(POSTINGS[0]).model_version == classifier.version
    assert classifier.version == classifier.card["version"]


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["list"]])
def test_non_text_is_refused_with_a_clear_error(classifier: RoleClassifier, bad: object) -> None:
    with pytest.raises(InvalidPosting, match="not text"):
        classifier.classify_many(["fine", bad])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("p_ml", "expected"),
    [
        (0.5, "mixed"),  # dead centre
        (0.6, "mixed"),  # on the mixed band's upper edge
        (0.7, "moderate"),  # between the bands
        (0.35, "moderate"),
        (0.8, "clear"),  # on the clear edge
        (0.05, "clear"),
    ],
)
def test_strength_bands(p_ml: float, expected: str) -> None:
    assert strength_of(p_ml, {"mixed": [0.4, 0.6], "clear": [0.2, 0.8]}) == expected


def test_bias_and_coefficients_belong_to_ml_engineering(classifier: RoleClassifier) -> None:
    assert classifier.classes == (DATA_SCIENCE, ML_ENGINEERING)
    kubernetes = classifier.model.vocabulary()["kubernetes"]
    assert np.sign(classifier.coef[kubernetes]) > 0


@given(
    text=mixed_text(
        ["deploy", "models", "to", "production", "A/B", "İ", "Σ", " ", ".", "\n", ", ", "•"],
        max_parts=30,
        piece_size=8,
    )
)
@settings(max_examples=150, deadline=None)
def test_one_reading_gives_the_vectorizers_own_features(
    classifier: RoleClassifier, pipeline: Pipeline, text: str
) -> None:
    ours = classifier._features([text, POSTINGS[0]])[1].rows
    assert ours.same(rows_of(pipeline[0].transform([text, POSTINGS[0]])))


def test_a_reading_that_disagrees_with_the_vectorizer_fails_the_load_loudly(
    trained_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    honest = Reader.read

    def drops_the_last_occurrence(self: Reader, texts: Sequence[str]) -> Reading:
        reading = honest(self, texts)
        return dataclasses.replace(
            reading,
            doc=reading.doc[:-1],
            first=reading.first[:-1],
            last=reading.last[:-1],
            features=reading.features[:-1],
        )

    monkeypatch.setattr(Reader, "read", drops_the_last_occurrence)
    with pytest.raises(ArtifactError, match="reads the probe texts differently"):
        RoleClassifier.from_registry(trained_home)


def test_the_smoke_test_passes_a_sound_model(classifier: RoleClassifier) -> None:
    classifier.smoke_test()


@pytest.mark.parametrize(
    "damage",
    [
        {"coef": "nan"},  # weights that are not numbers: probabilities are NaN
        {"classes": ("cooking", "baking")},  # labels rolelens does not know
    ],
)
def test_the_smoke_test_refuses_a_broken_model(
    classifier: RoleClassifier, damage: dict[str, object]
) -> None:
    changes = dict(damage)
    if changes.get("coef") == "nan":
        changes["coef"] = np.full_like(classifier.coef, np.nan)
    broken = RoleClassifier(
        dataclasses.replace(classifier.model, **changes),  # type: ignore[arg-type]
        {"version": "broken"},
        classifier.phrases,
    )
    with pytest.raises(ArtifactError, match="smoke test failed for version broken"):
        broken.smoke_test()
