"""The shipped phrase packs: well-formed, and the seed pack really comes from the seeds."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from classifier.labels import LABELS
from tests.conftest import REPO, SHARED
from training.errors import TrainingError
from training.phrases import PACKS, load_packs, normalise, read_phrase_csv

SEEDS = SHARED / "seeds"


def _words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).split()


@pytest.mark.skipif(
    not SEEDS.is_dir() and os.environ.get("CI") != "true",
    reason="../shared/seeds is not beside this checkout",
)
def test_every_seed_phrase_is_made_of_its_documents_words() -> None:
    phrases = read_phrase_csv(REPO / "fixtures" / "phrases" / "seed.csv")
    assert 40 <= len(phrases) <= 100
    vocabularies: dict[str, set[str]] = {}
    for phrase in phrases:
        if phrase.source not in vocabularies:
            document = (SEEDS / phrase.source).read_text(encoding="utf-8")
            vocabularies[phrase.source] = set(_words(document))
        missing = [w for w in _words(phrase.text) if w not in vocabularies[phrase.source]]
        assert not missing, f"{phrase.text!r}: {missing} not in {phrase.source}"
    assert len(vocabularies) == 2, "both seed documents contribute phrases"


@pytest.mark.parametrize("pack", PACKS)
def test_packs_are_labeled_and_free_of_duplicates(pack: str) -> None:
    phrases = read_phrase_csv(REPO / "fixtures" / "phrases" / f"{pack}.csv")
    assert {p.label for p in phrases} == set(LABELS)
    keys = [normalise(p.text) for p in phrases]
    assert len(keys) == len(set(keys))
    assert all(p.source for p in phrases)


def test_curated_phrases_say_so() -> None:
    assert {p.source for p in load_packs(["curated"])} == {"curated"}


def test_load_packs_drops_cross_pack_duplicates() -> None:
    both = load_packs(["seed", "curated"])
    keys = [normalise(p.text) for p in both]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nsome phrase,chef\n", "unknown label 'chef'"),  # wrong label
        ("words,label\nsome phrase,data_science\n", "column text not found"),  # no text column
    ],
)
def test_bad_phrase_files_say_what_to_fix(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.csv"
    path.write_text(content)
    with pytest.raises(TrainingError, match=message):
        read_phrase_csv(path)


def test_unknown_pack_is_refused() -> None:
    with pytest.raises(TrainingError, match="unknown phrase pack"):
        load_packs(["nope"])


def test_packs_come_from_the_folder_given_not_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "phrases").mkdir()
    (tmp_path / "phrases" / "seed.csv").write_text("text,label\ntune the cluster,ml_engineering\n")
    monkeypatch.setenv("ROLELENS_FIXTURES", str(tmp_path / "elsewhere"))
    assert [p.text for p in load_packs(["seed"], tmp_path)] == ["tune the cluster"]
    assert len(load_packs(["seed"])) > 1  # the project's pack: the library reads no variable
