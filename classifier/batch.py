"""Vectorised scoring of many postings at once, for batch files and batch requests.

:class:`BatchScorer` gives, for a chunk of texts, exactly the label, probability and strength
that :meth:`classifier.model.RoleClassifier.classify` gives for each text alone (same
pipeline, same rows: scikit-learn scores rows independently), plus the top key phrases. It
skips what a CSV row does not show (spans, counter phrases, similar training phrases), and it
finds the key phrases with sparse-matrix operations over the whole chunk:

1. ``X = vectorizer.transform(texts)`` once; contributions ``X·w`` are ``X.data * w[X.indices]``
   (the same values as ``X.multiply(w)``, without building a second matrix structure);
2. each row's contributions are signed toward its own label, and one ``lexsort`` by
   (row, -signed contribution) ranks every row's terms at once; the first few per row that
   push toward the label are kept;
3. only those few terms per row are turned into readable wording (:mod:`classifier.phrasing`).

A term whose tokens lie inside a stronger kept term (``deploy`` under ``deploy models``) is
folded into it, as the single-posting explanation merges overlapping n-grams.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.pipeline import Pipeline

from classifier.artifacts import LoadedVersion
from classifier.features import fast_counts_for
from classifier.model import DEFAULT_BAND, strength_of
from classifier.phrasing import TermLocator

KEY_PHRASES = 5
CANDIDATES = 10  # terms ranked per row before folding those that share words

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScoredRow:
    """One posting's batch result: what a CSV row shows."""

    label: str
    probability_ml_engineering: float
    strength: str
    key_phrases: tuple[str, ...]


def top_terms(
    features: sparse.csr_matrix, coef: FloatArray, toward_positive: npt.NDArray[np.bool_], k: int
) -> list[list[int]]:
    """The ``k`` features of each row that push hardest toward that row's label.

    Args:
        features: TF-IDF rows, CSR.
        coef: the model's coefficients (positive pushes toward ``classes_[1]``).
        toward_positive: per row, whether its label is ``classes_[1]``.
        k: how many terms per row at most.

    Returns:
        Per row, feature indices strongest first (only terms with a positive push).
    """
    indptr = features.indptr
    rows = features.shape[0]
    lengths = np.diff(indptr)
    row_of = np.repeat(np.arange(rows), lengths)
    sign = np.where(toward_positive, 1.0, -1.0)
    signed = features.data * coef[features.indices] * sign[row_of]
    pushing = np.flatnonzero(signed > 0)  # positions in CSR order, rows still contiguous
    push_rows = row_of[pushing]
    order = pushing[np.lexsort((-signed[pushing], push_rows))]
    starts = np.searchsorted(push_rows, np.arange(rows + 1))
    rank = np.arange(len(order)) - starts[push_rows]
    keep = order[rank < k]
    bounds = np.searchsorted(row_of[keep], np.arange(rows + 1))
    kept_features = features.indices[keep].tolist()
    return [kept_features[bounds[r] : bounds[r + 1]] for r in range(rows)]


def top_terms_naive(
    features: sparse.csr_matrix, coef: FloatArray, toward_positive: npt.NDArray[np.bool_], k: int
) -> list[list[int]]:
    """Reference for :func:`top_terms`: a Python loop over every feature of every row.

    Kept for the tests and the benchmark that check and time the vectorised version.
    """
    out = []
    for row in range(features.shape[0]):
        sign = 1.0 if toward_positive[row] else -1.0
        lo, hi = features.indptr[row], features.indptr[row + 1]
        pushes = []
        for position in range(lo, hi):
            index = int(features.indices[position])
            value = float(features.data[position]) * float(coef[index]) * sign
            if value > 0:
                pushes.append((-value, position - lo, index))
        pushes.sort()
        out.append([index for _, _, index in pushes[:k]])
    return out


