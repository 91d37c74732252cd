"""Rollback, prune, the retrain lock, and training on the store's phrases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.artifacts import MODEL_FILE, current_version, load_current, models_dir
from classifier.errors import ArtifactError, ModelNotFound
from classifier.labels import DATA_SCIENCE as DS
from training.errors import RetrainBusy
from training.lock import registry_lock
from training.registry import list_versions, previous_version, prune_registry, rollback
from training.retrain import open_store, retrain


def test_rollback_returns_to_the_previous_version(quick_home: Path, quick_fixtures: Path) -> None:
    first = current_version(quick_home)
    second = retrain(quick_home, force=True, fixtures=quick_fixtures).version
    assert previous_version(quick_home) == first
    assert rollback(quick_home) == first
    assert current_version(quick_home) == first
    assert rollback(quick_home) == second, "rolling back again returns to the newer version"


def test_rollback_to_a_damaged_version_is_refused_and_serving_stays(
    quick_home: Path, quick_fixtures: Path
) -> None:
    first = current_version(quick_home)
    second = retrain(quick_home, force=True, fixtures=quick_fixtures).version
    (models_dir(quick_home) / first / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(ArtifactError):
        rollback(quick_home)
    assert current_version(quick_home) == second


def test_rollback_with_no_history_says_so(tmp_path: Path, trained_home: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    with pytest.raises(ModelNotFound, match="nothing to roll back to"):
        rollback(home)


def test_prune_keeps_the_newest_and_never_the_serving_or_previous(
    quick_home: Path, quick_fixtures: Path
) -> None:
    oldest = current_version(quick_home)
    made = [retrain(quick_home, force=True, fixtures=quick_fixtures).version for _ in range(3)]
    rollback(quick_home, oldest)  # serving: the oldest; previous: the newest
    newest = list_versions(quick_home)[-1]
    assert newest == made[-1], "creation order, even for versions made within one second"
    removed = prune_registry(quick_home, keep=1)
    assert list_versions(quick_home) == [oldest, newest]
    assert removed == made[:2]
    assert load_current(quick_home).version == oldest


def test_a_second_retrain_is_told_one_is_running(home: Path) -> None:
    with registry_lock(home), pytest.raises(RetrainBusy, match="is running"):
        retrain(home)


def test_user_phrases_are_trained_on(quick_home: Path, quick_fixtures: Path) -> None:
    store = open_store(quick_home, quick_fixtures)
    assert store.add("Quokka population census statistics", DS, "alice").status == "added"
    result = retrain(quick_home, force=True, fixtures=quick_fixtures)
    loaded = load_current(quick_home)
    assert loaded.version == result.version
    assert any(p.source == "user:alice" for p in loaded.phrases)
    assert loaded.card["phrase_counts"]["user"] == {DS: 1}
    assert "quokka" in loaded.model.features
