"""The one reading of postings: tokens with offsets, kept tokens, n-grams, the TF-IDF rows.

Tokens are runs of two or more word characters, plus a few role terms that plain word runs
would lose (``A/B``, ``C++``, ``C#``, ``CI/CD``), lower-cased one by one (lower-casing the
whole text first could shift offsets: ``"İ".lower()`` is two characters long). Stop words are
dropped, and the kept tokens are joined into n-grams, **never across a boundary**: a gap
between two tokens is a boundary when it holds a line break, a tab, one of
``, ; : ! ? ( ) [ ] |``, a bullet, a dash standing alone between spaces, or a ``.`` not
directly followed by a word character (``Node.js`` and ``3.5`` hold none; ``work. Our`` does).

:class:`Analyzer` is the training vectorizer's ``analyzer``: it gives the n-grams of one text
as strings, so scikit-learn counts them. :class:`Reader` finds the same n-grams of a whole
chunk of postings at once, as feature indices with their places, for the TF-IDF rows and the
explanations: the chunk is read as one string, its texts joined by a line break (a boundary
that no token holds, so nothing crosses from one posting to the next), with array operations
instead of a string per n-gram. Both use :func:`token_table` and :func:`segments_of`.
:func:`counted_rows` repeats the vectorizer's arithmetic on the counts (counts times idf, each
row divided by its L2 norm, squares summed in order): a model version stores the rows the
vectorizer gave for :data:`PROBES`, and loading compares the reader's rows with them bit for bit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

TOKEN_RE = re.compile(r"(?i:\ba/b\b|\bc\+\+|\bc#|\bci/cd\b)|\b\w\w+\b")
# The same matches on already lower-cased text, about twice as fast: scanning left to right,
# a greedy \w\w+ always spans a whole run of word characters, so the \b checks add nothing.
LOWER_TOKEN_RE = re.compile(r"a/b\b|c\+\+|c#|ci/cd\b|\w\w+")
# As one capturing group, ``split`` returns gap, token, gap, ..., gap: the running sum of the
# pieces' lengths gives every token's offsets without a Python step per match.
_SPLIT_RE = re.compile(f"({TOKEN_RE.pattern})")
_LOWER_SPLIT_RE = re.compile(f"({LOWER_TOKEN_RE.pattern})")
BULLETS = "•·▪‣◦●■►"
# Line breaks are the ones str.splitlines knows. None of these characters occurs in a token.
_MARKS = "\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029,;:!?()\\[\\]|" + BULLETS
# One character class first, so the scan skips plain text quickly; then: a mark, a "." not
# followed by a word character, or a dash with a space on each side.
BOUNDARY_RE = re.compile(
    f"[{_MARKS}.\\-\u2013\u2014](?:(?<=[{_MARKS}])|(?<=\\.)(?!\\w)|(?<= .)(?= ))"
)
CAPITAL_SIGMA = "\u03a3"

PROBES = (
    "Deploy models to production with Kubernetes; monitor model serving and ML pipelines.",
    "Run A/B tests, present statistical insights to stakeholders. SQL, Python, dashboards!",
    "İstanbul: naïve Bayes — données, ML engineer, Straße, ﬁnance",
    "ΟΔΟΣ.Α ΣΟΦΙΑ ΜΑΘΗΣΗ data science",  # noqa: RUF001 (Greek on purpose: final sigma)
    "",
    "the and of to",
    "a b c 1 22 333 x_y __ model_serving",
    "A/B-tests, C++ and C# services, CI/CD; a/bc xa/b abc++ _c# ci/cdx",
    "Node.js and Python 3.5 • machine learning\nmodels - data (statistics) | deep learning",
)


SEPARATOR = "\n"  # between the texts of a chunk: a boundary, and in no token
_STOP = -2  # a stop word's entry in the reader's word index (-1: a word in no feature)


def token_table(text: str) -> tuple[list[str], IntArray, IntArray]:
    """Tokens of ``text`` and where each starts and ends.

    Args:
        text: any string.

    Returns:
        ``(tokens, starts, ends)`` with ``text[starts[i]:ends[i]].lower() == tokens[i]``.
    """
    lowered = text.lower()
    # Every character but "İ" lower-cases to one character of the same \w class, and only
    # capital sigma lower-cases by context; elsewhere the lower-cased text gives the same
    # tokens at the same offsets.
    if len(lowered) == len(text) and CAPITAL_SIGMA not in text:
        pieces = _LOWER_SPLIT_RE.split(lowered)
        tokens = pieces[1::2]
    else:
        pieces = _SPLIT_RE.split(text)
        tokens = [token.lower() for token in pieces[1::2]]
    offsets = _ends(pieces)  # offsets[k]: where piece k ends
    return tokens, offsets[0:-1:2], offsets[1::2]


def _ends(pieces: list[str]) -> IntArray:
    """Where each of the consecutive ``pieces`` ends."""
    return np.fromiter(map(len, pieces), np.int64, len(pieces)).cumsum()


def tokenize(text: str) -> list[str]:
    """The lower-cased tokens of ``text``, stop words included, in order."""
    return token_table(text)[0]


def segments_of(text: str, starts: IntArray) -> IntArray:
    """For tokens of ``text`` starting at ``starts``: how many boundaries lie before each.

    Two tokens are in one sentence or list item when their counts are equal.
    """
    # Each boundary is one character, so the pieces between them give their places.
    pieces = BOUNDARY_RE.split(text)
    marks = _ends(pieces)[:-1] + np.arange(len(pieces) - 1)
    return np.searchsorted(marks, starts)


class Analyzer:
    """Text to n-grams, as the vectorizer counts them; picklable and comparable.

    Args:
        stop_words: tokens dropped before n-grams are formed.
        ngram_range: the smallest and largest n.
    """

    def __init__(self, stop_words: Collection[str], ngram_range: tuple[int, int]) -> None:
        low, high = (int(n) for n in ngram_range)
        if not 1 <= low <= high:
            raise ValueError(f"ngram_range {ngram_range} must be (low, high) with 1 <= low <= high")
        self.stop_words = frozenset(stop_words)
        self.ngram_range = (low, high)
        self._stop = dict.fromkeys(self.stop_words, False)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Analyzer)
            and self.stop_words == other.stop_words
            and self.ngram_range == other.ngram_range
        )

    def __hash__(self) -> int:
        return hash((self.stop_words, self.ngram_range))

    def __repr__(self) -> str:
        return f"Analyzer(<{len(self.stop_words)} stop words>, ngram_range={self.ngram_range})"

    def kept(self, text: str) -> tuple[list[str], IntArray]:
        """The tokens of ``text`` that are not stop words, and each one's segment."""
        tokens, starts, _ = token_table(text)
        # dict.get(token, True) is False exactly for stop words, with no Python step per token.
        mask = list(map(self._stop.get, tokens, repeat(True)))
        return list(compress(tokens, mask)), segments_of(text, starts[np.array(mask, bool)])

    def __call__(self, text: str) -> list[str]:
        """Every n-gram occurrence of ``text``: what the vectorizer counts."""
        tokens, segments = self.kept(text)
        low, high = self.ngram_range
        out: list[str] = []
        for n in range(low, min(high, len(tokens)) + 1):
            joined: Iterable[str] = (
                tokens
                if n == 1
                else map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
            )
            out += compress(joined, (segments[: len(tokens) - n + 1] == segments[n - 1 :]).tolist())
        return out


