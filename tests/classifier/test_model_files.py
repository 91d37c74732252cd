"""Model files load without running code; old pickled versions are refused or migrated."""

from __future__ import annotations

import json
import os
import pickle
import sys
import types
from pathlib import Path

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from classifier import reading
from classifier.artifacts import (
    CARD_FILE,
    LEGACY_MODEL_FILE,
    MODEL_FILE,
    PLOT_FILE,
    SETTINGS_FILE,
    current_version,
    load_current,
    models_dir,
    sha256_file,
)
from classifier.errors import ArtifactError
from classifier.model import RoleClassifier
from service.cli import cli
from tests.classifier.test_model import POSTINGS
from training.errors import TrainingError
from training.migrate import migrate
from training.pipeline import rebuild_pipeline


class Payload:
    """Unpickling this runs ``os.system``: the attack a planted model file would make."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def _fix_checksum(home: Path, key: str, path: Path) -> None:
    card_path = path.parent / CARD_FILE
    card = json.loads(card_path.read_text())
    card[key] = sha256_file(path)
    card_path.write_text(json.dumps(card))


def test_a_version_folder_holds_no_pickle(home: Path) -> None:
    folder = models_dir(home) / current_version(home)
    # the validation picture is a PNG drawn at training (when matplotlib is there): no code
    names = sorted(p.name for p in folder.iterdir() if p.name != PLOT_FILE)
    assert names == sorted([CARD_FILE, MODEL_FILE, SETTINGS_FILE, "phrases.csv"])
    with np.load(folder / MODEL_FILE, allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    json.loads((folder / SETTINGS_FILE).read_text())


@pytest.mark.parametrize("as_npz", [False, True])
def test_a_planted_pickle_with_a_fixed_checksum_is_refused_and_never_runs(
    home: Path, tmp_path: Path, as_npz: bool
) -> None:
    marker = tmp_path / "payload-ran"
    path = models_dir(home) / current_version(home) / MODEL_FILE
    if as_npz:  # an object array inside a genuine .npz holds a pickle too
        with open(path, "wb") as handle:
            np.savez(handle, idf=np.array([Payload(marker)], dtype=object))
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    _fix_checksum(home, "model_sha256", path)
    with pytest.raises(ArtifactError, match=r"not a plain array file.*never unpickles"):
        load_current(home)
    assert not marker.exists(), "the planted payload ran"


def test_settings_that_are_not_json_are_refused(home: Path) -> None:
    path = models_dir(home) / current_version(home) / SETTINGS_FILE
    path.write_bytes(pickle.dumps({"format": 1}))
    _fix_checksum(home, "settings_sha256", path)
    with pytest.raises(ArtifactError, match="does not hold a rolelens model"):
        load_current(home)


def _make_old_format(home: Path) -> tuple[str, np.ndarray]:
    """Turn the serving version into one saved the old way: one pickled Pipeline."""
    version = current_version(home)
    folder = models_dir(home) / version
    pipeline = rebuild_pipeline(RoleClassifier.from_registry(home).model)
    joblib.dump(pipeline, folder / LEGACY_MODEL_FILE)
    (folder / MODEL_FILE).unlink()
    (folder / SETTINGS_FILE).unlink()
    card = json.loads((folder / CARD_FILE).read_text())
    for key in ("model_format", "settings_sha256"):
        del card[key]
    card["model_sha256"] = sha256_file(folder / LEGACY_MODEL_FILE)
    (folder / CARD_FILE).write_text(json.dumps(card))
    return version, pipeline.predict_proba(POSTINGS)


def test_an_old_pickled_version_is_refused_with_the_migrate_command(home: Path) -> None:
    version, _ = _make_old_format(home)
    with pytest.raises(ArtifactError, match=f"rolelens models migrate {version} --trust"):
        load_current(home)


def test_migrate_needs_trust_and_then_resaves_the_same_model(home: Path) -> None:
    version, before = _make_old_format(home)
    with pytest.raises(TrainingError, match="--trust"):
        migrate(home, version, trust=False)
    assert (models_dir(home) / version / LEGACY_MODEL_FILE).exists()
    migrate(home, version, trust=True)
    folder = models_dir(home) / version
    assert not (folder / LEGACY_MODEL_FILE).exists()
    classifier = RoleClassifier.from_registry(home)
    after = [p.probability for p in classifier.classify_many(POSTINGS)]
    assert np.allclose([[p[c] for c in classifier.classes] for p in after], before, atol=1e-12)


def test_migrate_refuses_an_altered_old_file(home: Path) -> None:
    version, _ = _make_old_format(home)
    with open(models_dir(home) / version / LEGACY_MODEL_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(TrainingError, match="does not match its card"):
        migrate(home, version, trust=True)


def test_the_migrate_command(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version, _ = _make_old_format(home)
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    runner = CliRunner()
    refused = runner.invoke(cli, ["models", "migrate", version])
    assert refused.exit_code == 2 and "--trust" in refused.output
    done = runner.invoke(cli, ["models", "migrate", version, "--trust"])
    assert done.exit_code == 0, done.output
    assert "no pickle" in done.output
    assert load_current(home).version == version


def test_the_rebuilt_pipeline_gives_identical_probabilities(classifier: RoleClassifier) -> None:
    pipeline = rebuild_pipeline(classifier.model)
    ours = [
        [p.probability[c] for c in classifier.classes] for p in classifier.classify_many(POSTINGS)
    ]
    assert np.allclose(pipeline.predict_proba(POSTINGS), ours, atol=1e-12, rtol=0)


def test_a_version_saved_by_the_old_code_migrates(home: Path) -> None:
    # Old files pickled a vectorizer whose tokenizer was classifier.text.tokenize; that module
    # is gone, so build such a file with a stand-in module of that name, as the old code did.
    old = types.ModuleType("classifier.text")

    def tokenize(text: str) -> list[str]:
        return reading.tokenize(text)

    tokenize.__module__, tokenize.__qualname__ = "classifier.text", "tokenize"
    old.tokenize = tokenize  # type: ignore[attr-defined]
    texts = ["deploy models to production", "monitor model serving", "run a/b tests", "sql"]
    labels = ["ml_engineering", "ml_engineering", "data_science", "data_science"]
    vectorizer = TfidfVectorizer(
        tokenizer=tokenize,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        stop_words="english",
    )
    pipeline = make_pipeline(vectorizer, LogisticRegression()).fit(texts, labels)
    version = current_version(home)
    folder = models_dir(home) / version
    sys.modules["classifier.text"] = old
    try:
        joblib.dump(pipeline, folder / LEGACY_MODEL_FILE)
    finally:
        del sys.modules["classifier.text"]
    (folder / MODEL_FILE).unlink()
    (folder / SETTINGS_FILE).unlink()
    card = json.loads((folder / CARD_FILE).read_text())
    del card["model_format"], card["settings_sha256"]
    card["model_sha256"] = sha256_file(folder / LEGACY_MODEL_FILE)
    (folder / CARD_FILE).write_text(json.dumps(card))

    migrate(home, version, trust=True)
    classifier = RoleClassifier.from_registry(home)
    posting = "You will deploy models to production and monitor model serving"  # no boundary
    expected = pipeline.predict_proba([posting])[0][1]
    assert classifier.classify(posting).probability["ml_engineering"] == pytest.approx(expected)
