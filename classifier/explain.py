"""From linear scores to the phrases of the postings that produced them.

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
nothing counted twice or lost. Every step works on arrays over a whole chunk of postings at
once (a reading's kept-token indices never overlap from one posting to the next, and its
postings are separated by a boundary), and :class:`Phrase` objects are made only for the
phrases returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from classifier.prediction import Phrase
from classifier.reading import IntArray, Reading, ranges

# Only word characters and spaces: what may lie between two words of one phrase (tokens in
# such a gap are stop words, as the kept tokens are consecutive).
_TIGHT = re.compile(r"[\w\s]*")


def explain(
    reading: Reading,
    share: npt.NDArray[np.float64],
    feature_names: Sequence[str],
    classes: tuple[str, str],
    leaning: npt.NDArray[np.bool_],
    limits: tuple[int, int],
) -> tuple[list[tuple[Phrase, ...]], IntArray]:
    """Map each posting's feature contributions back to phrases of its text.

    Args:
        reading: ``Reader.read(texts)``.
        share: for each occurrence of the reading, its feature's contribution ``x_j·w_j``
            divided by the feature's number of occurrences in that posting.
        feature_names: index to feature text.
        classes: the model's classes; a positive weight pushes toward ``classes[1]``.
        leaning: for each posting, whether it leans toward ``classes[1]``.
        limits: how many phrases to return toward each posting's leaning, and against it;
            they are the first of each side of the full list, in order.

    Returns:
        For each posting its phrases, strongest (by absolute weight) first, and how many of
        its kept tokens all its phrases cover. Over all phrases (no limits) the weights sum
        to the posting's contributions up to rounding.
    """
    texts = len(reading.offsets)
    # By first token, then length: one feature per span, so no ties.
    span = reading.last - reading.first
    order = (reading.first * (int(span.max(initial=0)) + 1) + span).argsort()
    first, last = reading.first[order], reading.last[order]
    features, doc, share = reading.features[order], reading.doc[order], share[order]

    # 1. Overlapping occurrences form clusters, scanning by first token.
    reach = np.maximum.accumulate(last)
    opens = np.ones(len(first), dtype=bool)
    opens[1:] = first[1:] > reach[:-1]
    cluster = opens.cumsum() - 1
    heads, cluster_doc = first[opens], doc[opens]
    tails = np.maximum.reduceat(last, opens.nonzero()[0])  # the clusters are disjoint
    cluster_weight = np.bincount(cluster, weights=share, minlength=len(heads)).astype(float)
    covered = np.bincount(cluster_doc, weights=tails - heads + 1, minlength=texts).astype(int)

    # 2. Adjacent clusters pushing the same way join into one phrase: cluster c continues the
    # phrase of cluster c - 1 when their kept tokens are consecutive, in one segment, and
    # only stop words and spaces lie between them.
    joins = np.zeros(len(heads), dtype=bool)
    segments, sign = reading.segments, np.sign(cluster_weight)
    after, before = heads[1:], tails[:-1]
    joins[1:] = (
        (after == before + 1)
        & (segments[after] == segments[before])
        & (sign[1:] == sign[:-1])
        & (sign[1:] != 0)
    )
    found = np.flatnonzero(joins[1:])
    ends, starts = reading.ends[before[found]].tolist(), reading.starts[after[found]].tolist()
    tight, text = _TIGHT.fullmatch, reading.text
    joins[found + 1] = [tight(text, a, b) is not None for a, b in zip(ends, starts, strict=True)]
    starts_phrase = ~joins
    phrase_first, phrase_doc = heads[starts_phrase], cluster_doc[starts_phrase]
    phrase_last = np.maximum.reduceat(tails, starts_phrase.nonzero()[0])
    phrase = (starts_phrase.cumsum() - 1)[cluster]
    phrase_weight = np.bincount(phrase, weights=share, minlength=len(phrase_first))

    # 3. Phrases made of the same features: one phrase, several spans.
    group, example, terms, term_bounds = _same_wording(phrase, features, phrase_doc)
    weight = np.bincount(group, weights=phrase_weight, minlength=len(example))
    group_doc = phrase_doc[example]
    ranked = np.lexsort((-np.abs(weight), group_doc))  # stable: ties in order of appearance

    # The first few of each side, counted within each posting's stretch of the ranking.
    ranked_doc = group_doc[ranked]
    along = (weight[ranked] > 0) == leaning[ranked_doc]
    seen = along.cumsum() - along
    doc_start = ranked_doc.searchsorted(ranked_doc)
    place_along = seen - seen[doc_start]
    place_against = np.arange(len(ranked)) - doc_start - place_along
    chosen = ranked[np.where(along, place_along < limits[0], place_against < limits[1])]

    # Phrases only for the groups returned: each group's spans in text order, and its terms.
    by_group = group.argsort(kind="stable")
    sizes = np.bincount(group, minlength=len(example))
    places = by_group[ranges(sizes.cumsum()[chosen] - sizes[chosen], sizes[chosen])]
    begins, ends = reading.starts[phrase_first[places]], reading.ends[phrase_last[places]]
    shift = reading.offsets[phrase_doc[places]]
    spans = list(zip((begins - shift).tolist(), (ends - shift).tolist(), strict=True))
    term_first = term_bounds[example[chosen]]
    term_count = term_bounds[example[chosen] + 1] - term_first
    names = [feature_names[i] for i in terms[ranges(term_first, term_count)].tolist()]
    begins_list, ends_list = begins.tolist(), ends.tolist()
    span_at = pairwise([0, *sizes[chosen].cumsum().tolist()])
    term_at = pairwise([0, *term_count.cumsum().tolist()])
    negative, positive = classes
    phrases = [
        Phrase(
            text=text[begins_list[a] : ends_list[a]],
            weight=w,
            toward=positive if w > 0 else negative,
            spans=tuple(spans[a:b]),
            terms=tuple(names[c:d]),
        )
        for (a, b), (c, d), w in zip(span_at, term_at, weight[chosen].tolist(), strict=True)
    ]
    bounds = np.searchsorted(group_doc[chosen], np.arange(texts + 1)).tolist()
    return [tuple(phrases[a:b]) for a, b in pairwise(bounds)], covered


def _same_wording(
    phrase: IntArray, features: IntArray, phrase_doc: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Gather each posting's phrases that are made of the same set of features.

    Returns:
        ``(group, example, terms, bounds)``: each phrase's group, numbered in order of first
        appearance; each group's first phrase; and phrase ``p``'s distinct features, sorted,
        as ``terms[bounds[p]:bounds[p + 1]]``.
    """
    count, width = len(phrase_doc), int(features.max(initial=0)) + 1
    pairs = np.sort(phrase * width + features)
    distinct = np.ones(len(pairs), dtype=bool)
    distinct[1:] = pairs[1:] != pairs[:-1]
    phrase, terms = np.divmod(pairs[distinct], width)
    bounds = phrase.searchsorted(np.arange(count + 1))
    lengths = np.diff(bounds)
    # Number the feature sequences one position at a time: after position j, phrases with
    # equal keys and more than j features are of one posting and share their first j + 1
    # features. A phrase's key stays as it was after its last feature. The longer phrases'
    # keys are renumbered (keeping which are equal) only when the next step could overflow;
    # at the end, the keys are renumbered and joined with the lengths, which tell apart
    # phrases whose different features gave the same key.
    alive, key = np.arange(count), phrase_doc.copy()
    for j in range(int(lengths.max(initial=0))):
        alive = alive[lengths[alive] > j]
        if int(key[alive].max()) >= 2**62 // width:
            key[alive] = _numbered(key[alive])[0]
        key[alive] = key[alive] * width + terms[bounds[alive] + j]
    group, examples = _numbered(_numbered(key)[0] * (len(terms) + 1) + lengths)
    return group, examples, terms, bounds


def _numbered(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Equal keys numbered alike, in order of first appearance, and where each first appears."""
    _, firsts, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.empty(len(firsts), dtype=np.int64)
    rank[firsts.argsort()] = np.arange(len(firsts))
    return rank[inverse.reshape(-1)], np.sort(firsts)
