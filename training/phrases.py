"""Labeled phrases: the packs shipped in ``fixtures/phrases/`` and reading labeled CSVs."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from classifier.labels import LABELS, PACKS, TrainingPhrase
from training.errors import TrainingError

_PUNCT = re.compile(r"[^\w]+")


#: The project's ``fixtures/`` folder: where packs, filler and validation postings are read
#: from unless a caller names another (the CLI and the app read ``ROLELENS_FIXTURES``).
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def validation_path(fixtures: Path | None = None) -> Path:
    """The labeled validation postings, ``postings/validation.csv`` of ``fixtures``."""
    return (fixtures or FIXTURES) / "postings" / "validation.csv"


def normalise(text: str) -> str:
    """Text as compared for duplicates: lower case, punctuation and spacing folded."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def read_phrase_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV that has at least the columns ``text`` and ``label``.

    Raises:
        TrainingError: the file is missing or lacks a column (naming the columns it has).
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"text", "label"} - set(reader.fieldnames or ())
            if missing:
                raise TrainingError(
                    f"{path}: column {', '.join(sorted(missing))} not found; "
                    f"columns are: {', '.join(reader.fieldnames or ())}"
                )
            return list(reader)
    except FileNotFoundError:
        raise TrainingError(f"phrase file {path} not found") from None


def read_phrase_csv(path: Path, default_source: str | None = None) -> list[TrainingPhrase]:
    """Read a ``text,label[,source]`` CSV.

    Args:
        path: the file.
        default_source: the source of rows without a ``source`` column or value.

    Returns:
        The phrases in file order.

    Raises:
        TrainingError: the file is missing, lacks a column, or has an unknown label.
    """
    phrases = []
    for line, row in enumerate(read_phrase_rows(path), start=2):
        if row["label"] not in LABELS:
            raise TrainingError(
                f"{path}, line {line}: unknown label {row['label']!r}; "
                f"use one of: {', '.join(LABELS)}"
            )
        source = row.get("source") or default_source or path.name
        phrases.append(TrainingPhrase(row["text"].strip(), row["label"], source))
    return phrases


def load_packs(names: Sequence[str], root: Path | None = None) -> list[TrainingPhrase]:
    """The phrases of the named shipped packs, without duplicates (first one kept).

    Raises:
        TrainingError: an unknown pack name.
    """
    folder = (root or FIXTURES) / "phrases"
    phrases: list[TrainingPhrase] = []
    for name in names:
        if name not in PACKS:
            raise TrainingError(f"unknown phrase pack {name!r}; packs are: {', '.join(PACKS)}")
        phrases.extend(read_phrase_csv(folder / f"{name}.csv", default_source=name))
    return dedupe(phrases)


def dedupe(phrases: Iterable[TrainingPhrase]) -> list[TrainingPhrase]:
    """Drop later phrases whose normalised text was already seen."""
    seen: set[str] = set()
    kept = []
    for phrase in phrases:
        key = normalise(phrase.text)
        if key and key not in seen:
            seen.add(key)
            kept.append(phrase)
    return kept


def read_neutral(root: Path | None = None) -> list[str]:
    """The neutral pack: sentences and phrases that postings of both roles (and postings in
    general) use: boilerplate, company blurbs, benefits, requirements, soft skills,
    collaboration and shared tools. Training penalises each word by how much of its use is
    neutral, and calibration mixes these into pseudo-postings.

    Raises:
        TrainingError: the pack is missing or has no ``text`` column.
    """
    path = (root or FIXTURES) / "phrases" / "neutral.csv"
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if "text" not in (reader.fieldnames or ()):
                raise TrainingError(f"{path}: column 'text' not found")
            return [row["text"].strip() for row in reader if (row["text"] or "").strip()]
    except FileNotFoundError:
        raise TrainingError(f"neutral pack {path} not found") from None
