"""Train-and-promote: CURRENT moves only to a verified, good-enough version."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from classifier.artifacts import (
    TrainingPhrase,
    current_version,
    load_current,
    models_dir,
    read_card,
)
from classifier.labels import DATA_SCIENCE, ML_ENGINEERING
from classifier.model import RoleClassifier
from training.errors import PromotionRefused
from training.evaluate import evaluate, read_labeled
from training.phrases import load_packs, read_neutral, validation_path
from training.pipeline import to_model
from training.registry import HISTORY_FILE, list_versions, promote
from training.retrain import refusal, retrain
from training.train import TrainedModel, train


def test_first_model_is_promoted_and_recorded(trained_home: Path) -> None:
    serving = current_version(trained_home)
    assert serving in list_versions(trained_home)
    card = load_current(trained_home).card
    assert card["metrics"]["validation"]["n"] >= 40
    assert card["phrase_counts"]["curated"]
    assert len(card["model_sha256"]) == 64
    assert (models_dir(trained_home) / HISTORY_FILE).read_text().strip().endswith(serving)


def test_a_worse_model_is_refused_and_the_serving_one_stays(home: Path) -> None:
    # The seed pack alone (80 phrases) makes a real, weaker model: the validation postings
    # tell it apart from the default one at the default tolerance.
    before = current_version(home)
    with pytest.raises(PromotionRefused, match=r"macro-F1 0\.\d+, 0\.\d+ lower .* serving"):
        retrain(home, packs=("seed",))
    assert current_version(home) == before
    assert len(list_versions(home)) == 2, "the refused version is kept, unpromoted"


def _validation_report(model: TrainedModel) -> dict[str, object]:
    texts, labels = read_labeled(validation_path(), "text", "label")
    card = {"version": "test", "strength_band": model.strength_band, "evidence": model.evidence}
    classifier = RoleClassifier(to_model(model.pipeline), card, model.phrases)
    return evaluate(classifier, texts, labels).to_dict()


def test_the_gate_refuses_a_model_trained_on_damaged_labels() -> None:
    phrases = load_packs(["seed", "curated"])
    swap = {DATA_SCIENCE: ML_ENGINEERING, ML_ENGINEERING: DATA_SCIENCE}
    damaged = [
        TrainingPhrase(p.text, swap[p.label] if i % 3 == 0 else p.label, p.source)
        for i, p in enumerate(phrases)
    ]
    good = _validation_report(train(phrases, neutral=read_neutral()))
    bad = _validation_report(train(damaged, neutral=read_neutral()))
    assert refusal(bad, good) is not None
    # ...while a model that lost one phrase in twenty is still accepted.
    kept = [p for i, p in enumerate(phrases) if i % 20]
    assert refusal(_validation_report(train(kept, neutral=read_neutral())), good) is None


def test_force_promotes_anyway(quick_home: Path, quick_fixtures: Path) -> None:
    before = current_version(quick_home)
    result = retrain(quick_home, packs=("seed",), force=True, fixtures=quick_fixtures)
    assert result.promoted and result.previous == before
    assert current_version(quick_home) == result.version != before


def test_no_staging_folder_is_left_behind(quick_home: Path, quick_fixtures: Path) -> None:
    retrain(quick_home, force=True, fixtures=quick_fixtures)
    assert not [p for p in models_dir(quick_home).iterdir() if p.name.startswith(".staging")]


def test_promote_refuses_an_unknown_version(home: Path) -> None:
    from classifier.errors import ModelNotFound

    with pytest.raises(ModelNotFound):
        promote(home, "20990101T000000Z-nothere")
    assert current_version(home) in list_versions(home)


def test_the_gate_takes_the_serving_figures_from_its_card_only_for_the_same_postings(
    quick_home: Path, quick_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = quick_home  # what the gate reads, not how good the models are
    import training.retrain as module

    rescored: list[str] = []
    real = module.evaluate
    monkeypatch.setattr(
        module,
        "evaluate",
        lambda c, texts, labels: rescored.append(c.version) or real(c, texts, labels),
    )
    serving = current_version(home)
    same = retrain(home, fixtures=quick_fixtures, force=True, promote_new=False)
    assert rescored == [], "the card's figures were measured on these postings: no re-scoring"
    assert same.previous_validation == read_card(home, serving)["metrics"]["validation"]

    fixtures = tmp_path / "fixtures"
    shutil.copytree(quick_fixtures, fixtures)
    path = fixtures / "postings" / "validation.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows[:1] + rows[1::2])
    changed = retrain(home, fixtures=fixtures, force=True, promote_new=False)
    assert rescored == [serving], "other postings: the serving version is scored on them"
    assert changed.previous_validation is not None
    assert changed.previous_validation["n"] == len(rows[1::2])
