"""Loading refuses anything the registry did not write exactly as its card says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from classifier.artifacts import (
    CARD_FILE,
    MODEL_FILE,
    PHRASES_FILE,
    SETTINGS_FILE,
    current_version,
    load_current,
    load_version,
    models_dir,
)
from classifier.errors import ArtifactError, ModelNotFound


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_serving_version_loads(home: Path) -> None:
    loaded = load_current(home)
    assert loaded.version == current_version(home)
    assert loaded.phrases


@pytest.mark.parametrize("name", [MODEL_FILE, SETTINGS_FILE, PHRASES_FILE])
def test_a_flipped_byte_is_refused(home: Path, name: str) -> None:
    _flip_a_byte(models_dir(home) / current_version(home) / name)
    with pytest.raises(ArtifactError, match="does not match its card"):
        load_current(home)


def test_a_corrupt_card_is_refused(home: Path) -> None:
    (models_dir(home) / current_version(home) / CARD_FILE).write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable"):
        load_current(home)


def test_a_model_from_another_scikit_learn_is_refused(home: Path) -> None:
    card_path = models_dir(home) / current_version(home) / CARD_FILE
    card = json.loads(card_path.read_text())
    card["versions"]["scikit-learn"] = "0.0.1"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match=r"scikit-learn 0\.0\.1"):
        load_current(home)


def test_a_missing_model_file_is_refused(home: Path) -> None:
    (models_dir(home) / current_version(home) / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError, match=r"has no model\.npz"):
        load_current(home)


@pytest.mark.parametrize("name", ["../../etc", "..", "a/b", "/abs", "", "x" * 200])
def test_version_names_cannot_leave_the_registry(home: Path, name: str) -> None:
    with pytest.raises(ModelNotFound, match="not a version name"):
        load_version(home, name)


def test_empty_registry_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="rolelens train"):
        load_current(tmp_path)


@pytest.fixture
def never_unpickle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything reaches the model files."""

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a model file was read")

    monkeypatch.setattr("classifier.weights.load", refuse)


def test_a_version_folder_linked_outside_the_registry_is_refused(
    home: Path, tmp_path: Path, never_unpickle: None
) -> None:
    serving = current_version(home)
    outside = tmp_path / "outside"
    shutil.copytree(models_dir(home) / serving, outside)  # checksums all match
    card = json.loads((outside / CARD_FILE).read_text())
    card["version"] = "linked"
    (outside / CARD_FILE).write_text(json.dumps(card))
    (models_dir(home) / "linked").symlink_to(outside)
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_version(home, "linked")
    (models_dir(home) / "CURRENT").write_text("linked\n")
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_current(home)


@pytest.mark.parametrize("name", [MODEL_FILE, SETTINGS_FILE, PHRASES_FILE, CARD_FILE])
def test_a_file_linked_from_elsewhere_is_refused_even_when_its_checksum_matches(
    home: Path, tmp_path: Path, name: str, never_unpickle: None
) -> None:
    folder = models_dir(home) / current_version(home)
    elsewhere = tmp_path / name
    (folder / name).rename(elsewhere)
    (folder / name).symlink_to(elsewhere)  # same bytes, same sha256, but not in the registry
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_current(home)


@pytest.mark.parametrize("name", ["../outside", "/etc/passwd", "..", "x\x00y", "%2e%2e"])
def test_current_naming_a_path_is_refused(home: Path, name: str, never_unpickle: None) -> None:
    (models_dir(home) / "CURRENT").write_text(name + "\n")
    with pytest.raises(ModelNotFound, match="not a version name"):
        load_current(home)
