"""From a linear score to the phrases of the posting that produced it.

For TF-IDF features and a linear model the logit is exactly ``bias + Σ_j x_j·w_j`` over the
posting's non-zero features ``j``. Each feature is a word n-gram; :func:`explain` finds every
place it occurs in the original text (same tokenizer, with offsets), shares the feature's
contribution equally among its occurrences, merges overlapping occurrences into one phrase,
and gathers phrases of the same wording. The phrases' weights therefore add up to the sum of
contributions: nothing is counted twice or lost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifier.prediction import Phrase
from classifier.text import token_spans


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
    contributions: npt.NDArray[np.float64],
    vocabulary: Mapping[str, int],
    feature_names: Sequence[str],
    stop_words: Collection[str],
    ngram_range: tuple[int, int],
    classes: tuple[str, str],
) -> Explanation:
    """Map a posting's feature contributions back to phrases of its text.

    Args:
        text: the posting, exactly as given.
        contributions: dense ``x_j·w_j`` for every feature (zero where absent).
        vocabulary: feature text to index, the vectorizer's ``vocabulary_``.
        feature_names: index to feature text.
        stop_words: tokens the vectorizer drops before forming n-grams.
        ngram_range: the vectorizer's ``ngram_range``.
        classes: the model's ``classes_``; a positive weight pushes toward ``classes[1]``.

    Returns:
        All phrases, strongest (by absolute weight) first. Their weights sum to
        ``contributions.sum()`` up to rounding.
    """
    all_tokens = token_spans(text)
    tokens = [tok for tok in all_tokens if tok[0] not in stop_words]
    occurrences = _occurrences(tokens, vocabulary, ngram_range)
    per_feature = Counter(index for _, _, index in occurrences)
    occurrences.sort()

    # Merge overlapping occurrences into clusters: (start, end, {feature: occurrences}).
    clusters: list[tuple[int, int, Counter[int]]] = []
    for start, end, index in occurrences:
        if clusters and start < clusters[-1][1]:
            c_start, c_end, members = clusters[-1]
            members[index] += 1
            clusters[-1] = (c_start, max(c_end, end), members)
        else:
            clusters.append((start, end, Counter({index: 1})))

    # Gather clusters made of the same features: one phrase, several spans.
    grouped: dict[tuple[int, ...], tuple[list[tuple[int, int]], float]] = {}
    for start, end, members in clusters:
        weight = sum(float(contributions[i]) * k / per_feature[i] for i, k in members.items())
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
    return Explanation(tuple(phrases), len(all_tokens), _covered(tokens, clusters))


def _covered(
    tokens: Sequence[tuple[str, int, int]], clusters: Sequence[tuple[int, int, object]]
) -> int:
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
