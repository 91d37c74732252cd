"""Rollback, prune, the retrain lock, and training on the store's phrases."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from classifier.artifacts import MODEL_FILE, current_version, load_current, models_dir
from classifier.errors import ArtifactError, ModelNotFound
from classifier.labels import DATA_SCIENCE as DS
from training.errors import RetrainBusy
from training.lock import registry_lock
from training.registry import list_versions, previous_version
from training.retrain import open_store, prune_registry, retrain, rollback


def test_rollback_returns_to_the_previous_version(home: Path) -> None:
    first = current_version(home)
    second = retrain(home, force=True).version
    assert previous_version(home) == first
    assert rollback(home) == first
    assert current_version(home) == first
    assert rollback(home) == second, "rolling back again returns to the newer version"


def test_rollback_to_a_damaged_version_is_refused_and_serving_stays(home: Path) -> None:
    first = current_version(home)
    second = retrain(home, force=True).version
    (models_dir(home) / first / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(ArtifactError):
        rollback(home)
    assert current_version(home) == second


def test_rollback_with_no_history_says_so(tmp_path: Path, trained_home: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    with pytest.raises(ModelNotFound, match="nothing to roll back to"):
        rollback(home)


def test_prune_keeps_the_newest_and_never_the_serving_or_previous(home: Path) -> None:
    oldest = current_version(home)
    for _ in range(3):
        # Version names order by the second they were made in: a new second for each one, so
        # the registry's order is the order they were made in, however fast the machine.
        time.sleep(1.0 - time.time() % 1.0)
        retrain(home, force=True)
    rollback(home, oldest)  # serving: the oldest; previous: the newest
    newest = list_versions(home)[-1]
    removed = prune_registry(home, keep=1)
    assert sorted(list_versions(home)) == sorted({oldest, newest})
    assert len(removed) == 2
    assert load_current(home).version == oldest


def test_a_second_retrain_is_told_one_is_running(home: Path) -> None:
    with registry_lock(home), pytest.raises(RetrainBusy, match="is running"):
        retrain(home)


def test_user_phrases_are_trained_on(home: Path) -> None:
    store = open_store(home)
    assert store.add("Quokka population census statistics", DS, "alice").status == "added"
    result = retrain(home, force=True)
    loaded = load_current(home)
    assert loaded.version == result.version
    assert any(p.source == "user:alice" for p in loaded.phrases)
    assert loaded.card["phrase_counts"]["user"] == {DS: 1}
    assert "quokka" in loaded.pipeline[0].vocabulary_