@dataclass(frozen=True)
class Reading:
    """A chunk of texts read once, as one string: its kept tokens and feature occurrences.

    ``text`` is the texts joined by :data:`SEPARATOR`; text ``d`` starts at ``offsets[d]``
    and holds ``token_counts[d]`` tokens, stop words included. Kept token ``i`` spans
    ``text[starts[i]:ends[i]]`` in sentence or list item ``segments[i]``. Occurrence ``k`` is
    feature ``features[k]`` of text ``doc[k]``, spanning kept tokens ``first[k]`` to
    ``last[k]``; counting features per text gives exactly the vectorizer's term counts.
    """

    text: str
    offsets: IntArray
    token_counts: IntArray
    starts: IntArray
    ends: IntArray
    segments: IntArray
    doc: IntArray
    first: IntArray
    last: IntArray
    features: IntArray


class Reader:
    """Reads chunks of postings into feature occurrences of one model's vocabulary.

    An n-gram is found word by word: its first ``k`` words are a prefix with an index at
    level ``k``, and a prefix followed by a word is looked up among the next level's
    ``(prefix, word)`` keys, sorted, for all positions of the chunk at once.

    Args:
        features: the model's feature texts, by column.
        analyzer: the model's stop words and n-gram range.
    """

    def __init__(self, features: Sequence[str], analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        words = " ".join(features).split(" ")  # a token never holds a space
        index = dict(zip(dict.fromkeys(words), range(len(words)), strict=False))
        self.width = len(index)
        word_ids = np.fromiter(map(index.__getitem__, words), np.int64, len(words))
        lengths = np.fromiter(map(str.count, features, repeat(" ")), np.int64, len(features)) + 1
        begins = np.cumsum(lengths) - lengths
        prefix = word_ids[begins]  # each feature's prefix at the current level
        single = np.flatnonzero(lengths == 1)
        unigrams = np.full(self.width, -1, dtype=np.int64)
        unigrams[prefix[single]] = single
        # levels[k - 1]: the sorted keys of level k and the feature each prefix is, or -1
        self.levels = [(np.zeros(0, dtype=np.int64), unigrams)]
        for n in range(2, int(lengths.max(initial=1)) + 1):
            alive = np.flatnonzero(lengths >= n)
            keys, inverse = np.unique(
                prefix[alive] * self.width + word_ids[begins[alive] + n - 1], return_inverse=True
            )
            feature_of = np.full(len(keys), -1, dtype=np.int64)
            done = lengths[alive] == n
            feature_of[inverse[done]] = alive[done]
            prefix[alive] = inverse
            self.levels.append((keys, feature_of))
        self.lookup = (index | dict.fromkeys(analyzer.stop_words, _STOP)).get

    def read(self, texts: Sequence[str]) -> Reading:
        """Tokenise ``texts`` once, as one string, and find every feature occurrence."""
        text = SEPARATOR.join(texts)
        tokens, starts, ends = token_table(text)
        ids = np.fromiter(map(self.lookup, tokens, repeat(-1)), np.int64, len(tokens))
        sizes = np.fromiter(map(len, texts), np.int64, len(texts)) + len(SEPARATOR)
        offsets = sizes.cumsum() - sizes
        token_counts = np.bincount(
            np.searchsorted(offsets, starts, side="right") - 1, minlength=len(texts)
        )
        kept = ids != _STOP
        ids, starts, ends = ids[kept], starts[kept], ends[kept]
        segments = segments_of(text, starts)
        found = []  # (first, last, feature) of each n's occurrences
        prefix = ids
        low, high = self.analyzer.ngram_range
        for n, (keys, feature_of) in enumerate(self.levels[:high], start=1):
            if n > 1:
                m = len(ids) - n + 1
                if m <= 0 or not len(keys):
                    break
                key = prefix[:m] * self.width + ids[n - 1 :]
                at = np.minimum(keys.searchsorted(key), len(keys) - 1)
                hit = (prefix[:m] >= 0) & (ids[n - 1 :] >= 0) & (keys[at] == key)
                prefix = np.where(hit & (segments[:m] == segments[n - 1 :]), at, -1)
            features = np.where(prefix >= 0, feature_of[prefix], -1)
            where = (features >= 0).nonzero()[0] if n >= low else np.zeros(0, dtype=np.int64)
            found.append((where, where + (n - 1), features[where]))
        first, last, features = (np.concatenate(parts) for parts in zip(*found, strict=True))
        doc = offsets.searchsorted(starts[first], side="right") - 1
        occurrences = doc, first, last, features
        return Reading(text, offsets, token_counts, starts, ends, segments, *occurrences)


def ranges(begins: IntArray, sizes: IntArray) -> IntArray:
    """``begins[0], begins[0] + 1, ...`` (``sizes[0]`` of them), ``begins[1], ...`` as one array."""
    spread: IntArray = (begins - sizes.cumsum() + sizes).repeat(sizes)
    return spread + np.arange(int(sizes.sum()))


class Rows(NamedTuple):
    """TF-IDF rows as the three CSR arrays (sorted column indices in each row)."""

    data: FloatArray
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int32]
    width: int

    def same(self, other: Rows) -> bool:
        """Whether ``other`` holds the same entries, bit for bit."""
        return (
            self.width == other.width
            and np.array_equal(self.indptr, other.indptr)
            and np.array_equal(self.indices, other.indices)
            and np.array_equal(self.data, other.data)
        )


