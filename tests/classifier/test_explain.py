"""Explanations against a slow, obvious reference written from the definition.

The classifier explains postings with array arithmetic over kept-token indices. The reference
below works on character offsets, one occurrence at a time, exactly as the module docstring
of ``classifier.explain`` defines an explanation: n-grams that cross no boundary, each
feature's contribution shared among its occurrences, occurrences that overlap in the text
merged, adjacent merged phrases pushing the same way joined, phrases of the same features
gathered, strongest first. Both must give the same phrases, spans, terms, weights and
coverage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from classifier.explain import _same_wording
from classifier.model import RoleClassifier
from classifier.reading import TOKEN_RE
from tests.classifier.strategies import mixed_text
from tests.classifier.test_model import POSTINGS, SAMPLES

Reference = tuple[list[tuple[str, float, str, tuple[tuple[int, int], ...], tuple[str, ...]]], int]
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"


def is_boundary(text: str, start: int, end: int) -> bool:
    """Whether the gap ``text[start:end]`` between two tokens separates sentences or items."""
    for i in range(start, end):
        char = text[i]
        after = text[i + 1] if i + 1 < len(text) else ""
        if char in LINE_BREAKS or char in "\t,;:!?()[]|•·▪‣◦●■►":
            return True
        if char == "." and not (after.isalnum() or after == "_"):
            return True
        if char in "-\u2013\u2014" and text[i - 1 : i] == " " and after == " ":
            return True
    return False


def reference(classifier: RoleClassifier, pipeline: Pipeline, text: str) -> Reference:
    """(text, weight, toward, spans, terms) of every phrase, and the covered token count."""
    row = pipeline[0].transform([text]).toarray()[0]
    contributions = row * classifier.coef
    tokens = [(m.group().lower(), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    kept = [t for t in tokens if t[0] not in classifier.model.analyzer.stop_words]
    occurrences = []
    vocabulary = classifier.model.vocabulary()
    low, high = classifier.model.analyzer.ngram_range
    for n in range(low, high + 1):
        for i in range(len(kept) - n + 1):
            if any(is_boundary(text, kept[j][2], kept[j + 1][1]) for j in range(i, i + n - 1)):
                continue
            gram = " ".join(token for token, _, _ in kept[i : i + n])
            if gram in vocabulary:
                occurrences.append((kept[i][1], kept[i + n - 1][2], vocabulary[gram]))
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
    # Coverage counts the kept tokens (stop words removed) that lie inside a phrase.
    covered = sum(1 for _, s, e in kept if any(cs <= s and e <= ce for cs, ce, _, _ in clusters))
    starts = [s for _, s, _ in kept]
    ends = [e for _, _, e in kept]
    phrases: list[list[Any]] = []
    for cluster in clusters:
        if phrases and adjacent(text, phrases[-1], cluster, starts, ends):
            phrases[-1][1] = cluster[1]
            phrases[-1][2] += cluster[2]
            phrases[-1][3] |= cluster[3]
            phrases[-1][4] = cluster[2]
        else:
            phrases.append([*cluster, cluster[2]])  # the last field: its last cluster's weight
    grouped: dict[tuple[int, ...], list[Any]] = {}
    for start, end, weight, features, _ in phrases:
        entry = grouped.setdefault(tuple(sorted(features)), [[], 0.0])
        entry[0].append((start, end))
        entry[1] += weight
    negative, positive = classifier.classes
    result = [
        (
            text[spans[0][0] : spans[0][1]],
            weight,
            positive if weight > 0 else negative,
            tuple(spans),
            tuple(classifier.model.features[f] for f in key),
        )
        for key, (spans, weight) in grouped.items()
    ]
    result.sort(key=lambda p: -abs(p[1]))
    return result, covered


def adjacent(
    text: str, phrase: list[Any], cluster: list[Any], starts: list[int], ends: list[int]
) -> bool:
    """A cluster continues a phrase: next kept token, same push, only stop words between."""
    last_token = ends.index(phrase[1])
    next_token = starts.index(cluster[0])
    gap = text[phrase[1] : cluster[0]]
    only_stop_words = all(not char.strip() or char.isalnum() or char == "_" for char in gap)
    return (
        next_token == last_token + 1
        and np.sign(phrase[4]) == np.sign(cluster[2]) != 0
        and not is_boundary(text, phrase[1], cluster[0])
        and only_stop_words
    )


def assert_same_phrases(ours: Any, expected: Any) -> None:
    assert [(p.text, p.toward, p.spans, p.terms) for p in ours] == [
        (text, toward, spans, terms) for text, _, toward, spans, terms in expected
    ]
    assert [p.weight for p in ours] == pytest.approx([e[1] for e in expected], abs=1e-12)


def check(classifier: RoleClassifier, pipeline: Pipeline, text: str) -> None:
    expected, covered = reference(classifier, pipeline, text)
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
def test_explanations_match_the_reference(
    classifier: RoleClassifier, pipeline: Pipeline, text: str
) -> None:
    check(classifier, pipeline, text)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.txt")))
def test_sample_postings_match_the_reference(
    classifier: RoleClassifier, pipeline: Pipeline, name: str
) -> None:
    check(classifier, pipeline, (SAMPLES / name).read_text(encoding="utf-8"))


def test_repeated_wording_is_one_phrase_with_every_span(
    classifier: RoleClassifier, pipeline: Pipeline
) -> None:
    text = "Deploy models to production. Then deploy models to production again."
    phrases = classifier.all_phrases(text)
    assert any(len(p.spans) == 2 for p in phrases)
    check(classifier, pipeline, text)


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
            ", ",
            "•",
            " - ",
            "Node.js",
        ],
        max_parts=60,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_text_matches_the_reference(
    classifier: RoleClassifier, pipeline: Pipeline, text: str
) -> None:
    check(classifier, pipeline, text)


def test_stop_words_inside_a_phrase_do_not_count_as_covered(
    classifier: RoleClassifier, pipeline: Pipeline
) -> None:
    text = "Deploy models to production"  # "to" is a stop word inside the phrase
    assert [p.text for p in classifier.all_phrases(text)] == ["Deploy models to production"]
    evidence = classifier.classify(text).evidence
    assert evidence.token_count == 4
    assert evidence.coverage == 0.75
    check(classifier, pipeline, text)


def test_the_reference_is_not_trivially_empty(
    classifier: RoleClassifier, pipeline: Pipeline
) -> None:
    phrases, covered = reference(classifier, pipeline, POSTINGS[0])
    assert len(phrases) >= 3 and covered >= 10
    assert np.isclose(
        sum(p[1] for p in phrases) + classifier.model.intercept,
        pipeline.decision_function([POSTINGS[0]])[0],
    )


BOUNDARY_TEXTS = [
    # a sentence ends between two role words
    "We run the cloud infrastructure. Our ML team deploys models to production.",
    # a list of skills
    "Skills: statistical models, customer segmentation, machine learning, Kubernetes",
    # bullets and line breaks
    "What you will do\n• deploy models\n• build dashboards ▪ run A/B tests\n- monitor drift",
    # a tab, brackets, a dash alone, a bar
    "MLOps\tstatistics (forecasting) [Spark] model serving - data analysis | experiments",
]


@pytest.mark.parametrize("text", BOUNDARY_TEXTS)
def test_no_phrase_crosses_a_boundary(
    classifier: RoleClassifier, pipeline: Pipeline, text: str
) -> None:
    phrases = classifier.all_phrases(text)
    assert len(phrases) >= 3
    for phrase in phrases:
        for start, end in phrase.spans:
            inner = [m.end() for m in TOKEN_RE.finditer(text, start, end)]
            gaps = zip(
                inner, [m.start() for m in TOKEN_RE.finditer(text, start, end)][1:], strict=False
            )
            assert not any(is_boundary(text, a, b) for a, b in gaps), phrase.text
    assert "infrastructure. Our ML" not in [p.text for p in phrases]
    check(classifier, pipeline, text)


def test_adjacent_words_pushing_one_way_make_one_phrase(classifier: RoleClassifier) -> None:
    # Each word pushes toward ML engineering; together they read as one reason.
    text = "We deploy models to production and monitor Kubernetes clusters for drift."
    single = {p.text: p for p in classifier.all_phrases("deploy. models. production.")}
    assert {"deploy", "models", "production"} <= set(single)
    phrases = classifier.all_phrases(text)
    joined = [p for p in phrases if "deploy" in p.terms]
    assert len(joined) == 1 and "production" in joined[0].terms
    assert " " in joined[0].text and joined[0].text.startswith("deploy models")


def test_joined_phrases_still_add_up_to_the_logit(
    classifier: RoleClassifier, pipeline: Pipeline
) -> None:
    for text in [*BOUNDARY_TEXTS, *POSTINGS]:
        total = sum(p.weight for p in classifier.all_phrases(text))
        logit = float(pipeline.decision_function([text])[0])
        assert classifier.model.intercept + total == pytest.approx(logit, abs=1e-9)


@given(
    text=mixed_text(
        ["deploy", "models", "production", "statistical", "tests", "data", "the", ".", ","],
        max_parts=40,
    ),
    key=st.integers(0, 6),
    counter=st.integers(0, 6),
)
@settings(max_examples=100, deadline=None)
def test_limits_give_the_first_phrases_of_the_full_list(
    classifier: RoleClassifier, text: str, key: int, counter: int
) -> None:
    full = classifier.all_phrases(text)
    whole = classifier.classify(text)
    cut = classifier.classify_many([text], key_phrases=key, counter_phrases=counter)[0]
    label = cut.label
    assert cut.key_phrases == tuple(p for p in full if p.toward == label)[:key]
    assert cut.counter_phrases == tuple(p for p in full if p.toward != label)[:counter]
    assert (cut.evidence, cut.score, cut.similar_phrases) == (
        whole.evidence,
        whole.score,
        whole.similar_phrases,
    )


def test_explaining_a_chunk_renumbers_long_wordings_without_merging_them() -> None:
    # Keys of (posting, features so far) outgrow int64 after a few features: they are
    # renumbered on the way, and different wordings must stay apart.
    rng = np.random.default_rng(0)
    count = 400
    doc = np.sort(rng.integers(0, 3, count))
    phrase = np.repeat(np.arange(count), 6)
    features = rng.integers(0, 4, len(phrase)) + (2**32 - 4) * rng.integers(0, 2, len(phrase))
    group, example, _, _ = _same_wording(phrase, features, doc)
    wordings = [(int(doc[p]), frozenset(features[phrase == p].tolist())) for p in range(count)]
    first_of: dict[tuple[int, frozenset[int]], int] = {}
    for p, wording in enumerate(wordings):
        first_of.setdefault(wording, p)
    expected = sorted(first_of.values())
    assert example.tolist() == expected
    assert group.tolist() == [expected.index(first_of[w]) for w in wordings]
