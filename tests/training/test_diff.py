"""What changed between two versions: phrases, weights, validation calls and why they moved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifier.artifacts import PLOT_FILE, current_version, read_card, version_dir
from classifier.errors import ModelNotFound
from classifier.labels import DATA_SCIENCE as DS
from classifier.model import RoleClassifier
from training.diff import diff_versions, weight_changes
from training.evaluate import read_labeled
from training.phrases import validation_path
from training.retrain import retrain
from training.store import open_store


@pytest.fixture(scope="module")
def two_versions(
    trained_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, str]:
    """The default model, then one trained on the seed pack plus one user phrase (made once
    for the module: its tests only read the two versions)."""
    home = tmp_path_factory.mktemp("diff") / "home"
    shutil.copytree(trained_home, home)
    before = current_version(home)
    open_store(home).add("Quokka population census statistics", DS, "alice")
    after = retrain(home, packs=("seed", "user"), force=True).version
    return home, before, after


def test_phrases_added_and_removed(two_versions: tuple[Path, str, str]) -> None:
    home, before, after = two_versions
    diff = diff_versions(home, before, after)
    assert [(p.text, p.source) for p in diff.added] == [
        ("Quokka population census statistics", "user:alice")
    ]
    assert diff.removed and {p.source for p in diff.removed} == {"curated"}
    back = diff_versions(home, after, before)
    assert len(back.added) == len(diff.removed) and len(back.removed) == 1


def test_weight_changes_are_largest_first_and_name_new_terms(
    two_versions: tuple[Path, str, str],
) -> None:
    home, before, after = two_versions
    a, b = RoleClassifier.from_registry(home, before), RoleClassifier.from_registry(home, after)
    top = weight_changes(a, b, top=20)
    sizes = [abs(w.delta) for w in top]
    assert sizes == sorted(sizes, reverse=True) and len(top) == 20
    quokka = next(w for w in weight_changes(a, b, top=100_000) if w.term == "quokka")
    assert quokka.before == 0.0 and quokka.after < 0, "a new data-science term"


def test_moved_calls_name_the_phrases_behind_each_move(
    two_versions: tuple[Path, str, str],
) -> None:
    home, before, after = two_versions
    diff = diff_versions(home, before, after)
    texts, _ = read_labeled(validation_path(), "text", "label")
    assert diff.validation_n == len(texts) > 200
    assert diff.moved, "a seed-only model calls some validation postings differently"
    for call in diff.moved:
        assert call.before != call.after
        assert (call.p_after >= 0.5) == (call.after == "ml_engineering")
        assert call.phrases, "every move comes with the phrases behind it"
        toward_new = [d for _, d in call.phrases if (d > 0) == (call.after == "ml_engineering")]
        assert toward_new, "at least one phrase pushed toward the new call"


def test_unknown_versions_are_refused(two_versions: tuple[Path, str, str]) -> None:
    home, before, _ = two_versions
    with pytest.raises(ModelNotFound):
        diff_versions(home, before, "20990101T000000Z-000099")


def test_training_draws_the_validation_picture(two_versions: tuple[Path, str, str]) -> None:
    home, _, after = two_versions
    plots = read_card(home, after)["plots"]
    assert plots == {"validation": PLOT_FILE, "missing_because": None}
    assert (version_dir(home, after) / PLOT_FILE).read_bytes().startswith(b"\x89PNG")