def fold_terms(candidates: Sequence[int], tokens: Sequence[frozenset[str]], k: int) -> list[int]:
    """Pick ``k`` phrases from ranked terms, folding terms that share their words.

    A term whose tokens lie inside a kept term is dropped (``deploy`` after
    ``deploy models``); a term that holds kept terms takes the place of the first of them
    and the others go (``deploy models`` after ``deploy`` and ``models``). Once ``k`` are
    kept, later terms can still widen a kept one but not add a new one.

    Args:
        candidates: feature indices, strongest first.
        tokens: per feature index, the set of its tokens.
        k: how many phrases at most.

    Returns:
        Feature indices, at most ``k``, in the order of their first kept place.
    """
    kept: list[int] = []
    for index in candidates:
        words = tokens[index]
        absorbed = -1
        skip = False
        for place, held in enumerate(kept):
            held_words = tokens[held]
            if words <= held_words:
                skip = True
                break
            if held_words <= words:
                if absorbed < 0:
                    absorbed = place
                    kept[place] = index
                else:
                    kept[place] = -1
        if skip:
            continue
        if absorbed >= 0:
            kept = [held for held in kept if held >= 0]
        elif len(kept) < k:
            kept.append(index)
    return kept


class BatchScorer:
    """Scores chunks of postings with one model version.

    Args:
        pipeline: the fitted ``Pipeline`` (TF-IDF vectorizer + binary linear model).
        card: the version's card (version name and strength band edges).
        key_phrases: how many key phrases each row gets.
    """

    def __init__(self, pipeline: Pipeline, card: dict[str, Any], key_phrases: int = KEY_PHRASES):
        self.pipeline = pipeline
        self.vectorizer = pipeline[0]
        self.model = pipeline[-1]
        self.version = str(card.get("version", "unversioned"))
        self.classes: tuple[str, str] = (str(self.model.classes_[0]), str(self.model.classes_[1]))
        self.coef: FloatArray = np.asarray(self.model.coef_[0], dtype=np.float64)
        self.band: dict[str, list[float]] = card.get("strength_band", DEFAULT_BAND)
        self.key_phrases = key_phrases
        self.feature_names: list[str] = self.vectorizer.get_feature_names_out().tolist()
        self.term_tokens = [frozenset(name.split(" ")) for name in self.feature_names]
        self.fast = fast_counts_for(self.vectorizer)
        self.locator = TermLocator(self.vectorizer.get_stop_words() or ())

    @classmethod
    def from_loaded(cls, loaded: LoadedVersion) -> BatchScorer:
        """Build from a verified version (see :func:`classifier.artifacts.load_version`)."""
        return cls(loaded.pipeline, loaded.card)

    def score(self, texts: Sequence[str]) -> list[ScoredRow]:
        """Score a chunk of postings.

        Args:
            texts: posting texts; empty strings are scored too (callers flag them first).

        Returns:
            One :class:`ScoredRow` per text, in order.
        """
        if not texts:
            return []
        if self.fast is not None:
            features = self.fast.transform(texts)
        else:
            features = sparse.csr_matrix(self.vectorizer.transform(texts))
        p_ml = np.asarray(self.model.predict_proba(features), dtype=np.float64)[:, 1]
        toward_positive = p_ml >= 0.5
        candidates = top_terms(features, self.coef, toward_positive, CANDIDATES)
        positive, negative = self.classes[1], self.classes[0]
        out = []
        for text, p, is_positive, indices in zip(
            texts, p_ml.tolist(), toward_positive.tolist(), candidates, strict=True
        ):
            kept = fold_terms(indices, self.term_tokens, self.key_phrases)
            terms = [self.feature_names[i] for i in kept]
            out.append(
                ScoredRow(
                    label=positive if is_positive else negative,
                    probability_ml_engineering=p,
                    strength=strength_of(p, self.band),
                    key_phrases=tuple(self.locator.locate(text, t) for t in terms),
                )
            )
        return out
