"""Training: labeled phrases in, one calibrated scikit-learn Pipeline out.

Phrases are a few words long; postings are hundreds of words, most of them neutral or shared
by both roles. Two things follow.

Words that every posting uses ("experience", "team", "company") must carry almost no weight,
however unevenly the labeled phrases happen to use them. :func:`train` reads the neutral pack
(sentences and phrases any posting may hold) beside the labeled phrases and penalises each
word by the share of its use that is neutral: its TF-IDF column is scaled by
``(1 - share) ** neutral_penalty`` while the logistic regression is fitted, and the fitted
coefficient is scaled back by the same factor. Under the L2 penalty that is a per-word
penalty ``(1 - share) ** -2·penalty`` times stronger; a word only the neutral pack uses gets
weight 0. The coefficients then apply to the plain TF-IDF features again, so the pipeline
stays two stock parts and the score stays exactly linear.

A model fitted on phrases puts its threshold where phrases need it, not where postings do,
so :func:`train` calibrates on *pseudo-postings*: held-out phrases of one role, some of the
other role, and neutral sentences, shuffled together. The decision values of out-of-fold
models on those fit a Platt scaling ``logit' = a·logit + b``, folded into the coefficients
and intercept. The same pseudo-postings set how lopsided a posting's evidence must be for a
"clear" call (see :func:`_balance_limit`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.base import clone
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from classifier.labels import LABELS, ML_ENGINEERING, TrainingPhrase
from classifier.model import balance_of
from classifier.reading import Analyzer, counted_rows
from training.errors import TrainingError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters; the defaults were chosen by measurement (see README, Model quality)."""

    ngram_max: int = 2
    sublinear_tf: bool = False
    stop_words: str | None = "english"
    C: float = 0.1
    class_weight: str | None = "balanced"
    calibrate: bool = True
    pseudo_postings_per_fold: int = 400
    # How strongly the neutral pack pulls shared words toward zero (see the module docstring).
    neutral_penalty: float = 1.0
    # The other way of using the neutral pack, kept to compare (bench/neutral.py): each
    # neutral sentence seen once under each label with this sample weight (0: not at all).
    neutral_weight: float = 0.0
    # Share of pseudo-postings whose work is split between the roles (half to as many
    # other-role phrases as own ones); the rest hold at most a third as many. Careful readers
    # of real postings found about 18% genuinely mixed (shared/data/README.md).
    pseudo_mixed_share: float = 0.2
    random_state: int = 0
    strength_band: dict[str, list[float]] = field(
        default_factory=lambda: {"mixed": [0.4, 0.6], "clear": [0.15, 0.85]}
    )
    # A call is "clear" only when the weight pushing against it is small: at most this share
    # of the mixed pseudo-postings may pass that test.
    mixed_clear_share: float = 0.1
    # A "role term" weighs at least this quantile of the model's absolute weights. A
    # posting whose words weigh less in all (the sum of |contribution|, logit units) than
    # this quantile of the calibration pseudo-postings do is called "neither"; a model
    # trained without calibration falls back to counting role terms (min_role_terms).
    role_weight_quantile: float = 0.9
    neither_quantile: float = 0.1
    min_role_terms: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainedModel:
    """A fitted, calibrated pipeline with what it was trained on and how it scored."""

    pipeline: Pipeline
    phrases: tuple[TrainingPhrase, ...]
    params: TrainingParams
    metrics: dict[str, Any]
    calibration: dict[str, float]
    evidence: dict[str, float]
    strength_band: dict[str, Any]


def build_pipeline(params: TrainingParams) -> Pipeline:
    """An unfitted TF-IDF + logistic-regression pipeline for ``params``.

    The vectorizer's analyzer is rolelens's one reading (stop words, then n-grams that never
    cross a sentence or list boundary), so explanations find exactly the features it counts.

    Raises:
        TrainingError: ``stop_words`` is neither ``"english"`` nor ``None``.
    """
    if params.stop_words not in ("english", None):
        raise TrainingError(f"stop_words {params.stop_words!r}: use 'english' or None")
    stop_words = ENGLISH_STOP_WORDS if params.stop_words == "english" else frozenset()
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    analyzer=Analyzer(stop_words, (1, params.ngram_max)),
                    lowercase=False,
                    sublinear_tf=params.sublinear_tf,
                ),
            ),
            (
                "logreg",
                LogisticRegression(
                    C=params.C,
                    class_weight=params.class_weight,
                    max_iter=2000,
                    random_state=params.random_state,
                ),
            ),
        ]
    )