class Counted(NamedTuple):
    """A chunk's TF-IDF rows, and for each feature occurrence its entry and that entry's count."""

    rows: Rows
    entry: IntArray
    counts: IntArray


def counted_rows(
    doc: IntArray, features: IntArray, texts: int, idf: FloatArray, sublinear_tf: bool
) -> Counted:
    """The TF-IDF rows of ``texts`` texts whose feature occurrences are ``features``, each in
    text ``doc`` (a :class:`Reading`'s, or training's pseudo-postings of summed phrases).

    Counts, idf weighting and the L2 norm are the vectorizer's own arithmetic done on the
    arrays: a version's probe rows hold it equal to ``vectorizer.transform`` bit for bit.
    """
    width = len(idf)
    keys, entry, counts = np.unique(doc * width + features, return_inverse=True, return_counts=True)
    indices = (keys % width).astype(np.int32)
    indptr = np.zeros(texts + 1, dtype=np.int32)
    np.cumsum(np.bincount(keys // width, minlength=texts), out=indptr[1:])
    data = counts.astype(np.float64)
    if sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= idf[indices]
    # bincount adds each row's squares in order, as scikit-learn's row normaliser does.
    squares = np.bincount(keys // width, weights=data * data, minlength=texts)
    norms = np.sqrt(squares)
    norms[norms == 0.0] = 1.0
    data /= norms.repeat(indptr[1:] - indptr[:-1])
    return Counted(Rows(data, indices, indptr, width), entry.reshape(-1), counts)
