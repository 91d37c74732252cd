"""The fast feature path gives the vectorizer's own matrix, bit for bit, for any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from classifier.artifacts import load_current
from classifier.features import FastCounts, fast_counts_for, same_matrix
from tests.classifier.strategies import mixed_text
from tests.conftest import REPO
from training.phrases import read_neutral


@pytest.fixture(scope="module")
def vectorizer(trained_home: Path) -> TfidfVectorizer:
    return load_current(trained_home).pipeline[0]


@pytest.fixture(scope="module")
def fast(vectorizer: TfidfVectorizer) -> FastCounts:
    found = fast_counts_for(vectorizer)
    assert found is not None, "the trained vectorizer should get the fast path"
    return found


def test_fixture_postings_get_the_same_matrix(
    vectorizer: TfidfVectorizer, fast: FastCounts
) -> None:
    texts = [p.read_text(encoding="utf-8") for p in (REPO / "fixtures" / "postings").glob("*.txt")]
    texts += read_neutral(REPO / "fixtures")
    assert same_matrix(fast.transform(texts), vectorizer.transform(texts))


tricky = mixed_text(
    ["\u0130", "\u03a3", "\u03c3", ".", " ", "_", "ML", "model", "data"], max_parts=20, sep=""
)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(tricky, min_size=1, max_size=5))
def test_any_text_gets_the_same_matrix(
    vectorizer: TfidfVectorizer, fast: FastCounts, texts: list[str]
) -> None:
    assert same_matrix(fast.transform(texts), vectorizer.transform(texts))


@pytest.mark.parametrize(
    "params",
    [
        {},  # scikit-learn's own tokenizer and lower-casing: not what rolelens trains
        {"analyzer": "char_wb"},
    ],
)
def test_other_vectorizers_keep_the_standard_path(params: dict[str, str]) -> None:
    other = TfidfVectorizer(**params).fit(["deploy models", "run tests"])  # type: ignore[arg-type]
    assert fast_counts_for(other) is None