# Between the parts of a pseudo-posting: a sentence boundary, so no n-gram spans two parts
# and a pseudo-posting's counts are the sum of its parts' counts.
PART_JOIN = ". "


def pseudo_postings(
    by_label: dict[str, list[str]],
    neutral: Sequence[str],
    count: int,
    rng: np.random.Generator,
    mixed_share: float = 0.2,
) -> tuple[list[list[str]], list[str], list[bool]]:
    """Synthetic postings: phrases of one role, fewer of the other, neutral sentences.

    Args:
        by_label: phrase texts per label (both labels needed).
        neutral: neutral sentences; may be empty.
        count: how many postings to make, half per label.
        rng: the random generator (seeded by the caller).
        mixed_share: the share whose work is split (half, rounded down, to all as many
            other-role phrases as own ones);
            the others hold at most a third as many other-role phrases as own ones.

    Returns:
        ``(parts, labels, mixed)``: posting ``i`` is ``PART_JOIN.join(parts[i])``, and
        ``mixed[i]`` says it is a split one.
    """
    postings, labels, mixed = [], [], []
    for i in range(count):
        label = LABELS[i % 2]
        own, other = by_label[label], by_label[LABELS[1 - i % 2]]
        n_own = int(rng.integers(3, 13))
        split = bool(rng.random() < mixed_share)
        low, high = (n_own // 2, n_own) if split else (0, n_own // 3)
        n_other = int(rng.integers(low, high + 1))
        n_neutral = int(rng.integers(5, 20)) if neutral else 0
        parts = [own[j] for j in rng.integers(0, len(own), n_own)]
        parts += [other[j] for j in rng.integers(0, len(other), n_other)]
        parts += [neutral[j] for j in rng.integers(0, len(neutral), n_neutral)]
        rng.shuffle(parts)
        postings.append(parts)
        labels.append(label)
        mixed.append(split)
    return postings, labels, mixed


def _folds(labels: Sequence[str], random_state: int) -> StratifiedKFold:
    smallest = min(labels.count(label) for label in LABELS)
    return StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=random_state)


def _neutral_scale(x: sparse.csr_matrix, n_labeled: int, params: TrainingParams) -> FloatArray:
    """Per-feature factor ``(1 - share) ** neutral_penalty``.

    ``share`` is the feature's document frequency in the neutral rows of ``x`` over the sum
    of its document frequencies in the labeled and the neutral rows, each relative to the
    number of rows.
    """
    n_neutral = x.shape[0] - n_labeled
    if params.neutral_penalty <= 0 or n_neutral == 0:
        return np.ones(x.shape[1])
    present = (x > 0).astype(np.float64)
    labeled = np.asarray(present[:n_labeled].sum(axis=0)).ravel() / max(n_labeled, 1)
    neutral = np.asarray(present[n_labeled:].sum(axis=0)).ravel() / n_neutral
    share = neutral / np.maximum(labeled + neutral, np.finfo(np.float64).tiny)
    scale: FloatArray = (1.0 - share) ** params.neutral_penalty
    return scale


def _fit(
    pipeline: Pipeline,
    texts: Sequence[str],
    labels: Sequence[str],
    neutral: Sequence[str],
    params: TrainingParams,
) -> Pipeline:
    """Fit ``pipeline`` on labeled ``texts``, the neutral pack pulling shared words to zero.

    The vectorizer learns its vocabulary and IDF from the labeled texts and the neutral pack
    together. The logistic regression is fitted on columns scaled by :func:`_neutral_scale`
    and its coefficients scaled back, so they apply to the vectorizer's own output.
    """
    vectorizer, logreg = pipeline[0], pipeline[-1]
    n = len(texts)
    x = sparse.csr_matrix(vectorizer.fit_transform([*texts, *neutral]))
    scale = _neutral_scale(x, n, params)
    rows, y = x[:n], list(labels)
    weights = np.ones(n)
    if params.neutral_weight > 0 and neutral:
        rows = sparse.vstack([rows, x[n:], x[n:]]).tocsr()
        y += [LABELS[0]] * len(neutral) + [LABELS[1]] * len(neutral)
        weights = np.concatenate([weights, np.full(2 * len(neutral), params.neutral_weight)])
    logreg.fit(rows @ sparse.diags(scale), y, sample_weight=weights)
    logreg.coef_ = logreg.coef_ * scale
    return pipeline


