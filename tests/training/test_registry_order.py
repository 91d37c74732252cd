"""Creation order of versions, retention, the shadow pointer and refusal notes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from classifier.artifacts import current_version, models_dir, read_card
from classifier.errors import ModelNotFound
from training.lock import registry_lock
from training.phrases import load_packs
from training.registry import (
    list_versions,
    promote,
    protected_versions,
    prune,
    rollback,
    set_shadow,
    shadow_version,
    write_version,
)
from training.retrain import retrain
from training.train import TrainedModel, TrainingParams, train

ONE_SECOND = datetime(2026, 12, 1, 14, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def small_model() -> TrainedModel:
    """A model trained on the seed pack without calibration: quick to fit and write."""
    return train(load_packs(["seed"]), TrainingParams(calibrate=False))


def _write(home: Path, model: TrainedModel, count: int) -> list[str]:
    with registry_lock(home):
        return [write_version(home, model, {}, now=ONE_SECOND) for _ in range(count)]


def test_twenty_versions_in_one_second_list_in_the_order_they_were_made(
    tmp_path: Path, small_model: TrainedModel
) -> None:
    made = _write(tmp_path, small_model, 20)
    assert len(set(made)) == 20
    assert {read_card(tmp_path, v)["created_at"] for v in made} == {ONE_SECOND.isoformat()}
    assert list_versions(tmp_path) == made
    assert [read_card(tmp_path, v)["sequence"] for v in made] == list(range(1, 21))


def test_the_order_survives_pruning_and_a_lost_sequence_file(
    tmp_path: Path, small_model: TrainedModel
) -> None:
    made = _write(tmp_path, small_model, 4)
    promote(tmp_path, made[0])
    assert prune(tmp_path, keep=1) == made[1:3], "the oldest unprotected go first"
    (models_dir(tmp_path) / "SEQUENCE").unlink()
    [later] = _write(tmp_path, small_model, 1)
    assert list_versions(tmp_path) == [made[0], made[3], later]
    assert read_card(tmp_path, later)["sequence"] == 5


def test_rollback_goes_to_the_version_that_served_before_whatever_the_names(
    tmp_path: Path, small_model: TrainedModel
) -> None:
    first, second = _write(tmp_path, small_model, 2)
    promote(tmp_path, first)
    promote(tmp_path, second)
    assert rollback(tmp_path) == first


def test_prune_never_removes_the_shadow(tmp_path: Path, small_model: TrainedModel) -> None:
    made = _write(tmp_path, small_model, 5)
    promote(tmp_path, made[3])
    promote(tmp_path, made[4])
    set_shadow(tmp_path, made[0])
    assert protected_versions(tmp_path) == {made[0], made[3], made[4]}
    prune(tmp_path, keep=1)
    assert list_versions(tmp_path) == [made[0], made[3], made[4]]
    set_shadow(tmp_path, None)
    assert shadow_version(tmp_path) is None


def test_a_shadow_must_exist(tmp_path: Path, small_model: TrainedModel) -> None:
    _write(tmp_path, small_model, 1)
    with pytest.raises(ModelNotFound):
        set_shadow(tmp_path, "20990101T000000Z-000099")


def test_retrain_keeps_at_most_keep_versions(quick_home: Path, quick_fixtures: Path) -> None:
    first = current_version(quick_home)
    results = [retrain(quick_home, force=True, keep=2, fixtures=quick_fixtures) for _ in range(3)]
    assert list_versions(quick_home) == [results[1].version, results[2].version]
    assert results[2].pruned == (results[0].version,)
    assert first in results[1].pruned


def test_refused_versions_count_against_the_limit(quick_home: Path, quick_fixtures: Path) -> None:
    serving = current_version(quick_home)
    for _ in range(2):
        with pytest.raises(Exception, match=r"lower .* than the serving"):
            retrain(quick_home, packs=("seed",), tolerance=-1.0, keep=1, fixtures=quick_fixtures)
    assert list_versions(quick_home)[0] == serving
    assert len(list_versions(quick_home)) == 2, "serving, plus the newest refused (pruned to 1)"


def test_the_card_says_who_started_the_training(quick_home: Path, quick_fixtures: Path) -> None:
    result = retrain(
        quick_home, force=True, started_by={"via": "cli", "by": "alice"}, fixtures=quick_fixtures
    )
    assert read_card(quick_home, result.version)["started_by"] == {"via": "cli", "by": "alice"}
