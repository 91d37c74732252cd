"""Between scikit-learn and the stored model: a fitted ``Pipeline`` to arrays, and back.

Training and evaluation use a stock ``Pipeline`` (a ``TfidfVectorizer`` whose analyzer is
:class:`classifier.reading.Analyzer`, and a ``LogisticRegression``). A version stores its
numbers as :class:`classifier.weights.LinearModel`; :func:`rebuild_pipeline` makes the same
pipeline again from them, with identical ``predict_proba``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from classifier.reading import PROBES, Analyzer, Rows
from classifier.weights import LinearModel
from training.errors import TrainingError


def rows_of(matrix: Any) -> Rows:
    """The CSR arrays of a scipy sparse matrix, indices sorted in each row."""
    csr = sparse.csr_matrix(matrix, dtype=np.float64)
    csr.sort_indices()
    return Rows(csr.data, csr.indices.astype(np.int32), csr.indptr.astype(np.int32), csr.shape[1])


def to_model(pipeline: Pipeline, analyzer: Analyzer | None = None) -> LinearModel:
    """The numbers of a fitted TF-IDF + binary logistic-regression pipeline.

    Args:
        pipeline: the fitted pipeline.
        analyzer: the n-gram settings to store; default: the vectorizer's own analyzer.
            (Converting an old model whose vectorizer used a tokenizer needs one.)

    Returns:
        The model, with the vectorizer's own rows for the probe texts read by ``analyzer``.

    Raises:
        TrainingError: the pipeline is not a fitted TF-IDF + binary linear model of the
            settings rolelens reads.
    """
    vectorizer, linear = pipeline[0], pipeline[-1]
    if not isinstance(vectorizer, TfidfVectorizer) or not hasattr(linear, "coef_"):
        raise TrainingError("the model is not a TF-IDF vectorizer and a linear classifier")
    if len(linear.classes_) != 2 or vectorizer.norm != "l2" or not vectorizer.use_idf:
        raise TrainingError("only binary models with l2-normalised TF-IDF can be stored")
    if analyzer is None:
        if not isinstance(vectorizer.analyzer, Analyzer):
            raise TrainingError("the vectorizer does not use rolelens's analyzer")
        analyzer = vectorizer.analyzer
    features = [""] * len(vectorizer.vocabulary_)
    for feature, index in vectorizer.vocabulary_.items():
        features[index] = feature
    model = LinearModel(
        features=tuple(features),
        idf=np.asarray(vectorizer.idf_, dtype=np.float64),
        coef=np.asarray(linear.coef_[0], dtype=np.float64),
        intercept=float(linear.intercept_[0]),
        classes=(str(linear.classes_[0]), str(linear.classes_[1])),
        analyzer=analyzer,
        sublinear_tf=bool(vectorizer.sublinear_tf),
        probes=Rows(np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32), 0),
    )
    probes = rows_of(rebuild_pipeline(model)[0].transform(PROBES))
    return replace(model, probes=probes)


def rebuild_pipeline(model: LinearModel) -> Pipeline:
    """A fitted scikit-learn ``Pipeline`` computing exactly what ``model`` stores."""
    vectorizer = TfidfVectorizer(
        analyzer=model.analyzer, lowercase=False, sublinear_tf=model.sublinear_tf
    )
    vectorizer.vocabulary_ = model.vocabulary()
    vectorizer.idf_ = model.idf
    linear = LogisticRegression()
    linear.classes_ = np.array(model.classes, dtype=object)
    linear.coef_ = model.coef.reshape(1, -1).copy()
    linear.intercept_ = np.array([model.intercept])
    linear.n_features_in_ = len(model.features)
    return Pipeline([("tfidf", vectorizer), ("logreg", linear)])
