"""From a linear score to the phrases of the posting that produced it.

For TF-IDF features and a linear model the logit is exactly ``bias + Σ_j x_j·w_j`` over the
posting's non-zero features ``j``. Each feature is a word n-gram; :func:`explain` finds every
place it occurs in the original text (same tokenizer, with offsets), shares the feature's
contribution equally among its occurrences, merges overlapping occurrences into one phrase,
and gathers phrases of the same wording. The phrases' weights therefore add up to the sum of
contributions: nothing is counted twice or lost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from classifier.prediction import Phrase
from classifier.text import token_spans


@dataclass(frozen=True)
class Analysis:
    """A posting read once: its token count, kept tokens and every feature occurrence.

    ``occurrences`` holds ``(start, end, feature index)`` for every n-gram that is a model
    feature, in the order scikit-learn's analyzer produces them, so counting the indices
    gives exactly the vectorizer's term counts.
    """

    token_count: int
    tokens: list[tuple[str, int, int]]
    occurrences: list[tuple[int, int, int]]


def analyse(
    text: str,
    vocabulary: Mapping[str, int],
    stop_words: Collection[str],
    ngram_range: tuple[int, int],
) -> Analysis:
    """Tokenise ``text`` once and find every feature occurrence in it.

    Args:
        text: the posting, exactly as given.
        vocabulary: feature text to index, the vectorizer's ``vocabulary_``.
        stop_words: tokens the vectorizer drops before forming n-grams.
        ngram_range: the vectorizer's ``ngram_range``.
    """
    all_tokens = token_spans(text)
    tokens = [tok for tok in all_tokens if tok[0] not in stop_words]
    return Analysis(len(all_tokens), tokens, _occurrences(tokens, vocabulary, ngram_range))


@dataclass(frozen=True)
class Explanation:
    """Every phrase of a posting, strongest first, and how many tokens they cover."""

    phrases: tuple[Phrase, ...]
    token_count: int
    covered_tokens: int


def _occurrences(
    tokens: Sequence[tuple[str, int, int]],
    vocabulary: Mapping[str, int],
    ngram_range: tuple[int, int],
) -> list[tuple[int, int, int]]:
    """``(start, end, feature index)`` of every n-gram of ``tokens`` that is a feature.

    Mirrors scikit-learn's word n-grams: stop words already removed, tokens joined by one
    space, n from ``ngram_range[0]`` to ``ngram_range[1]``.
    """
    found: list[tuple[int, int, int]] = []
    words = [token for token, _, _ in tokens]
    low, high = ngram_range
    for n in range(low, high + 1):
        for i in range(len(tokens) - n + 1):
            index = vocabulary.get(" ".join(words[i : i + n]))
            if index is not None:
                found.append((tokens[i][1], tokens[i + n - 1][2], index))
    return found


def explain(
    text: str,
    analysis: Analysis,
    contributions: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    classes: tuple[str, str],
) -> Explanation:
    """Map a posting's feature contributions back to phrases of its text.

    Args:
        text: the posting, exactly as given.
        analysis: :func:`analyse` of ``text``.
        contributions: dense ``x_j·w_j`` for every feature (zero where absent).
        feature_names: index to feature text.
        classes: the model's ``classes_``; a positive weight pushes toward ``classes[1]``.

    Returns:
        All phrases, strongest (by absolute weight) first. Their weights sum to
        ``contributions.sum()`` up to rounding.
    """
    # Each feature's contribution, shared equally among its occurrences.
    per_feature: dict[int, int] = {}
    for _, _, index in analysis.occurrences:
        per_feature[index] = per_feature.get(index, 0) + 1
    features = np.fromiter(per_feature, dtype=np.int64, count=len(per_feature))
    counts = np.fromiter(per_feature.values(), dtype=np.float64, count=len(per_feature))
    share = dict(zip(per_feature, (contributions[features] / counts).tolist(), strict=True))

    # Merge overlapping occurrences into clusters: [start, end, weight, features].
    clusters: list[list[Any]] = []
    for start, end, index in sorted(analysis.occurrences):
        if clusters and start < clusters[-1][1]:
            cluster = clusters[-1]
            cluster[1] = max(cluster[1], end)
            cluster[2] += share[index]
            cluster[3].add(index)
        else:
            clusters.append([start, end, share[index], {index}])

    # Gather clusters made of the same features: one phrase, several spans.
    grouped: dict[tuple[int, ...], tuple[list[tuple[int, int]], float]] = {}
    for start, end, weight, members in clusters:
        key = tuple(sorted(members))
        spans, total = grouped.get(key, ([], 0.0))
        spans.append((start, end))
        grouped[key] = (spans, total + weight)

    phrases = [
        Phrase(
            text=text[spans[0][0] : spans[0][1]],
            weight=weight,
            toward=classes[1] if weight > 0 else classes[0],
            spans=tuple(spans),
            terms=tuple(feature_names[i] for i in key),
        )
        for key, (spans, weight) in grouped.items()
    ]
    phrases.sort(key=lambda p: -abs(p.weight))
    return Explanation(tuple(phrases), analysis.token_count, _covered(analysis.tokens, clusters))


def _covered(tokens: Sequence[tuple[str, int, int]], clusters: Sequence[Sequence[Any]]) -> int:
    """How many ``tokens`` lie inside a cluster; both are sorted and clusters don't overlap.

    One sweep over both lists, so a long posting costs linear time, not tokens times clusters.
    """
    covered = 0
    c = 0
    for _, start, end in tokens:
        while c < len(clusters) and clusters[c][1] <= start:
            c += 1
        if c < len(clusters) and clusters[c][0] <= start and end <= clusters[c][1]:
            covered += 1
    return covered
