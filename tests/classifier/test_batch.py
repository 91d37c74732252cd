"""Batch scoring: the same calls as one-by-one classification, and readable key phrases."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from classifier.artifacts import load_current
from classifier.batch import BatchScorer, fold_terms, top_terms, top_terms_naive
from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from classifier.phrasing import TermLocator
from tests.conftest import REPO

POSTINGS = REPO / "fixtures" / "postings"


def _texts() -> list[str]:
    with open(POSTINGS / "validation.csv", encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    texts += [path.read_text(encoding="utf-8") for path in sorted(POSTINGS.glob("*.txt"))]
    return [
        *texts,
        "",  # nothing to read
        "Deploy models to production with Kubernetes",
        "Run A/B tests and present statistical insights to stakeholders",
        "İstanbul ML ekibi: deploy models",  # lower-casing changes the length
        "=cmd|' /C calc'!A0",  # formula-like
    ]


@pytest.fixture(scope="module")
def scorer(trained_home: Path) -> BatchScorer:
    return BatchScorer.from_loaded(load_current(trained_home))


def test_batch_gives_the_single_posting_label_probability_and_strength(
    scorer: BatchScorer, classifier: RoleClassifier
) -> None:
    texts = _texts()
    rows = scorer.score(texts)
    assert len(rows) == len(texts)
    for text, row in zip(texts, rows, strict=True):
        single = classifier.classify(text)
        assert row.label == single.label, text[:60]
        assert row.probability_ml_engineering == single.probability[ML_ENGINEERING]
        assert row.strength == single.strength


def test_key_phrases_push_toward_the_label_and_read_like_the_posting(
    scorer: BatchScorer, classifier: RoleClassifier
) -> None:
    text = "We deploy models to production with Kubernetes and Docker."
    (row,) = scorer.score([text])
    assert row.label == ML_ENGINEERING
    assert 0 < len(row.key_phrases) <= 5
    assert all(phrase in text for phrase in row.key_phrases)
    toward = {p.text.lower() for p in classifier.classify(text).key_phrases}
    assert "kubernetes" in {phrase.lower() for phrase in row.key_phrases} & toward


def test_vectorised_top_terms_equal_the_per_feature_loop(scorer: BatchScorer) -> None:
    texts = _texts()
    features = sparse.csr_matrix(scorer.vectorizer.transform(texts))
    toward = np.asarray(scorer.model.predict_proba(features))[:, 1] >= 0.5
    for k in (1, 5, 10):
        assert top_terms(features, scorer.coef, toward, k) == top_terms_naive(
            features, scorer.coef, toward, k
        )


def test_an_empty_chunk_scores_nothing(scorer: BatchScorer) -> None:
    assert scorer.score([]) == []


TOKENS = [frozenset(term.split()) for term in ("deploy", "models", "deploy models", "sql")]


@pytest.mark.parametrize(
    ("candidates", "k", "kept"),
    [
        ([0, 2, 3], 5, [2, 3]),  # a bigram widens the unigram it holds, in its place
        ([2, 0, 1, 3], 5, [2, 3]),  # unigrams inside a kept bigram are dropped
        ([0, 1, 2, 3], 5, [2, 3]),  # a bigram replaces both of its unigrams
        ([0, 3, 1], 2, [0, 3]),  # k caps new phrases
        ([0, 3, 2], 2, [2, 3]),  # ...but a later term may still widen a kept one
        ([], 5, []),  # nothing pushes toward the label
    ],
)
def test_fold_terms(candidates: list[int], k: int, kept: list[int]) -> None:
    assert fold_terms(candidates, TOKENS, k) == kept


@pytest.mark.parametrize(
    ("term", "text", "shown"),
    [
        ("models production", "We move models to production.", "models to production"),
        ("models production", "Models\n  in   production", "Models in production"),  # spacing
        ("sql", "Strong SQL skills", "SQL"),  # upper-case as written
        ("pytorch", "Uses PyTorch daily", "PyTorch"),  # mixed case: slower search
        ("data", "metadata and data", "data"),  # not inside another word
        ("models production", "models beyond production", "models production"),  # not a stop word
        ("kubernetes", "nothing here", "kubernetes"),  # not found: the term itself
        ("ml", "İİ ML", "ML"),  # lower-casing would shift offsets
    ],
)
def test_term_locator_shows_the_posting_wording(term: str, text: str, shown: str) -> None:
    locator = TermLocator({"to", "in", "and", "the"})
    assert locator.locate(text, term) == shown
