"""The phrase store: validation, dedupe, conflicts, soft removal, audit, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from classifier.labels import DATA_SCIENCE as DS
from classifier.labels import ML_ENGINEERING as ML
from classifier.labels import TrainingPhrase
from training.errors import PhraseNotFound, TrainingError
from training.store import MIGRATIONS, STORE_FILE, PhraseStore


@pytest.fixture
def store(tmp_path: Path) -> PhraseStore:
    pack = TrainingPhrase("deploy models to production", ML, "curated")
    return PhraseStore(tmp_path, {"deploy models to production": pack})


@pytest.mark.parametrize(
    ("text", "label", "message"),
    [
        ("ab", DS, "has 2 characters"),  # too short after trimming
        ("x" * 301, DS, "has 301 characters"),  # too long
        ("   ", DS, "has 0 characters"),  # only spaces
        ("tab\there", DS, "control characters"),  # a control character
        ("line\nbreak", DS, "control characters"),  # a newline
        ("run experiments", "chef", "unknown label 'chef'"),  # unknown label
        ("!!! ???", DS, "no words"),  # punctuation only
    ],
)
def test_invalid_phrases_are_refused_with_the_reason(
    store: PhraseStore, text: str, label: str, message: str
) -> None:
    result = store.add(text, label, "alice")
    assert result.status == "invalid"
    assert message in result.message
    assert store.list_phrases() == []


def test_added_phrase_is_listed_with_its_author(store: PhraseStore) -> None:
    result = store.add("  Causal inference on observational data ", DS, "alice", "v1")
    assert result.status == "added" and result.id is not None
    [phrase] = store.list_phrases()
    assert (phrase.text, phrase.label, phrase.source) == (
        "Causal inference on observational data",
        DS,
        "user:alice",
    )
    assert store.training_phrases() == [
        TrainingPhrase("Causal inference on observational data", DS, "user:alice")
    ]


def test_same_phrase_same_label_is_a_noop_that_says_so(store: PhraseStore) -> None:
    store.add("Causal inference", DS, "alice")
    again = store.add("causal   INFERENCE!", DS, "bob")
    assert again.status == "duplicate"
    assert "already known" in again.message
    assert len(store.list_phrases()) == 1


def test_same_phrase_other_label_is_a_conflict_naming_both(store: PhraseStore) -> None:
    store.add("Feature engineering", DS, "alice")
    clash = store.add("feature engineering", ML, "bob")
    assert clash.status == "conflict"
    assert "'feature engineering' (ml_engineering)" in clash.message
    assert "'Feature engineering' (data_science)" in clash.message
    assert [p.label for p in store.list_phrases()] == [DS]


def test_a_phrase_contradicting_a_shipped_pack_is_a_conflict(store: PhraseStore) -> None:
    clash = store.add("Deploy models to production.", DS, "alice")
    assert clash.status == "conflict" and "curated pack" in clash.message


def test_removal_is_soft_and_audited(store: PhraseStore) -> None:
    added = store.add("Survival analysis", DS, "alice", "v1")
    assert added.id is not None
    store.remove(added.id, "bob", "v2")
    assert store.list_phrases() == []
    [kept] = store.list_phrases(include_removed=True)
    assert kept.removed_at is not None
    history = store.history()
    assert [(e.action, e.who, e.model_version) for e in history] == [
        ("remove", "bob", "v2"),
        ("add", "alice", "v1"),
    ]
    assert store.add("survival analysis", ML, "carol").status == "added", "removed text is free"


def test_removing_an_unknown_phrase_says_so(store: PhraseStore) -> None:
    with pytest.raises(PhraseNotFound, match="no phrase 99"):
        store.remove(99, "alice")


@pytest.mark.parametrize("phrase_id", [0, -1, 2**63, 10**30])
def test_ids_sqlite_cannot_hold_are_not_found_not_a_crash(
    store: PhraseStore, phrase_id: int
) -> None:
    with pytest.raises(PhraseNotFound, match=f"no phrase {phrase_id}"):
        store.remove(phrase_id, "tester")


def test_atomic_import_adds_nothing_when_a_row_is_refused(store: PhraseStore) -> None:
    rows = [("Bayesian modelling", DS), ("x", DS), ("GPU inference", ML)]
    results = store.add_many(rows, "alice", atomic=True)
    assert [r.status for r in results] == ["rolled back", "invalid", "rolled back"]
    assert store.list_phrases() == []
    assert store.history() == []


def test_non_atomic_import_keeps_the_good_rows(store: PhraseStore) -> None:
    rows = [("Bayesian modelling", DS), ("x", DS), ("GPU inference", ML)]
    results = store.add_many(rows, "alice")
    assert [r.status for r in results] == ["added", "invalid", "added"]
    assert len(store.list_phrases()) == 2


@pytest.mark.parametrize("who", ["", "a b", "x" * 65, "semi;colon"])
def test_author_names_are_checked(store: PhraseStore, who: str) -> None:
    with pytest.raises(TrainingError, match="use 1-64 letters"):
        store.add("Bayesian modelling", DS, who)


def test_store_is_in_wal_mode_at_the_latest_schema(store: PhraseStore, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / STORE_FILE)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()
    PhraseStore(tmp_path)  # opening again migrates nothing and loses nothing


def test_list_filters_by_label_and_source(store: PhraseStore) -> None:
    store.add("Bayesian modelling", DS, "alice")
    store.add("GPU inference", ML, "bob")
    assert [p.text for p in store.list_phrases(label=ML)] == ["GPU inference"]
    assert [p.text for p in store.list_phrases(source="user:alice")] == ["Bayesian modelling"]
