"""What each version is: phrases per pack and label, validation, who, and its role now."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.artifacts import CARD_FILE, current_version, models_dir
from classifier.labels import DATA_SCIENCE as DS
from classifier.labels import ML_ENGINEERING as ML
from training.errors import PromotionRefused
from training.registry import set_shadow
from training.retrain import retrain
from training.versions import describe, describe_all


def test_a_version_says_what_it_learned_from_and_how_it_scored(trained_home: Path) -> None:
    info = describe(trained_home, current_version(trained_home))
    assert info.roles == ("serving",)
    assert set(info.phrases) == {"seed", "curated"}, "seed documents add up to one pack"
    assert info.phrases["seed"][DS] > 0 and info.phrases["seed"][ML] > 0
    assert info.validation["n"] >= 40 and 0.0 <= info.validation["macro_f1"] <= 1.0
    assert info.started_by["via"] == "library"
    line = info.summary()
    assert "seed " in line and "curated " in line and "[serving]" in line


def test_roles_follow_the_registry(quick_home: Path, quick_fixtures: Path) -> None:
    first = current_version(quick_home)
    seed_only = retrain(
        quick_home,
        packs=("seed",),
        force=True,
        started_by={"via": "cli", "by": "al"},
        fixtures=quick_fixtures,
    )
    with pytest.raises(PromotionRefused):
        retrain(quick_home, packs=("seed",), tolerance=-1.0, fixtures=quick_fixtures)
    set_shadow(quick_home, first)
    newest, middle, oldest = describe_all(quick_home)
    assert newest.roles == ("refused",) and "lower" in (newest.refused_because or "")
    assert middle.version == seed_only.version and middle.roles == ("serving",)
    assert middle.phrases.keys() == {"seed"}, "a seed-only model is visible as such"
    assert middle.started_by == {"via": "cli", "by": "al"}
    assert oldest.version == first and set(oldest.roles) == {"previous", "shadow"}


def test_an_unreadable_card_is_listed_with_its_problem(
    quick_home: Path, quick_fixtures: Path
) -> None:
    retrain(quick_home, force=True, fixtures=quick_fixtures)
    first = describe_all(quick_home)[-1].version
    (models_dir(quick_home) / first / CARD_FILE).write_text("{", encoding="utf-8")
    broken = describe_all(quick_home)[-1]
    assert broken.version == first and broken.problem and "unreadable" in broken.problem
    assert "UNREADABLE" in broken.summary()
