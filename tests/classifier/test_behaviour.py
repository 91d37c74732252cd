"""Behavioural tests of the default model: what a user would call obviously right."""

from __future__ import annotations

import pytest

from classifier.labels import DATA_SCIENCE, ML_ENGINEERING
from classifier.model import RoleClassifier

DS_POSTINGS = [
    # experimentation and statistics
    "You will design and analyse A/B tests, build statistical models and share insights with "
    "product managers to guide decisions.",
    # analytics and storytelling
    "Dig into customer behaviour with SQL and Python, build dashboards in Tableau and present "
    "findings and recommendations to business leaders.",
    # forecasting and research
    "Develop forecasting models for demand, apply regression and causal inference, and write "
    "research reports on what drives revenue.",
]
MLE_POSTINGS = [
    # serving and infrastructure
    "You will deploy models to production, build model serving APIs, and run our training "
    "pipelines on Kubernetes with Docker.",
    # MLOps
    "Own our MLOps platform: CI/CD for models, feature store, model monitoring and drift "
    "alerts, infrastructure as code with Terraform.",
    # software engineering for ML
    "Write production-quality code, review pull requests, and optimise inference latency of "
    "deep learning models on GPUs in a distributed system.",
]
BOILERPLATE = [
    "Acme Corp is an equal opportunity employer. We offer a competitive salary of $150,000, "
    "health insurance, and a generous 401(k) match.",
    "This role is based in Toronto, Canada, with hybrid work three days a week at our office.",
    "Globex Industries has been a family business since 1952, serving customers across Europe.",
]


@pytest.mark.parametrize("text", DS_POSTINGS)
def test_data_science_postings_are_called_data_science(
    classifier: RoleClassifier, text: str
) -> None:
    assert classifier.classify(text).label == DATA_SCIENCE


@pytest.mark.parametrize("text", MLE_POSTINGS)
def test_ml_engineering_postings_are_called_ml_engineering(
    classifier: RoleClassifier, text: str
) -> None:
    assert classifier.classify(text).label == ML_ENGINEERING


@pytest.mark.parametrize("boilerplate", BOILERPLATE)
@pytest.mark.parametrize("text", DS_POSTINGS + MLE_POSTINGS)
def test_company_place_and_benefits_do_not_flip_the_call(
    classifier: RoleClassifier, text: str, boilerplate: str
) -> None:
    plain = classifier.classify(text)
    padded = classifier.classify(f"{boilerplate}\n\n{text}\n\n{boilerplate}")
    assert padded.label == plain.label


@pytest.mark.parametrize("text", DS_POSTINGS)
def test_adding_ml_engineering_work_moves_toward_ml_engineering(
    classifier: RoleClassifier, text: str
) -> None:
    before = classifier.classify(text).probability[ML_ENGINEERING]
    after = classifier.classify(
        text + " You will also deploy models to production with Kubernetes."
    ).probability[ML_ENGINEERING]
    assert after > before


@pytest.mark.parametrize("text", MLE_POSTINGS)
def test_adding_data_science_work_moves_toward_data_science(
    classifier: RoleClassifier, text: str
) -> None:
    before = classifier.classify(text).probability[ML_ENGINEERING]
    after = classifier.classify(
        text + " You will also run A/B tests and present statistical insights to stakeholders."
    ).probability[ML_ENGINEERING]
    assert after < before


def test_deploy_is_among_the_ml_engineering_terms(classifier: RoleClassifier) -> None:
    prediction = classifier.classify(MLE_POSTINGS[0])
    terms = {t for p in prediction.key_phrases for t in p.terms}
    assert any("deploy" in t for t in terms)