def _scored_parts(
    pipeline: Pipeline, postings: Sequence[Sequence[str]]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each posting's decision value, and its total weight toward ``classes_[1]`` and toward
    ``classes_[0]`` (both >= 0), as ``transform`` of ``PART_JOIN.join(parts)`` would give, from
    the parts' counts: each distinct part is looked up once, not once per posting it is in.
    The rows are the vectorizer's own, bit for bit (``counted_rows`` repeats its arithmetic;
    tests compare them with ``transform``)."""
    vectorizer = pipeline[0]
    vocabulary, analyzer = vectorizer.vocabulary_, vectorizer.analyzer
    ids: dict[str, list[int]] = {}
    for parts in postings:
        for part in parts:
            if part not in ids:
                ids[part] = [vocabulary.get(gram, -1) for gram in analyzer(part)]
    per_posting = [[i for part in parts for i in ids[part] if i >= 0] for parts in postings]
    doc = np.repeat(np.arange(len(postings)), [len(found) for found in per_posting])
    features = np.fromiter(chain.from_iterable(per_posting), np.int64, len(doc))
    rows = counted_rows(doc, features, len(postings), vectorizer.idf_, vectorizer.sublinear_tf).rows
    matrix = sparse.csr_matrix((rows.data, rows.indices, rows.indptr), (len(postings), rows.width))
    return _weighed(pipeline, matrix)


def _weighed(pipeline: Pipeline, x: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Decision values and the weight each way of TF-IDF rows ``x``."""
    logreg = pipeline[-1]
    contributions = sparse.csr_matrix(sparse.csr_matrix(x).multiply(logreg.coef_[0]))
    toward_positive = np.asarray(contributions.maximum(0).sum(axis=1)).ravel()
    toward_negative = np.asarray((-contributions).maximum(0).sum(axis=1)).ravel()
    decision = toward_positive - toward_negative + float(logreg.intercept_[0])
    return decision, toward_positive, toward_negative


@dataclass(frozen=True)
class _Calibration:
    scale: float
    shift: float
    metrics: dict[str, float]
    clear_balance: float
    min_weight: float


def _fold_models(
    pipeline: Pipeline,
    texts: Sequence[str],
    labels: Sequence[str],
    neutral: Sequence[str],
    params: TrainingParams,
) -> list[tuple[Pipeline, npt.NDArray[np.intp]]]:
    """One model per cross-validation fold, fitted the way the model is (neutral pack
    included), each with the indices of the phrases it did not see."""
    folds = []
    for train_idx, test_idx in _folds(labels, params.random_state).split(texts, labels):
        fold = _fit(
            clone(pipeline),
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            neutral,
            params,
        )
        folds.append((fold, test_idx))
    return folds


def _calibrate(
    folds: Sequence[tuple[Pipeline, npt.NDArray[np.intp]]],
    texts: list[str],
    labels: list[str],
    neutral: Sequence[str],
    params: TrainingParams,
) -> _Calibration:
    """Platt scaling, the clear-call balance limit and the evidence floor, all from
    out-of-fold pseudo-postings.

    The balance limit lets at most ``mixed_clear_share`` of the mixed pseudo-postings be
    clear. The evidence floor is the ``neither_quantile`` of the pseudo-postings' total
    weight (after scaling): a posting whose words weigh less than that holds less role
    vocabulary than nearly every posting made of three or more role phrases.
    """
    rng = np.random.default_rng(params.random_state)
    decisions, truth, positives, negatives, mixed = [], [], [], [], []
    for fold, test_idx in folds:
        held: dict[str, list[str]] = {label: [] for label in LABELS}
        for i in test_idx:
            held[labels[i]].append(texts[i])
        p_parts, p_labels, p_mixed = pseudo_postings(
            held, neutral, params.pseudo_postings_per_fold, rng, params.pseudo_mixed_share
        )
        decision, positive, negative = _scored_parts(fold, p_parts)
        decisions.append(decision)
        positives.append(positive)
        negatives.append(negative)
        truth += [label == ML_ENGINEERING for label in p_labels]
        mixed += p_mixed
    raw = np.concatenate(decisions).reshape(-1, 1)
    y = np.asarray(truth)
    platt = LogisticRegression(C=1e4).fit(raw, y)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    calibrated = a * raw.ravel() + b
    p = 1.0 / (1.0 + np.exp(-calibrated))
    metrics = {
        "n": len(y),
        "accuracy_raw": float(np.mean((raw.ravel() > 0) == y)),
        "accuracy": float(np.mean((calibrated > 0) == y)),
        "brier": float(np.mean((p - y) ** 2)),
    }
    positive, negative = np.concatenate(positives), np.concatenate(negatives)
    balance = balance_of(positive, negative)
    split = np.asarray(mixed)
    clear_balance = (
        float(np.quantile(balance[split], params.mixed_clear_share)) if split.any() else 1.0
    )
    min_weight = float(np.quantile(a * (positive + negative), params.neither_quantile))
    return _Calibration(a, b, metrics, clear_balance, min_weight)


