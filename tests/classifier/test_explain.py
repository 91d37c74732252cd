"""Explanations against a slow, obvious reference written from the definition.

The classifier explains postings with array arithmetic over kept-token indices. The reference
below works on character offsets, one occurrence at a time, exactly as the module docstring
of ``classifier.explain`` defines an explanation: share each feature's contribution among
its occurrences, merge occurrences that overlap in the text, gather merged phrases made of
the same features, strongest first. Both must give the same phrases, spans, terms, weights
and coverage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from classifier.model import RoleClassifier
from classifier.text import TOKEN_RE
from tests.classifier.strategies import mixed_text
from tests.classifier.test_model import POSTINGS, SAMPLES

Reference = tuple[list[tuple[str, float, str, tuple[tuple[int, int], ...], tuple[str, ...]]], int]


def reference(classifier: RoleClassifier, text: str) -> Reference:
    """(text, weight, toward, spans, terms) of every phrase, and the covered token count."""
    row = classifier.vectorizer.transform([text]).toarray()[0]
    contributions = row * classifier.coef
    tokens = [(m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    kept = [t for t in tokens if t[0] not in classifier.stop_words]
    occurrences = []
    low, high = classifier.ngram_range
    for n in range(low, high + 1):
        for i in range(len(kept) - n + 1):
            gram = " ".join(token for token, _, _ in kept[i : i + n])
            if gram in classifier.vocabulary:
                occurrences.append((kept[i][1], kept[i + n - 1][2], classifier.vocabulary[gram]))
    counts: dict[int, int] = {}
    for _, _, feature in occurrences:
        counts[feature] = counts.get(feature, 0) + 1
    clusters: list[list[Any]] = []
    for start, end, feature in sorted(occurrences):
        share = contributions[feature] / counts[feature]
        if clusters and start < clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], end)
            clusters[-1][2] += share
            clusters[-1][3].add(feature)
        else:
            clusters.append([start, end, share, {feature}])
    grouped: dict[tuple[int, ...], list[Any]] = {}
    for start, end, weight, features in clusters:
        entry = grouped.setdefault(tuple(sorted(features)), [[], 0.0])
        entry[0].append((start, end))
        entry[1] += weight
    negative, positive = classifier.classes
    phrases = [
        (
            text[spans[0][0] : spans[0][1]],
            weight,
            positive if weight > 0 else negative,
            tuple(spans),
            tuple(classifier.feature_names[f] for f in key),
        )
        for key, (spans, weight) in grouped.items()
    ]
    phrases.sort(key=lambda p: -abs(p[1]))
    # Coverage counts the kept tokens (stop words removed) that lie inside a phrase.
    covered = sum(1 for _, s, e in kept if any(cs <= s and e <= ce for cs, ce, _, _ in clusters))
    return phrases, covered


def assert_same_phrases(ours: Any, expected: Any) -> None:
    assert [(p.text, p.toward, p.spans, p.terms) for p in ours] == [
        (text, toward, spans, terms) for text, _, toward, spans, terms in expected
    ]
    assert [p.weight for p in ours] == pytest.approx([e[1] for e in expected], abs=1e-12)


def check(classifier: RoleClassifier, text: str) -> None:
    expected, covered = reference(classifier, text)
    assert_same_phrases(classifier.all_phrases(text), expected)
    prediction = classifier.classify(text)
    limit = classifier.max_phrases
    assert_same_phrases(
        prediction.key_phrases, [p for p in expected if p[2] == prediction.label][:limit]
    )
    assert_same_phrases(
        prediction.counter_phrases, [p for p in expected if p[2] != prediction.label][:limit]
    )
    tokens = prediction.evidence.token_count
    assert prediction.evidence.coverage == round(covered / tokens if tokens else 0.0, 4)


@pytest.mark.parametrize("text", POSTINGS)
def test_explanations_match_the_reference(classifier: RoleClassifier, text: str) -> None:
    check(classifier, text)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_sample_postings_match_the_reference(classifier: RoleClassifier, name: str) -> None:
    check(classifier, (SAMPLES / name).read_text(encoding="utf-8"))


def test_repeated_wording_is_one_phrase_with_every_span(classifier: RoleClassifier) -> None:
    text = "Deploy models to production. Then deploy models to production again."
    phrases = classifier.all_phrases(text)
    assert any(len(p.spans) == 2 for p in phrases)
    check(classifier, text)


@given(
    text=mixed_text(
        [
            "machine learning",
            "models",
            "production",
            "deploy",
            "statistical",
            "A/B",
            "tests",
            "data",
            "the",
            "and",
            "Kubernetes",
            "İ",
            "Σ",
            ".",
            "\n",
        ],
        max_parts=60,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_text_matches_the_reference(classifier: RoleClassifier, text: str) -> None:
    check(classifier, text)


def test_stop_words_inside_a_phrase_do_not_count_as_covered(classifier: RoleClassifier) -> None:
    text = "Deploy models to production"  # "to" is a stop word inside the phrase
    assert any("models to production" in p.text for p in classifier.all_phrases(text))
    evidence = classifier.classify(text).evidence
    assert evidence.token_count == 4
    assert evidence.coverage == 0.75
    check(classifier, text)


def test_the_reference_is_not_trivially_empty(classifier: RoleClassifier) -> None:
    phrases, covered = reference(classifier, POSTINGS[0])
    assert len(phrases) >= 5 and covered >= 5
    assert np.isclose(
        sum(p[1] for p in phrases) + classifier.bias,
        classifier.pipeline.decision_function([POSTINGS[0]])[0],
    )
