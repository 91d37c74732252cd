"""Converting a version saved in the old pickle format (``model.joblib``) to arrays + JSON.

Unpickling runs whatever code the file holds, so this is done only for a version its owner
vouches for (``rolelens models migrate V --trust``), after checking the file's sha256
against the card. The version keeps its name, card and phrases; the pipeline is re-saved as
``model.npz`` + ``model.json``, the card gets the new checksums, and ``model.joblib`` is
removed. Old files name the tokenizer ``classifier.text.tokenize``, which is now
``classifier.reading.tokenize``: the same tokens, read without crossing boundaries from now
on, so a few n-grams that spanned a sentence end no longer count.
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

from sklearn.pipeline import Pipeline

from classifier import weights
from classifier.artifacts import (
    CARD_FILE,
    LEGACY_MODEL_FILE,
    MODEL_FILE,
    MODEL_FORMAT,
    SETTINGS_FILE,
    read_card,
    sha256_file,
    version_dir,
)
from classifier.reading import Analyzer, tokenize
from training.errors import TrainingError
from training.lock import registry_lock
from training.pipeline import to_model


def migrate(home: Path, version: str, *, trust: bool, wait: bool = False) -> None:
    """Re-save an old-format ``version`` as arrays + JSON, in place.

    Args:
        home: the data directory.
        version: the version to convert.
        trust: the caller vouches that the version's ``model.joblib`` is safe to unpickle.
        wait: wait for a running retrain instead of failing.

    Raises:
        TrainingError: ``trust`` is false, the version has no old model file, or the file
            does not hold a model rolelens can store.
        ModelNotFound, ArtifactError: no such version, or its file does not match its card.
        RetrainBusy: a retrain is running and ``wait`` is false.
    """
    if not trust:
        raise TrainingError(
            f"converting {version} unpickles its {LEGACY_MODEL_FILE}, which runs any code the "
            "file holds; pass --trust only if you made that file or vouch for it"
        )
    with registry_lock(home, wait):
        card = read_card(home, version)
        folder = version_dir(home, version)
        legacy = folder / LEGACY_MODEL_FILE
        if not legacy.is_file() or legacy.is_symlink():
            raise TrainingError(f"version {version} has no {LEGACY_MODEL_FILE}; nothing to migrate")
        if sha256_file(legacy) != card.get("model_sha256"):
            raise TrainingError(
                f"{LEGACY_MODEL_FILE} of {version} does not match its card's sha256; it was "
                "altered after it was written: not unpickling it"
            )
        pipeline = _unpickle(legacy)
        if not isinstance(pipeline, Pipeline):
            raise TrainingError(f"{LEGACY_MODEL_FILE} of {version} does not hold a Pipeline")
        try:
            vectorizer = pipeline[0]
            analyzer = vectorizer.analyzer
            if not isinstance(analyzer, Analyzer):
                analyzer = Analyzer(vectorizer.get_stop_words() or (), vectorizer.ngram_range)
            model = to_model(pipeline, analyzer)
        except (TypeError, AttributeError, IndexError, KeyError) as exc:
            raise TrainingError(f"{LEGACY_MODEL_FILE} of {version} holds no model: {exc}") from None
        weights.save(folder, model)
        card.update(
            model_format=MODEL_FORMAT,
            model_sha256=sha256_file(folder / MODEL_FILE),
            settings_sha256=sha256_file(folder / SETTINGS_FILE),
            migrated_from=LEGACY_MODEL_FILE,
        )
        temporary = folder / f".{CARD_FILE}.tmp"
        temporary.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", "utf-8")
        os.replace(temporary, folder / CARD_FILE)
        legacy.unlink()


def _unpickle(path: Path) -> object:
    import joblib  # only here: nothing else in rolelens loads a pickle

    shim = types.ModuleType("classifier.text")
    shim.tokenize = tokenize  # type: ignore[attr-defined]
    had = sys.modules.setdefault("classifier.text", shim) is not shim
    try:
        return joblib.load(path)
    finally:
        if not had:
            del sys.modules["classifier.text"]
