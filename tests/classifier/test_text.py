from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.model import RoleClassifier
from classifier.text import LOWER_TOKEN_RE, TOKEN_RE, token_table, tokenize


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


def test_vectorizer_sees_exactly_the_tokens_explanations_map(classifier: RoleClassifier) -> None:
    text = "We deploy models to production and analyze A/B test results for stakeholders."
    analyzer = classifier.vectorizer.build_analyzer()
    unigrams = [t for t in analyzer(text) if " " not in t]
    assert unigrams == [t for t in tokenize(text) if t not in classifier.stop_words]
