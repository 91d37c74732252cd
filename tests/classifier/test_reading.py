"""The one reading: tokens with offsets, n-grams that stop at boundaries, the vectorizer's rows."""

from __future__ import annotations

import pickle
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from classifier.model import RoleClassifier
from classifier.reading import (
    BULLETS,
    LOWER_TOKEN_RE,
    PROBES,
    TOKEN_RE,
    Analyzer,
    Reader,
    token_table,
    tokenize,
)
from tests.classifier.strategies import mixed_text
from tests.conftest import REPO
from training.phrases import read_neutral
from training.pipeline import rows_of

BIGRAMS = Analyzer(frozenset({"the", "and", "our", "is"}), (1, 2))


@pytest.mark.parametrize(
    "text",
    [
        "Deploy ML models with Kubernetes",  # plain ASCII
        "İstanbul-based team; Straße\tcafé",  # characters whose lower case changes length
        "C++ / R / A/B tests &amp; SQL",  # punctuation and an HTML entity
        "",  # empty
    ],
)
def test_spans_slice_the_original_text_to_each_token(text: str) -> None:
    tokens, starts, ends = token_table(text)
    for token, start, end in zip(tokens, starts, ends, strict=True):
        assert text[start:end].lower() == token
    assert tokens == tokenize(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Run A/B tests", ["run", "a/b", "tests"]),  # A/B testing survives as one token
        ("C++ and C# services", ["c++", "and", "c#", "services"]),  # languages with symbols
        ("CI/CD pipelines", ["ci/cd", "pipelines"]),  # not two unrelated fragments
        ("data/by", ["data", "by"]),  # a slash alone makes no special token
    ],
)
def test_role_terms_with_symbols_are_single_tokens(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


@given(
    st.lists(
        st.one_of(
            st.text(max_size=4),
            st.sampled_from(["a/b", "A/B", "c++", "C#", "ci/cd", "CI/CD", "/", "x", " ", "_"]),
        ),
        max_size=12,
    ).map("".join)
)
@settings(max_examples=300, deadline=None)
def test_the_fast_pattern_on_lower_text_matches_the_token_pattern(text: str) -> None:
    matches = [(m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    assert list(zip(*token_table(text), strict=True)) == matches
    lowered = text.lower()
    if len(lowered) == len(text) and "\u03a3" not in text:
        assert LOWER_TOKEN_RE.findall(lowered) == tokenize(text)


@pytest.mark.parametrize(
    ("text", "crosses"),
    [
        ("cloud infrastructure. Our ML team", True),  # a full stop ends a sentence
        ("statistical models, customer churn", True),  # a comma ends a list item
        ("deep learning; model serving", True),
        ("skills: python", True),
        ("done! next step", True),
        ("why? model drift", True),
        ("serving (batch jobs)", True),
        ("serving [batch jobs]", True),
        ("python | sql", True),
        ("line one\nline two", True),  # a line break
        ("line one\r\nline two", True),
        ("cell one\tcell two", True),  # a tab
        ("model serving - batch jobs", True),  # a dash standing alone
        ("model serving \u2013 batch jobs", True),  # en dash
        ("model serving \u2014 batch jobs", True),  # em dash
        ("feature store ... model serving", True),
        *((f"python {bullet} sql", True) for bullet in BULLETS),  # every bullet
        ("Node.js services", False),  # a dot inside a word
        ("Python 3.5 runtime", False),  # a dot inside a number
        ("state-of-the-art models", False),  # a hyphen inside a word
        ("data and the models", False),  # stop words between kept tokens
        ("A/B tests", False),
        ("model  serving", False),  # two spaces
    ],
)
def test_bigrams_never_cross_a_boundary(text: str, crosses: bool) -> None:
    tokens, _ = BIGRAMS.kept(text)
    pairs = {" ".join(pair) for pair in pairwise(tokens)}
    bigrams = {gram for gram in BIGRAMS(text) if " " in gram}
    if crosses:
        assert len(tokens) >= 2 and bigrams < pairs
    else:
        assert bigrams == pairs and pairs


TRIGRAMS = Analyzer(frozenset({"the", "and", "to"}), (2, 3))
TRIGRAM_FEATURES = sorted(
    {
        gram
        for text in [
            "Deploy the models to production",
            "machine learning models in production; machine learning",
            "A/B tests and C++ services, models",
        ]
        for gram in TRIGRAMS(text)
    }
)


CHUNK_WORDS = ["deploy", "models", "production", "machine", "learning", "a/b", "tests", "c++"]
CHUNK_WORDS += ["services", "the", "to", ".", "\n", "İ"]


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(
        mixed_text(
            CHUNK_WORDS,
            max_parts=14,
        ),
        max_size=4,
    )
)
def test_a_reader_finds_the_analyzers_ngrams_of_every_length_in_a_chunk(texts: list[str]) -> None:
    reading = Reader(TRIGRAM_FEATURES, TRIGRAMS).read(texts)
    known = set(TRIGRAM_FEATURES)
    for d, text in enumerate(texts):
        mine = reading.doc == d
        found = [TRIGRAM_FEATURES[f] for f in reading.features[mine]]
        assert sorted(found) == sorted(gram for gram in TRIGRAMS(text) if gram in known)
        for first, last, feature in zip(
            reading.first[mine], reading.last[mine], found, strict=True
        ):
            words = zip(
                reading.starts[first : last + 1], reading.ends[first : last + 1], strict=True
            )
            assert " ".join(reading.text[a:b].lower() for a, b in words) == feature


def test_stop_words_are_dropped_before_ngrams_are_formed() -> None:
    assert BIGRAMS("deploy the models") == ["deploy", "models", "deploy models"]


def test_the_vectorizer_counts_exactly_the_one_readings_ngrams(pipeline: Pipeline) -> None:
    text = "We deploy models to production, and analyze A/B test results. For stakeholders!"
    analyzer = pipeline[0].build_analyzer()
    assert analyzer(text) == pipeline[0].analyzer(text)
    assert "production analyze" not in analyzer(text)


def test_an_analyzer_survives_copying_for_cross_validation() -> None:
    copy = pickle.loads(pickle.dumps(BIGRAMS))
    assert copy == BIGRAMS and copy("deploy the models") == BIGRAMS("deploy the models")


def test_fixture_postings_get_the_vectorizers_rows(
    classifier: RoleClassifier, pipeline: Pipeline
) -> None:
    texts = [p.read_text(encoding="utf-8") for p in (REPO / "fixtures" / "postings").glob("*.txt")]
    texts += read_neutral(REPO / "fixtures")
    texts += PROBES
    ours = classifier._features(texts)[1].rows
    assert ours.same(rows_of(pipeline[0].transform(texts)))


tricky = mixed_text(
    ["\u0130", "\u03a3", "\u03c3", ".", " ", "_", "ML", "model", "data", "\n", " - ", ","],
    max_parts=20,
    sep="",
)


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(tricky, min_size=1, max_size=5))
def test_any_text_gets_the_vectorizers_rows(
    classifier: RoleClassifier, pipeline: Pipeline, texts: list[str]
) -> None:
    ours = classifier._features(texts)[1].rows
    assert ours.same(rows_of(pipeline[0].transform(texts)))
