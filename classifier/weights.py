"""A model version's numbers, stored as plain arrays and JSON: nothing in them runs code.

A rolelens model is a TF-IDF vectorizer and a binary logistic regression, which is a
vocabulary, idf weights, one coefficient row and an intercept. A version folder keeps them in
two files, read without pickle:

- ``model.json``: format, classes, the vocabulary (column order), stop words, n-gram range,
  ``sublinear_tf``;
- ``model.npz``: ``idf``, ``coef``, ``intercept``, and the rows the vectorizer itself gave
  for :data:`classifier.reading.PROBES` when the model was made (``probe_*``), which loading
  compares with this reading's own, bit for bit. Read with ``allow_pickle=False``.

``training.pipeline`` turns a fitted scikit-learn ``Pipeline`` into a :class:`LinearModel`
and back.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.artifacts import MODEL_FILE, MODEL_FORMAT, SETTINGS_FILE
from classifier.errors import ArtifactError
from classifier.reading import PROBES, Analyzer, FloatArray, Rows

_ARRAYS = ("idf", "coef", "intercept", "probe_data", "probe_indices", "probe_indptr")


@dataclass(frozen=True)
class LinearModel:
    """TF-IDF + logistic regression as arrays; ``coef`` pushes toward ``classes[1]``."""

    features: tuple[str, ...]
    idf: FloatArray
    coef: FloatArray
    intercept: float
    classes: tuple[str, str]
    analyzer: Analyzer
    sublinear_tf: bool
    probes: Rows

    def vocabulary(self) -> dict[str, int]:
        """Feature text to column index."""
        return {feature: index for index, feature in enumerate(self.features)}


def save(folder: Path, model: LinearModel) -> None:
    """Write ``model`` as ``model.json`` and ``model.npz`` into ``folder``."""
    settings = {
        "format": MODEL_FORMAT,
        "kind": "tfidf+logistic_regression",
        "classes": list(model.classes),
        "stop_words": sorted(model.analyzer.stop_words),
        "ngram_range": list(model.analyzer.ngram_range),
        "sublinear_tf": model.sublinear_tf,
        "norm": "l2",
        "features": list(model.features),
    }
    (folder / SETTINGS_FILE).write_text(json.dumps(settings, ensure_ascii=False), "utf-8")
    with open(folder / MODEL_FILE, "wb") as handle:
        np.savez(
            handle,
            idf=model.idf,
            coef=model.coef,
            intercept=np.array([model.intercept]),
            probe_data=model.probes.data,
            probe_indices=model.probes.indices,
            probe_indptr=model.probes.indptr,
        )


def load(folder: Path, version: str) -> LinearModel:
    """Read the model of a version folder whose checksums were already verified.

    Raises:
        ArtifactError: a file is not plain arrays / JSON of this format, or the arrays do
            not fit together.
    """
    try:
        with np.load(folder / MODEL_FILE, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in _ARRAYS}
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(
            f"{MODEL_FILE} of model version {version!r} is not a plain array file ({exc}); "
            "rolelens never unpickles a model: refusing to load it (retrain or roll back)"
        ) from None
    try:
        settings: dict[str, Any] = json.loads((folder / SETTINGS_FILE).read_text("utf-8"))
        if settings.get("format") != MODEL_FORMAT or settings.get("norm") != "l2":
            raise ValueError(f"format {settings.get('format')!r}; this reads {MODEL_FORMAT}")
        low, high = settings["ngram_range"]
        negative, positive = (str(label) for label in settings["classes"])
        features = tuple(str(feature) for feature in settings["features"])
        analyzer = Analyzer(settings["stop_words"], (low, high))
        width = len(features)
        if not (
            arrays["idf"].shape == (width,)
            and arrays["coef"].shape == (width,)
            and arrays["intercept"].shape == (1,)
            and arrays["probe_indptr"].shape == (len(PROBES) + 1,)
        ):
            raise ValueError("the arrays do not fit the vocabulary")
        idf, coef, data = (arrays[k].astype(np.float64) for k in ("idf", "coef", "probe_data"))
        indices, indptr = (arrays[k].astype(np.int32) for k in ("probe_indices", "probe_indptr"))
        probes = Rows(data, indices, indptr, width)
        intercept, sublinear_tf = float(arrays["intercept"][0]), bool(settings["sublinear_tf"])
        classes = (negative, positive)
        return LinearModel(features, idf, coef, intercept, classes, analyzer, sublinear_tf, probes)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        raise ArtifactError(
            f"model version {version!r} does not hold a rolelens model ({exc}); "
            "retrain or roll back"
        ) from None
