"""The model's TF-IDF features for many postings, computed faster and bit-for-bit the same.

Profiling a batch showed ``vectorizer.transform`` at about nine tenths of the time, nearly all
of it Python work per token: :func:`classifier.text.tokenize` calls ``group()`` and
``lower()`` on every match, and scikit-learn's analyzer joins n-grams and counts features
one at a time. :class:`FastCounts` computes the same count matrix with fewer Python steps:

- ``findall`` on ``text.lower()`` gives exactly the tokens of ``tokenize(text)`` when
  lower-casing the whole text keeps its length (only "İ" grows) and the text has no capital
  sigma (the one character whose lower case depends on what follows it): every other
  character lower-cases one-to-one and keeps its ``\\w`` class (checked over all of
  Unicode), so matches and offsets agree. Other postings use ``tokenize`` itself;
- n-grams are joined with ``map``/``zip`` and looked up with ``map(vocabulary.get, …)``;
- counts for the whole chunk come from one ``np.unique`` over (row, feature) keys;

then applies the vectorizer's own TF-IDF arithmetic (counts times ``idf_``, each row divided
by its L2 norm, squares summed in the same order) to the arrays, so the weights, and
therefore every probability, are those of ``vectorizer.transform`` bit for bit.
:func:`fast_counts_for` offers this only for the vectorizer configuration rolelens trains
and only after checking, on probe texts, that both paths give identical matrices; otherwise
it returns ``None`` and callers use ``vectorizer.transform``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse

from classifier.text import LOWER_TOKEN_RE, tokenize

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
)


class Rows(NamedTuple):
    """TF-IDF rows as the three CSR arrays, for callers that need no scipy matrix."""

    data: npt.NDArray[np.float64]
    indices: npt.NDArray[np.int32]
    indptr: npt.NDArray[np.int32]
    width: int

    @classmethod
    def of(cls, matrix: Any) -> Rows:
        """The arrays of a scipy sparse matrix (made CSR with sorted indices)."""
        csr = sparse.csr_matrix(matrix)
        csr.sort_indices()
        return cls(csr.data, csr.indices, csr.indptr, csr.shape[1])

    def matrix(self) -> sparse.csr_matrix:
        """The same rows as a scipy CSR matrix."""
        shape = (len(self.indptr) - 1, self.width)
        return sparse.csr_matrix((self.data, self.indices, self.indptr), shape=shape)


class FastCounts:
    """Computes ``vectorizer.transform(texts)`` for a rolelens TF-IDF vectorizer.

    Args:
        vectorizer: a fitted ``TfidfVectorizer`` using :func:`classifier.text.tokenize`.
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.stop_words = frozenset(vectorizer.get_stop_words() or ())
        self.ngram_range: tuple[int, int] = tuple(vectorizer.ngram_range)
        self.width = len(self.vocabulary)
        self.idf: np.ndarray[Any, np.dtype[np.float64]] = np.asarray(vectorizer.idf_)
        self.sublinear_tf = bool(vectorizer.sublinear_tf)

    def _features(self, text: str) -> list[str]:
        lowered = text.lower()
        if len(lowered) == len(text) and CAPITAL_SIGMA not in text:
            tokens = LOWER_TOKEN_RE.findall(lowered)
        else:
            tokens = tokenize(text)
        stop = self.stop_words
        tokens = [token for token in tokens if token not in stop]
        low, high = self.ngram_range
        features = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high + 1, len(tokens) + 1)):
            features += map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
        return features

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF rows of ``texts``, equal to ``vectorizer.transform(texts)``.

        Args:
            texts: posting texts.

        Returns:
            A CSR matrix with sorted indices, one row per text.
        """
        get = self.vocabulary.get
        return self.from_ids([[get(f, -1) for f in self._features(text)] for text in texts])

    def from_ids(self, ids_per_text: Sequence[npt.ArrayLike]) -> sparse.csr_matrix:
        """:meth:`rows` as a scipy CSR matrix."""
        return self.rows(ids_per_text).matrix()

    def rows(self, ids_per_text: Sequence[npt.ArrayLike]) -> Rows:
        """TF-IDF rows from each text's feature indices (one per occurrence; -1: unknown).

        Counts, idf weighting and the L2 norm are the vectorizer's own arithmetic done on
        the arrays (``fast_counts_for`` checks the result equals ``transform`` bit for bit,
        and only configurations it can reproduce get here).
        """
        parts = [np.asarray(ids, dtype=np.int64) for ids in ids_per_text]
        columns = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(parts), dtype=np.int64), [len(ids) for ids in parts])
        known = columns >= 0
        keys, counts = np.unique(rows[known] * self.width + columns[known], return_counts=True)
        indices = (keys % self.width).astype(np.int32)
        indptr = np.zeros(len(ids_per_text) + 1, dtype=np.int32)
        np.cumsum(np.bincount(keys // self.width, minlength=len(ids_per_text)), out=indptr[1:])
        data = counts.astype(np.float64)
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf[indices]
        # bincount adds each row's squares in order, as scikit-learn's row normaliser does.
        squares = np.bincount(keys // self.width, weights=data * data, minlength=len(parts))
        norms = np.sqrt(squares)
        norms[norms == 0.0] = 1.0
        data /= np.repeat(norms, np.diff(indptr))
        return Rows(data, indices, indptr, self.width)


def same_matrix(left: Any, right: Any) -> bool:
    """Whether two sparse matrices hold the same entries, bit for bit."""
    left, right = sparse.csr_matrix(left), sparse.csr_matrix(right)
    left.sort_indices()
    right.sort_indices()
    return (
        left.shape == right.shape
        and np.array_equal(left.indptr, right.indptr)
        and np.array_equal(left.indices, right.indices)
        and np.array_equal(left.data, right.data)
    )


def fast_counts_for(
    vectorizer: Any, reading: Callable[[str], npt.ArrayLike] | None = None
) -> FastCounts | None:
    """A :class:`FastCounts` when it reproduces ``vectorizer`` exactly, else ``None``.

    Args:
        vectorizer: the pipeline's fitted vectorizer.
        reading: another way of finding a text's feature indices (one per occurrence) that
            callers will feed to :meth:`FastCounts.rows`; it must count exactly what the
            vectorizer counts on the probe texts too.

    Returns:
        The fast path, or ``None`` when the vectorizer is configured differently from what
        rolelens trains or the probe texts give any difference.
    """
    expected = {
        "analyzer": "word",
        "tokenizer": tokenize,
        "preprocessor": None,
        "lowercase": False,
        "strip_accents": None,
        "binary": False,
        "input": "content",
        "norm": "l2",
        "use_idf": True,
    }
    try:
        params = vectorizer.get_params()
        if any(
            params.get(key) is not value and params.get(key) != value
            for key, value in expected.items()
        ):
            return None
        if not hasattr(vectorizer, "_tfidf"):
            return None
        fast = FastCounts(vectorizer)
        expected_matrix = vectorizer.transform(PROBES)
        if not same_matrix(fast.transform(PROBES), expected_matrix):
            return None
        if reading is not None and not same_matrix(
            fast.from_ids([reading(probe) for probe in PROBES]), expected_matrix
        ):
            return None
    except (AttributeError, TypeError, ValueError):
        return None
    return fast
