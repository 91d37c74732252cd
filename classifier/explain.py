"""From a linear score to the phrases of the posting that produced it.

For TF-IDF features and a linear model the logit is exactly ``bias + Σ_j x_j·w_j`` over the
posting's non-zero features ``j``. Each feature is a word n-gram; :func:`explain` shares the
feature's contribution equally among its occurrences in the text (found by the one reading,
:mod:`classifier.reading`), then builds phrases:

1. occurrences that overlap (share a kept token) form one cluster;
2. neighbouring clusters that push the same way join into one phrase when the posting's words
   are adjacent: consecutive kept tokens, no boundary between them, and nothing but stop
   words and spaces in the gap. A phrase never crosses a boundary, because n-grams never do;
3. phrases made of the same features (the same wording) are gathered into one, with a span
   for each place.

Grouping is presentation only: the phrases' weights add up to the sum of contributions,
nothing counted twice or lost. Both steps work on arrays over kept-token indices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from classifier.prediction import Phrase
from classifier.reading import IntArray, Reading

# Only word characters and spaces: what may lie between two words of one phrase (tokens in
# such a gap are stop words, as the kept tokens are consecutive; "a" is no token at all).
_TIGHT = re.compile(r"[\w\s]*")


@dataclass(frozen=True)
class Explanation:
    """The strongest phrases of a posting each way, and how many kept tokens all phrases cover."""

    phrases: tuple[Phrase, ...]
    token_count: int
    covered_tokens: int


def explain(
    text: str,
    reading: Reading,
    contributions: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    classes: tuple[str, str],
    limit: int | None = None,
) -> Explanation:
    """Map a posting's feature contributions back to phrases of its text.

    Args:
        text: the posting, exactly as given.
        reading: ``Reader.read(text)``.
        contributions: dense ``x_j·w_j`` for every feature (zero where absent).
        feature_names: index to feature text.
        classes: the model's classes; a positive weight pushes toward ``classes[1]``.
        limit: how many phrases to return toward each class (``None``: all of them). The
            phrases returned are the first ``limit`` of each side of the full list, in order.

    Returns:
        Phrases, strongest (by absolute weight) first. Over all phrases (``limit=None``)
        the weights sum to ``contributions.sum()`` up to rounding.
    """
    first, last, features = reading.first, reading.last, reading.features
    share = contributions[features] / np.bincount(features)[features]

    # 1. Overlapping occurrences form clusters, scanning by first token.
    order = np.lexsort((features, last, first))
    first, last, features, share = first[order], last[order], features[order], share[order]
    reach = np.maximum.accumulate(last)
    opens = np.ones(len(first), dtype=bool)
    opens[1:] = first[1:] > reach[:-1]
    closes = np.ones(len(first), dtype=bool)
    closes[:-1] = opens[1:]
    cluster = np.cumsum(opens) - 1
    heads, tails = first[opens], reach[closes]
    cluster_weight = np.bincount(cluster, weights=share, minlength=len(heads)).astype(float)
    covered = int(np.sum(tails - heads + 1))  # kept tokens inside a phrase

    # 2. Adjacent clusters pushing the same way join into one phrase.
    joins = _joins(text, reading, heads, tails, cluster_weight)
    phrase_of_cluster = np.cumsum(~joins) - 1
    starts_phrase = ~joins
    ends_phrase = np.ones(len(joins), dtype=bool)
    ends_phrase[:-1] = starts_phrase[1:]
    phrase_first, phrase_last = heads[starts_phrase], tails[ends_phrase]
    phrase = phrase_of_cluster[cluster]
    phrase_weight = np.bincount(phrase, weights=share, minlength=len(phrase_first))

    # 3. Phrases made of the same features: one phrase, several spans.
    keys = _feature_sets(phrase, features, len(phrase_first))
    groups: dict[tuple[int, ...], int] = {}
    group = np.fromiter((groups.setdefault(k, len(groups)) for k in keys), np.int64, len(keys))
    weight = np.bincount(group, weights=phrase_weight, minlength=len(groups))
    ranked = np.argsort(-np.abs(weight), kind="stable")
    if limit is not None:
        pushes = weight[ranked] > 0
        kept = np.concatenate([np.flatnonzero(pushes)[:limit], np.flatnonzero(~pushes)[:limit]])
        ranked = ranked[np.sort(kept)]

    # Phrases only for the groups returned, each group's places in text order. Plain lists
    # from here: indexing numpy arrays one element at a time is slower than lists.
    by_group = np.argsort(group, kind="stable").tolist()
    bounds = [0, *np.cumsum(np.bincount(group, minlength=len(groups))).tolist()]
    firsts, lasts, weights = phrase_first.tolist(), phrase_last.tolist(), weight.tolist()
    starts, ends, key_of = reading.kept.starts, reading.kept.ends, list(groups)
    negative, positive = classes
    phrases = []
    for g in ranked.tolist():
        spans = tuple(
            (starts[firsts[p]], ends[lasts[p]]) for p in by_group[bounds[g] : bounds[g + 1]]
        )
        phrases.append(
            Phrase(
                text=text[spans[0][0] : spans[0][1]],
                weight=weights[g],
                toward=positive if weights[g] > 0 else negative,
                spans=spans,
                terms=tuple(feature_names[i] for i in key_of[g]),
            )
        )
    return Explanation(tuple(phrases), reading.token_count, covered)


def _joins(
    text: str,
    reading: Reading,
    heads: IntArray,
    tails: IntArray,
    weight: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """``joins[c]``: cluster ``c`` continues the phrase of cluster ``c - 1``."""
    joins = np.zeros(len(heads), dtype=bool)
    if len(heads) < 2:
        return joins
    segments = reading.kept.segments
    sign = np.sign(weight)
    candidates = (
        (heads[1:] == tails[:-1] + 1)
        & (segments[heads[1:]] == segments[tails[:-1]])
        & (sign[1:] == sign[:-1])
        & (sign[1:] != 0)
    )
    starts, ends = reading.kept.starts, reading.kept.ends
    found = np.flatnonzero(candidates)
    tight = _TIGHT.fullmatch
    for c, tail, head in zip(
        found.tolist(), tails[found].tolist(), heads[found + 1].tolist(), strict=True
    ):
        joins[c + 1] = tight(text, ends[tail], starts[head]) is not None
    return joins


def _feature_sets(phrase: IntArray, features: IntArray, count: int) -> list[tuple[int, ...]]:
    """Each phrase's distinct features, sorted: the key that gathers same-wording phrases."""
    order = np.lexsort((features, phrase))
    phrase, features = phrase[order], features[order]
    distinct = np.ones(len(phrase), dtype=bool)
    distinct[1:] = (phrase[1:] != phrase[:-1]) | (features[1:] != features[:-1])
    phrase, values = phrase[distinct], features[distinct].tolist()
    bounds = np.searchsorted(phrase, np.arange(count + 1)).tolist()
    return [tuple(values[a:b]) for a, b in pairwise(bounds)]