def train(
    phrases: Sequence[TrainingPhrase],
    params: TrainingParams | None = None,
    neutral: Sequence[str] = (),
) -> TrainedModel:
    """Fit the pipeline on ``phrases``, cross-validate, and calibrate it for postings.

    Args:
        phrases: labeled phrases; both labels need at least two.
        params: hyper-parameters (defaults: :class:`TrainingParams`).
        neutral: the neutral pack: sentences any posting may hold (training pulls their
            words' weights toward zero; calibration mixes them into pseudo-postings).

    Returns:
        The trained model with cross-validation and calibration metrics.

    Raises:
        TrainingError: too few phrases of a label, or an unknown label.
    """
    params = params or TrainingParams()
    texts = [p.text for p in phrases]
    labels = [p.label for p in phrases]
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise TrainingError(f"unknown labels {sorted(unknown)}; use {', '.join(LABELS)}")
    for label in LABELS:
        if labels.count(label) < 2:
            raise TrainingError(
                f"need at least 2 phrases labeled {label!r} to train, have "
                f"{labels.count(label)}; add some with `rolelens phrases add`"
            )
    pipeline = build_pipeline(params)
    vectorizer = pipeline[0]
    # While training, each distinct text is read once: every fold's fit and the last one read
    # the same phrases and neutral sentences, and calibration scores the same parts again.
    analyzer, vectorizer.analyzer = vectorizer.analyzer, functools.cache(vectorizer.analyzer)
    for label in LABELS:
        if not any(
            vectorizer.analyzer(text)
            for text, given in zip(texts, labels, strict=True)
            if given == label
        ):
            raise TrainingError(
                f"the phrases labeled {label!r} hold no word the model can use (only stop "
                "words, numbers or punctuation); add phrases with role vocabulary (rolelens "
                "phrases add), remove the unusable ones, or train on more packs"
            )
    folds = _fold_models(pipeline, texts, labels, neutral, params)
    oof = np.empty(len(texts), dtype=object)  # out-of-fold calls
    for fold, test_idx in folds:
        oof[test_idx] = fold.predict([texts[i] for i in test_idx])
    metrics: dict[str, Any] = {
        "phrases_cv": {
            "n": len(texts),
            "accuracy": float(accuracy_score(labels, list(oof))),
            "macro_f1": float(f1_score(labels, list(oof), average="macro")),
        }
    }
    _fit(pipeline, texts, labels, neutral, params)
    calibration = {"scale": 1.0, "shift": 0.0}
    band: dict[str, Any] = dict(params.strength_band)
    evidence: dict[str, float] = {"min_role_terms": params.min_role_terms}
    if params.calibrate:
        fitted = _calibrate(folds, texts, labels, neutral, params)
        calibration = {"scale": fitted.scale, "shift": fitted.shift}
        metrics["pseudo_postings_cv"] = fitted.metrics
        band["clear_balance"] = fitted.clear_balance
        evidence["min_weight"] = fitted.min_weight
        logreg = pipeline[-1]
        logreg.coef_ = logreg.coef_ * fitted.scale
        logreg.intercept_ = logreg.intercept_ * fitted.scale + fitted.shift
    vectorizer.analyzer = analyzer  # the model keeps the plain, picklable one
    weights = np.abs(pipeline[-1].coef_[0])
    evidence["role_weight"] = float(np.quantile(weights, params.role_weight_quantile))
    return TrainedModel(pipeline, tuple(phrases), params, metrics, calibration, evidence, band)
