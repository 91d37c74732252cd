"""RoleClassifier: the one inference class everything else depends on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import expit
from sklearn.pipeline import Pipeline

from classifier.artifacts import LoadedVersion, TrainingPhrase, load_current, load_version
from classifier.errors import InvalidPosting
from classifier.explain import Analysis, Explanation, Reader, explain
from classifier.features import Rows, fast_counts_for
from classifier.labels import NEITHER
from classifier.prediction import Evidence, Phrase, Prediction, Score, SimilarPhrase

STRENGTHS = ("clear", "moderate", "mixed")
DEFAULT_BAND = {"mixed": [0.4, 0.6], "clear": [0.2, 0.8]}
DEFAULT_EVIDENCE = {"role_weight": 0.5, "min_role_terms": 10}


def strength_of(p_ml: float, band: dict[str, Any], balance: float = 0.0) -> str:
    """How clear a call is.

    ``mixed`` inside the mixed band of P(ml_engineering); ``clear`` outside the clear band
    when the posting's evidence is also lopsided enough (``balance``, the weight pushing
    against the leaning over the weight pushing toward it, below the band's
    ``clear_balance``; a model without one does not check); else ``moderate``.
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
        pipeline: a fitted ``Pipeline`` of a ``TfidfVectorizer`` and a binary linear model.
        card: the version's card (band edges and evidence thresholds are read from it).
        phrases: the training phrases, for ``similar_phrases``.
        max_phrases: how many key and counter phrases each prediction lists.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        card: dict[str, Any],
        phrases: Sequence[TrainingPhrase],
        max_phrases: int = 10,
    ) -> None:
        self.pipeline = pipeline
        self.card = card
        self.version = str(card.get("version", "unversioned"))
        self.vectorizer = pipeline[0]
        self.model = pipeline[-1]
        negative, positive = (str(c) for c in self.model.classes_)
        self.classes = (negative, positive)
        self.coef: npt.NDArray[np.float64] = np.asarray(self.model.coef_[0], dtype=np.float64)
        self.bias = float(self.model.intercept_[0])
        self.vocabulary: dict[str, int] = self.vectorizer.vocabulary_
        self.feature_names: list[str] = list(self.vectorizer.get_feature_names_out())
        self.stop_words: frozenset[str] = frozenset(self.vectorizer.get_stop_words() or ())
        self.ngram_range: tuple[int, int] = tuple(self.vectorizer.ngram_range)
        self.reader = Reader(self.vocabulary, self.stop_words, self.ngram_range)
        self.band: dict[str, Any] = card.get("strength_band", DEFAULT_BAND)
        self.evidence_rules: dict[str, float] = card.get("evidence", DEFAULT_EVIDENCE)
        self.max_phrases = max_phrases
        self.phrases = tuple(phrases)
        self._phrase_matrix = sparse.csr_matrix(
            self.vectorizer.transform([p.text for p in self.phrases])
        )
        # Features come from the explanation's own reading when it counts what the vectorizer
        # counts (checked on probe texts); otherwise from the vectorizer's transform.
        self.fast = fast_counts_for(self.vectorizer, lambda text: self.reader.read(text).features)
        self._role = (np.abs(self.coef) >= self.evidence_rules["role_weight"]).astype(np.float64)

    @classmethod
    def from_loaded(cls, loaded: LoadedVersion) -> RoleClassifier:
        """Build from a verified registry version."""
        return cls(loaded.pipeline, loaded.card, loaded.phrases)

    @classmethod
    def from_registry(cls, home: Path, version: str | None = None) -> RoleClassifier:
        """Load ``version`` (default: the serving one) from the registry under ``home``.

        Raises:
            ModelNotFound: no model, or no such version.
            ArtifactError: the version fails its checksum or scikit-learn version check.
        """
        loaded = load_current(home) if version is None else load_version(home, version)
        return cls.from_loaded(loaded)

    def classify(self, text: str) -> Prediction:
        """Classify one posting; see :meth:`classify_many`."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Iterable[str], chunk_size: int = 256) -> list[Prediction]:
        """Classify postings, vectorised over sparse chunks of ``chunk_size`` rows.

        Args:
            texts: posting texts (any length; empty is allowed and gets a warning).
            chunk_size: rows transformed together.

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
        results: list[Prediction] = []
        for begin in range(0, len(batch), chunk_size):
            results.extend(self._classify_chunk(batch[begin : begin + chunk_size]))
        return results

    def _features(self, texts: list[str]) -> tuple[list[Analysis], Rows]:
        """Each text read once; its TF-IDF row built from the same reading when possible."""
        analyses = [self.reader.read(text) for text in texts]
        if self.fast is None:
            return analyses, Rows.of(self.vectorizer.transform(texts))
        return analyses, self.fast.rows([a.features for a in analyses])

    def _classify_chunk(self, texts: list[str]) -> list[Prediction]:
        analyses, features = self._features(texts)
        # The model's own arithmetic on the CSR arrays: x_j·w_j for every stored feature, per
        # row sums (decision_function less the bias), then expit for the positive class.
        # scikit-learn's input validation and scipy's matrix construction cost more than this.
        data, indices, indptr = features.data, features.indices, features.indptr
        values = data * self.coef[indices]
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        sums = np.bincount(rows, weights=values, minlength=len(texts))
        logits = sums + self.bias
        p_positive = expit(logits)
        role_counts = np.bincount(rows, weights=self._role[indices], minlength=len(texts))
        toward_ml = np.bincount(rows, weights=np.maximum(values, 0.0), minlength=len(texts))
        toward_ds = -np.bincount(rows, weights=np.minimum(values, 0.0), minlength=len(texts))
        total = toward_ml + toward_ds
        balance = np.minimum(toward_ml, toward_ds) / np.maximum(
            np.maximum(toward_ml, toward_ds), np.finfo(np.float64).tiny
        )
        dense = np.zeros(len(self.coef))
        out = []
        for row, text in enumerate(texts):
            lo, hi = indptr[row], indptr[row + 1]
            where = indices[lo:hi]
            dense[where] = data[lo:hi]
            similar = self._similar(dense)
            dense[where] = values[lo:hi]
            explanation = explain(
                text, analyses[row], dense, self.feature_names, self.classes, self.max_phrases
            )
            dense[where] = 0.0
            out.append(
                self._prediction(
                    explanation,
                    {
                        self.classes[0]: float(1.0 - p_positive[row]),
                        self.classes[1]: float(p_positive[row]),
                    },
                    Score(float(logits[row]), self.bias, float(sums[row])),
                    known_terms=int(hi - lo),
                    role_terms=int(role_counts[row]),
                    weight=float(total[row]),
                    balance=float(balance[row]),
                    similar=similar,
                )
            )
        return out

    def _prediction(
        self,
        explanation: Explanation,
        probability: dict[str, float],
        score: Score,
        *,
        known_terms: int,
        role_terms: int,
        weight: float,
        balance: float,
        similar: tuple[SimilarPhrase, ...],
    ) -> Prediction:
        positive = self.classes[1]
        label = positive if probability[positive] >= 0.5 else self.classes[0]
        toward = [p for p in explanation.phrases if p.toward == label]
        against = [p for p in explanation.phrases if p.toward != label]
        evidence = self._evidence(explanation, known_terms, role_terms, weight, balance)
        return Prediction(
            label=label,
            verdict=NEITHER if evidence.warning else label,
            probability=probability,
            strength=strength_of(probability[positive], self.band, balance),
            key_phrases=tuple(toward),  # explain() kept max_phrases each way
            counter_phrases=tuple(against),
            score=score,
            evidence=evidence,
            similar_phrases=similar,
            model_version=self.version,
        )

    def _evidence(
        self, explanation: Explanation, known: int, role_terms: int, weight: float, balance: float
    ) -> Evidence:
        tokens = explanation.token_count
        coverage = explanation.covered_tokens / tokens if tokens else 0.0
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
            known,
            role_terms,
            tokens,
            round(coverage, 4),
            round(weight, 4),
            round(balance, 4),
            warning,
        )

    def _similar(self, x: npt.NDArray[np.float64], k: int = 3) -> tuple[SimilarPhrase, ...]:
        """The ``k`` training phrases closest to the dense TF-IDF row ``x`` (cosine)."""
        if not self.phrases:
            return ()
        scores = self._phrase_matrix @ x
        top = np.argsort(-scores, kind="stable")[:k]
        return tuple(
            SimilarPhrase(
                self.phrases[j].text,
                self.phrases[j].label,
                self.phrases[j].source,
                round(float(scores[j]), 4),
            )
            for j in top.tolist()
            if scores[j] > 0
        )

    def all_phrases(self, text: str) -> tuple[Phrase, ...]:
        """Every phrase of ``text`` with its weight, untruncated (for audits and tests)."""
        [analysis], features = self._features([text])
        dense = np.zeros(len(self.coef))
        dense[features.indices] = features.data * self.coef[features.indices]
        return explain(text, analysis, dense, self.feature_names, self.classes).phrases
