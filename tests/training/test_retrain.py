"""Train-and-promote: CURRENT moves only to a verified, good-enough version."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.artifacts import current_version, load_current, models_dir
from training.errors import PromotionRefused
from training.registry import HISTORY_FILE, list_versions, promote
from training.retrain import retrain


def test_first_model_is_promoted_and_recorded(trained_home: Path) -> None:
    serving = current_version(trained_home)
    assert serving in list_versions(trained_home)
    card = load_current(trained_home).card
    assert card["metrics"]["validation"]["n"] >= 40
    assert card["phrase_counts"]["curated"]
    assert len(card["model_sha256"]) == 64
    assert (models_dir(trained_home) / HISTORY_FILE).read_text().strip().endswith(serving)


def test_a_worse_model_is_refused_and_the_serving_one_stays(home: Path) -> None:
    before = current_version(home)
    with pytest.raises(PromotionRefused, match="below the serving"):
        retrain(home, packs=("seed",), tolerance=-1.0)
    assert current_version(home) == before
    assert len(list_versions(home)) == 2, "the refused version is kept, unpromoted"


def test_force_promotes_anyway(home: Path) -> None:
    before = current_version(home)
    result = retrain(home, packs=("seed",), force=True, tolerance=-1.0)
    assert result.promoted and result.previous == before
    assert current_version(home) == result.version != before


def test_no_staging_folder_is_left_behind(home: Path) -> None:
    retrain(home, force=True)
    assert not [p for p in models_dir(home).iterdir() if p.name.startswith(".staging")]


def test_promote_refuses_an_unknown_version(home: Path) -> None:
    from classifier.errors import ModelNotFound

    with pytest.raises(ModelNotFound):
        promote(home, "20990101T000000Z-nothere")
    assert current_version(home) in list_versions(home)
