"""RoleClassifier: the one model object the service, the command line and batch use.

It computes from the version's arrays alone (``classifier.weights``): numpy, no scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from classifier.artifacts import load_current, load_version
from classifier.errors import ArtifactError, InvalidPosting
from classifier.explain import explain
from classifier.labels import LABELS, NEITHER, TrainingPhrase
from classifier.prediction import Evidence, Phrase, Prediction, Score, SimilarPhrase
from classifier.reading import PROBES, Counted, Reader, Reading, Rows, counted_rows, ranges
from classifier.weights import LinearModel

STRENGTHS = ("clear", "moderate", "mixed")
DEFAULT_BAND = {"mixed": [0.4, 0.6], "clear": [0.2, 0.8]}
DEFAULT_EVIDENCE = {"role_weight": 0.5, "min_role_terms": 10}
SMOKE_TEXTS = (
    "Deploy machine learning models to production with Docker and Kubernetes.",
    "Analyze data, run A/B tests and present statistical insights to stakeholders.",
)


def balance_of(
    toward_one: npt.NDArray[np.float64], toward_other: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """How evenly a posting's evidence is split: the smaller side's weight over the larger's.

    0 when every contribution points one way, 1 when both ways weigh the same, and 1 for a
    posting with no evidence at all (nothing in it is one-sided). Training and serving both
    use this one definition.
    """
    larger = np.maximum(toward_one, toward_other)
    ratio = np.minimum(toward_one, toward_other) / np.maximum(larger, np.finfo(np.float64).tiny)
    balance: npt.NDArray[np.float64] = np.where(larger > 0, ratio, 1.0)
    return balance


def strength_of(p_ml: float, band: dict[str, Any], balance: float = 0.0) -> str:
    """How clear a call is.

    ``mixed`` inside the mixed band of P(ml_engineering); ``clear`` outside the clear band
    when the posting's evidence is also lopsided enough (``balance``, see
    :func:`balance_of`, below the band's ``clear_balance``; a model without one does not
    check); else ``moderate``.
    """
    mixed_low, mixed_high = band["mixed"]
    clear_low, clear_high = band["clear"]
    if mixed_low <= p_ml <= mixed_high:
        return "mixed"
    if (p_ml <= clear_low or p_ml >= clear_high) and balance < band.get("clear_balance", 1.0):
        return "clear"
    return "moderate"


class RoleClassifier:
    """Classifies postings with one verified model version and explains every call.

    Args:
        model: the version's vocabulary, idf weights and coefficients.
        card: the version's card (band edges and evidence thresholds are read from it).
        phrases: the training phrases, for ``similar_phrases``.
        max_phrases: how many key and counter phrases each prediction lists.

    Raises:
        ArtifactError: this reading of the probe texts differs from the vectorizer's own
            rows stored with the model, so features (and every answer) would differ.
    """

    def __init__(
        self,
        model: LinearModel,
        card: dict[str, Any],
        phrases: Sequence[TrainingPhrase],
        max_phrases: int = 10,
    ) -> None:
        self.model = model
        self.card = card
        self.version = str(card.get("version", "unversioned"))
        self.classes = model.classes
        self.coef = model.coef
        self.reader = Reader(model.features, model.analyzer)
        self.band: dict[str, Any] = card.get("strength_band", DEFAULT_BAND)
        self.evidence_rules: dict[str, float] = card.get("evidence", DEFAULT_EVIDENCE)
        self.max_phrases = max_phrases
        if not self._features(PROBES)[1].rows.same(self.model.probes):
            raise ArtifactError(
                f"model version {self.version!r}: this rolelens reads the probe texts "
                "differently from the vectorizer the model was trained with, so its answers "
                "would differ; refusing to load it. Retrain with `rolelens train`"
            )
        self.phrases = tuple(phrases)
        # The phrases' entries by column: for each feature, which phrases hold it and how much.
        rows = self._features([p.text for p in self.phrases])[1].rows
        by_column = np.argsort(rows.indices, kind="stable")
        columns = rows.indices[by_column]
        self._phrase_columns = np.searchsorted(columns, np.arange(len(self.coef) + 1))
        owner = np.repeat(np.arange(len(self.phrases)), np.diff(rows.indptr))
        self._phrase_of_entry, self._phrase_data = owner[by_column], rows.data[by_column]
        self._role = (np.abs(self.coef) >= self.evidence_rules["role_weight"]).astype(np.float64)

    def _features(self, texts: Sequence[str]) -> tuple[Reading, Counted]:
        """The texts read once, as one chunk, and their TF-IDF rows from that reading."""
        reading = self.reader.read(texts)
        counts = len(reading.offsets), self.model.idf, self.model.sublinear_tf
        return reading, counted_rows(reading.doc, reading.features, *counts)

    @classmethod
    def from_registry(cls, home: Path, version: str | None = None) -> RoleClassifier:
        """Load ``version`` (default: the serving one) from the registry under ``home``.

        Raises:
            ModelNotFound: no model, or no such version.
            ArtifactError: the version fails a check (checksum, format, library version,
                probe texts).
        """
        loaded = load_current(home) if version is None else load_version(home, version)
        return cls(loaded.model, loaded.card, loaded.phrases)

    def smoke_test(self) -> None:
        """Classify a few fixed texts; raise if the answers are malformed.

        Raises:
            ArtifactError: a prediction has an unknown label, or probabilities that are not
                numbers adding up to 1.
        """
        for prediction in self.classify_many(SMOKE_TEXTS):
            total = sum(prediction.probability.values())
            if prediction.label not in LABELS or not abs(total - 1.0) <= 1e-6:
                raise ArtifactError(
                    f"smoke test failed for version {self.version}: {prediction.label!r}, "
                    f"probabilities {prediction.probability}; retrain or roll back"
                )

    def classify(self, text: str) -> Prediction:
        """Classify one posting; see :meth:`classify_many`."""
        return self.classify_many([text])[0]

    def classify_many(
        self,
        texts: Iterable[str],
        chunk_size: int = 256,
        *,
        key_phrases: int | None = None,
        counter_phrases: int | None = None,
        similar: bool = True,
    ) -> list[Prediction]:
        """Classify postings, read, scored and explained a chunk of ``chunk_size`` at a time.

        Args:
            texts: posting texts (any length; empty is allowed and gets a warning).
            chunk_size: texts handled together.
            key_phrases: how many key phrases each prediction lists (default
                ``max_phrases``); they are always the first of the full list.
            counter_phrases: the same for counter phrases.
            similar: whether to find the training phrases closest to each posting (without,
                ``similar_phrases`` is empty).

        Returns:
            One :class:`Prediction` per text, in order.

        Raises:
            InvalidPosting: a text is not a string.
        """
        batch = list(texts)
        for position, text in enumerate(batch):
            if not isinstance(text, str):
                raise InvalidPosting(
                    f"posting {position} is {type(text).__name__}, not text; send a string"
                )
        limits = (
            self.max_phrases if key_phrases is None else key_phrases,
            self.max_phrases if counter_phrases is None else counter_phrases,
        )
        chunks = (batch[at : at + chunk_size] for at in range(0, len(batch), chunk_size))
        return [p for chunk in chunks for p in self._classify_chunk(chunk, limits, similar)]

    def _classify_chunk(
        self, texts: list[str], limits: tuple[int, int], similar: bool
    ) -> list[Prediction]:
        reading, counted = self._features(texts)
        # The model's own arithmetic on the CSR arrays: x_j·w_j for every stored feature, per
        # row sums (the decision function less the bias), then the logistic function.
        data, indices, indptr = counted.rows.data, counted.rows.indices, counted.rows.indptr
        values = data * self.coef[indices]
        rows = np.arange(len(texts)).repeat(indptr[1:] - indptr[:-1])
        sums = np.bincount(rows, weights=values, minlength=len(texts))
        logits = sums + self.model.intercept
        with np.errstate(over="ignore"):  # exp overflows to inf for logits below -709: p = 0
            p_positive = 1.0 / (1.0 + np.exp(-logits))
        role_counts = np.bincount(rows, weights=self._role[indices], minlength=len(texts))
        # Per row, the positive contributions' sum (even bins) and the negative ones' (odd).
        side = 2 * rows + (values < 0)
        sides = np.asarray(np.bincount(side, np.abs(values), minlength=2 * len(texts)), float)
        toward_ml, toward_ds = sides[0::2], sides[1::2]
        weights = (toward_ml + toward_ds).tolist()
        balances = balance_of(toward_ml, toward_ds).tolist()
        share = values[counted.entry] / counted.counts[counted.entry]
        phrases, covered = explain(
            reading, share, self.model.features, self.classes, p_positive >= 0.5, limits
        )
        close = self._similar(counted.rows, rows) if similar else [()] * len(texts)
        negative, positive = self.classes
        tokens, known = reading.token_counts.tolist(), np.diff(indptr).tolist()
        roles = role_counts.astype(int).tolist()
        predictions = []
        for row, p in enumerate(p_positive.tolist()):
            label = positive if p >= 0.5 else negative
            evidence = self._evidence(
                tokens[row], int(covered[row]), known[row], roles[row], weights[row], balances[row]
            )
            predictions.append(
                Prediction(
                    label=label,
                    verdict=NEITHER if evidence.warning else label,
                    probability={negative: 1.0 - p, positive: p},
                    strength=strength_of(p, self.band, balances[row]),
                    # explain() kept the number of phrases asked for each way
                    key_phrases=tuple(x for x in phrases[row] if x.toward == label),
                    counter_phrases=tuple(x for x in phrases[row] if x.toward != label),
                    score=Score(float(logits[row]), self.model.intercept, float(sums[row])),
                    evidence=evidence,
                    similar_phrases=close[row],
                    model_version=self.version,
                )
            )
        return predictions

    def _evidence(
        self, tokens: int, covered: int, known: int, role_terms: int, weight: float, balance: float
    ) -> Evidence:
        coverage = round(covered / tokens, 4) if tokens else 0.0
        rules = self.evidence_rules
        warning = None
        if tokens == 0:
            warning = "the posting has no words to read; paste the job description"
        elif "min_weight" in rules and weight < rules["min_weight"]:
            warning = (
                f"the posting's words weigh {weight:.1f} in all, less than the "
                f"{rules['min_weight']:.1f} of nearly any data-science or ML-engineering "
                "posting; this is probably neither role, so the leaning means little"
            )
        elif "min_weight" not in rules and role_terms < rules["min_role_terms"]:
            warning = (
                f"only {role_terms} of the posting's words are data-science or "
                "ML-engineering vocabulary; this may not be either role, so the call "
                "means little"
            )
        return Evidence(
            known, role_terms, tokens, coverage, round(weight, 4), round(balance, 4), warning
        )

    def _similar(
        self, rows: Rows, row_of_entry: npt.NDArray[np.int64], k: int = 3
    ) -> list[tuple[SimilarPhrase, ...]]:
        """For each TF-IDF row, the ``k`` training phrases closest to it (cosine)."""
        texts = len(rows.indptr) - 1
        if not self.phrases:
            return [()] * texts
        # Every (row entry, phrase entry) pair of one feature; each pair's products are summed
        # per (row, phrase) in column order, as a dot product of the two rows adds them.
        first = self._phrase_columns[rows.indices]
        many = self._phrase_columns[rows.indices + 1] - first
        pairs = ranges(first, many)
        count = len(self.phrases)
        scores = np.bincount(
            row_of_entry.repeat(many) * count + self._phrase_of_entry[pairs],
            weights=self._phrase_data[pairs] * rows.data.repeat(many),
            minlength=texts * count,
        )
        close = np.flatnonzero(scores > 0)  # by row, then phrase: ties keep phrase order
        close = close[np.lexsort((-scores[close], close // count))]
        row = close // count
        close = close[np.arange(len(close)) - row.searchsorted(row) < k]
        found: list[list[SimilarPhrase]] = [[] for _ in range(texts)]
        for at, score in zip(close.tolist(), scores[close].tolist(), strict=True):
            p = self.phrases[at % count]
            found[at // count].append(SimilarPhrase(p.text, p.label, p.source, round(score, 4)))
        return [tuple(f) for f in found]

    def all_phrases(self, text: str) -> tuple[Phrase, ...]:
        """Every phrase of ``text`` with its weight, untruncated (for audits and tests)."""
        every = len(text)  # more than any posting's phrases
        answer = self.classify_many([text], key_phrases=every, counter_phrases=every, similar=False)
        # Strongest first, the first to appear first: explain()'s order.
        phrases = answer[0].key_phrases + answer[0].counter_phrases
        return tuple(sorted(phrases, key=lambda p: (-abs(p.weight), p.spans[0][0])))
