"""From a linear score to the phrases of the posting that produced it.

For TF-IDF features and a linear model the logit is exactly ``bias + Σ_j x_j·w_j`` over the
posting's non-zero features ``j``. Each feature is a word n-gram; :func:`explain` finds every
place it occurs in the original text (same tokenizer, with offsets), shares the feature's
contribution equally among its occurrences, merges overlapping occurrences into one phrase,
and gathers phrases of the same wording. The phrases' weights therefore add up to the sum of
contributions: nothing is counted twice or lost.

Both steps work on arrays, with no Python step per token: a posting's occurrences are
indices into its kept tokens (stop words removed), and two occurrences overlap in the text
exactly when they share a kept token, because tokens never overlap one another.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, pairwise, repeat

import numpy as np
import numpy.typing as npt

from classifier.prediction import Phrase
from classifier.text import token_table

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Analysis:
    """A posting read once: its tokens and every feature occurrence in it.

    Occurrence ``k`` is feature ``features[k]`` spanning kept tokens ``first[k]`` to
    ``last[k]``; counting ``features`` gives exactly the vectorizer's term counts. Kept token
    ``i`` spans ``starts[i]:ends[i]`` of the text; ``token_count`` counts stop words too.
    """

    token_count: int
    starts: list[int]
    ends: list[int]
    first: IntArray
    last: IntArray
    features: IntArray


class Reader:
    """Reads postings the way a fitted vectorizer does, keeping where each feature occurs.

    Args:
        vocabulary: feature text to index, the vectorizer's ``vocabulary_``.
        stop_words: tokens the vectorizer drops before forming n-grams.
        ngram_range: the vectorizer's ``ngram_range``.
    """

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        stop_words: Collection[str],
        ngram_range: tuple[int, int],
    ) -> None:
        self.lookup = vocabulary.get
        # dict.get(token, True) is False exactly for stop words, with no Python step per token.
        self.keeps = dict.fromkeys(stop_words, False).get
        self.ngram_range = ngram_range

    def read(self, text: str) -> Analysis:
        """Tokenise ``text`` once and find every feature occurrence in it.

        Mirrors scikit-learn's word n-grams: stop words removed, tokens joined by one space,
        n from ``ngram_range[0]`` to ``ngram_range[1]``.
        """
        tokens, starts, ends = token_table(text)
        kept_mask = list(map(self.keeps, tokens, repeat(True)))
        kept = list(compress(tokens, kept_mask))
        firsts, lasts, features = [], [], []
        low, high = self.ngram_range
        for n in range(low, min(high, len(kept)) + 1):
            grams = (
                kept if n == 1 else map(" ".join, zip(*(kept[i:] for i in range(n)), strict=False))
            )
            ids = np.fromiter(map(self.lookup, grams, repeat(-1)), np.int64, len(kept) - n + 1)
            hits = np.flatnonzero(ids >= 0)
            firsts.append(hits)
            lasts.append(hits + (n - 1))
            features.append(ids[hits])
        return Analysis(
            len(tokens),
            list(compress(starts, kept_mask)),
            list(compress(ends, kept_mask)),
            _joined(firsts),
            _joined(lasts),
            _joined(features),
        )


def _joined(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Explanation:
    """The strongest phrases of a posting each way, and how many kept tokens all phrases cover."""

    phrases: tuple[Phrase, ...]
    token_count: int
    covered_tokens: int


def explain(
    text: str,
    analysis: Analysis,
    contributions: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    classes: tuple[str, str],
    limit: int | None = None,
) -> Explanation:
    """Map a posting's feature contributions back to phrases of its text.

    Args:
        text: the posting, exactly as given.
        analysis: :meth:`Reader.read` of ``text``.
        contributions: dense ``x_j·w_j`` for every feature (zero where absent).
        feature_names: index to feature text.
        classes: the model's ``classes_``; a positive weight pushes toward ``classes[1]``.
        limit: how many phrases to return toward each class (``None``: all of them).

    Returns:
        Phrases, strongest (by absolute weight) first. Over all phrases (``limit=None``)
        the weights sum to ``contributions.sum()`` up to rounding.
    """
    first, last, features = analysis.first, analysis.last, analysis.features
    # Each feature's contribution, shared equally among its occurrences.
    share = contributions[features] / np.bincount(features)[features]

    # Merge occurrences that share a kept token into clusters, scanning by first token.
    order = np.lexsort((features, last, first))
    first, last, features, share = first[order], last[order], features[order], share[order]
    reach = np.maximum.accumulate(last)
    opens = np.ones(len(first), dtype=bool)
    opens[1:] = first[1:] > reach[:-1]
    closes = np.ones(len(first), dtype=bool)
    closes[:-1] = opens[1:]
    cluster = np.cumsum(opens) - 1
    cluster_first, cluster_last = first[opens], reach[closes]
    cluster_weight = np.bincount(cluster, weights=share, minlength=len(cluster_first))

    # Gather clusters made of the same features: one phrase, several spans.
    keys = _feature_sets(cluster, features, len(cluster_first))
    groups: dict[tuple[int, ...], int] = {}
    group = np.fromiter((groups.setdefault(k, len(groups)) for k in keys), np.int64, len(keys))
    weight = np.bincount(group, weights=cluster_weight, minlength=len(groups))
    ranked = np.argsort(-np.abs(weight), kind="stable")
    if limit is not None:
        pushes = weight[ranked] > 0
        kept = np.concatenate([np.flatnonzero(pushes)[:limit], np.flatnonzero(~pushes)[:limit]])
        ranked = ranked[np.sort(kept)]

    # Phrases only for the groups returned; a group's clusters in order of the text. Plain
    # lists from here: indexing numpy arrays one element at a time is slower than lists.
    by_group = np.argsort(group, kind="stable").tolist()
    bounds = [0, *np.cumsum(np.bincount(group, minlength=len(groups))).tolist()]
    heads, tails, weights = cluster_first.tolist(), cluster_last.tolist(), weight.tolist()
    starts, ends, key_of = analysis.starts, analysis.ends, list(groups)
    negative, positive = classes
    phrases = []
    for g in ranked.tolist():
        spans = tuple(
            (starts[heads[c]], ends[tails[c]]) for c in by_group[bounds[g] : bounds[g + 1]]
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
    # Kept tokens inside a phrase (stop words within one are not counted).
    covered = int(np.sum(cluster_last - cluster_first + 1))
    return Explanation(tuple(phrases), analysis.token_count, covered)


def _feature_sets(cluster: IntArray, features: IntArray, count: int) -> list[tuple[int, ...]]:
    """Each cluster's distinct features, sorted: the key that gathers same-wording phrases."""
    order = np.lexsort((features, cluster))
    cluster, features = cluster[order], features[order]
    distinct = np.ones(len(cluster), dtype=bool)
    distinct[1:] = (cluster[1:] != cluster[:-1]) | (features[1:] != features[:-1])
    cluster, values = cluster[distinct], features[distinct].tolist()
    bounds = np.searchsorted(cluster, np.arange(count + 1)).tolist()
    return [tuple(values[a:b]) for a, b in pairwise(bounds)]
