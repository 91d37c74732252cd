"""The one reading of a posting: tokens with offsets, kept tokens, n-grams, the TF-IDF row.

Tokens are runs of two or more word characters, plus a few role terms that plain word runs
would lose (``A/B``, ``C++``, ``C#``, ``CI/CD``), lower-cased one by one (lower-casing the
whole text first could shift offsets: ``"İ".lower()`` is two characters long). Stop words are
dropped, and the kept tokens are joined into n-grams, **never across a boundary**: a gap
between two tokens is a boundary when it holds a line break, a tab, one of
``, ; : ! ? ( ) [ ] |``, a bullet, a dash standing alone between spaces, or a ``.`` not
directly followed by a word character (``Node.js`` and ``3.5`` hold none; ``work. Our`` does).

:class:`Analyzer` is the training vectorizer's ``analyzer``, so scikit-learn counts exactly
the n-grams that :class:`Reader` finds, with their places in the text, for explanations.
:func:`tfidf_rows` repeats the vectorizer's arithmetic on those counts (counts times idf, each
row divided by its L2 norm, squares summed in order): a model version stores the rows the
vectorizer gave for :data:`PROBES`, and loading compares them bit for bit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
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


def token_table(text: str) -> tuple[list[str], list[int], list[int]]:
    """Tokens of ``text`` and where each starts and ends, as three parallel lists.

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
    offsets = list(accumulate(map(len, pieces)))  # offsets[k]: where piece k ends
    return tokens, offsets[0:-1:2], offsets[1::2]


def tokenize(text: str) -> list[str]:
    """The lower-cased tokens of ``text``, stop words included, in order."""
    return token_table(text)[0]


@dataclass(frozen=True)
class Kept:
    """A posting's kept tokens (stop words removed) and where they are.

    Kept token ``i`` spans ``starts[i]:ends[i]`` of the text and lies in sentence or list
    item ``segments[i]``: two kept tokens are in one segment when no boundary lies between.
    ``token_count`` counts stop words too.
    """

    tokens: list[str]
    starts: list[int]
    ends: list[int]
    segments: IntArray
    token_count: int


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

    def kept(self, text: str) -> Kept:
        """Tokenise ``text``, drop stop words, and find the boundaries between kept tokens."""
        tokens, starts, ends = token_table(text)
        # dict.get(token, True) is False exactly for stop words, with no Python step per token.
        mask = list(map(self._stop.get, tokens, repeat(True)))
        kept = list(compress(tokens, mask))
        kept_starts = list(compress(starts, mask))
        segments = np.zeros(len(kept), dtype=np.int64)
        if len(kept) > 1:
            marks = [match.start() for match in BOUNDARY_RE.finditer(text)]
            if marks:
                # after[b]: how many kept tokens start before boundary b; segments[i] counts
                # the boundaries before token i (constant offsets do not matter).
                after = np.searchsorted(np.asarray(kept_starts), marks)
                segments = np.searchsorted(after, np.arange(len(kept)), side="right")
        return Kept(kept, kept_starts, list(compress(ends, mask)), segments, len(tokens))

    def grams(self, kept: Kept) -> Iterable[tuple[int, IntArray | None, Iterable[str]]]:
        """For each n, the n-grams of ``kept`` that cross no boundary and where they begin.

        Yields:
            ``(n, begins, texts)``: ``begins`` is ``None`` when every position counts.
        """
        tokens, segments = kept.tokens, kept.segments
        crossing = len(tokens) > 1 and segments[0] != segments[-1]
        low, high = self.ngram_range
        for n in range(low, min(high, len(tokens)) + 1):
            joined: Iterable[str] = (
                tokens
                if n == 1
                else map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
            )
            if n == 1 or not crossing:
                yield n, None, joined
            else:
                inside = segments[: len(tokens) - n + 1] == segments[n - 1 :]
                yield n, np.flatnonzero(inside), compress(joined, inside.tolist())

    def __call__(self, text: str) -> list[str]:
        """Every n-gram occurrence of ``text``: what the vectorizer counts."""
        out: list[str] = []
        for _, _, texts in self.grams(self.kept(text)):
            out += texts
        return out


@dataclass(frozen=True)
class Reading:
    """A posting read once: its kept tokens and every feature occurrence in it.

    Occurrence ``k`` is feature ``features[k]`` spanning kept tokens ``first[k]`` to
    ``last[k]``; counting ``features`` gives exactly the vectorizer's term counts.
    """

    kept: Kept
    first: IntArray
    last: IntArray
    features: IntArray

    @property
    def token_count(self) -> int:
        return self.kept.token_count


class Reader:
    """Reads postings into feature occurrences of one model's vocabulary.

    Args:
        vocabulary: feature text to column index.
        analyzer: the model's n-gram settings.
    """

    def __init__(self, vocabulary: Mapping[str, int], analyzer: Analyzer) -> None:
        self.lookup: Callable[[str, int], int | None] = vocabulary.get
        self.analyzer = analyzer

    def read(self, text: str) -> Reading:
        """Tokenise ``text`` once and find every feature occurrence in it."""
        kept = self.analyzer.kept(text)
        firsts, lasts, features = [], [], []
        for n, begins, texts in self.analyzer.grams(kept):
            ids = np.fromiter(map(self.lookup, texts, repeat(-1)), np.int64)
            hits = np.flatnonzero(ids >= 0)
            where = hits if begins is None else begins[hits]
            firsts.append(where)
            lasts.append(where + (n - 1))
            features.append(ids[hits])
        return Reading(kept, _joined(firsts), _joined(lasts), _joined(features))


def _joined(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class Rows(NamedTuple):
    """TF-IDF rows as the three CSR arrays (sorted column indices in each row)."""

    data: FloatArray
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int32]
    width: int


def tfidf_rows(ids_per_text: Sequence[npt.ArrayLike], idf: FloatArray, sublinear_tf: bool) -> Rows:
    """TF-IDF rows from each text's feature indices (one per occurrence; -1: unknown).

    Counts, idf weighting and the L2 norm are the vectorizer's own arithmetic done on the
    arrays: a version's probe rows hold it equal to ``vectorizer.transform`` bit for bit.
    """
    width = len(idf)
    parts = [np.asarray(ids, dtype=np.int64) for ids in ids_per_text]
    columns = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(parts), dtype=np.int64), [len(ids) for ids in parts])
    known = columns >= 0
    keys, counts = np.unique(rows[known] * width + columns[known], return_counts=True)
    indices = (keys % width).astype(np.int32)
    indptr = np.zeros(len(parts) + 1, dtype=np.int32)
    np.cumsum(np.bincount(keys // width, minlength=len(parts)), out=indptr[1:])
    data = counts.astype(np.float64)
    if sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    data *= idf[indices]
    # bincount adds each row's squares in order, as scikit-learn's row normaliser does.
    squares = np.bincount(keys // width, weights=data * data, minlength=len(parts))
    norms = np.sqrt(squares)
    norms[norms == 0.0] = 1.0
    data /= np.repeat(norms, np.diff(indptr))
    return Rows(data, indices, indptr, width)


def same_rows(left: Rows, right: Rows) -> bool:
    """Whether two sets of rows hold the same entries, bit for bit."""
    return (
        left.width == right.width
        and np.array_equal(left.indptr, right.indptr)
        and np.array_equal(left.indices, right.indices)
        and np.array_equal(left.data, right.data)
    )
