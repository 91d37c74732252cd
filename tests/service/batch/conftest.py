"""Fixtures of the batch tests."""

from __future__ import annotations

import csv

import pytest

from tests.service.conftest import POSTINGS


@pytest.fixture(scope="session")
def fixture_texts() -> list[str]:
    """Every posting under fixtures/postings/: the validation rows and the sample files."""
    with open(POSTINGS / "validation.csv", encoding="utf-8", newline="") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    return texts + [path.read_text(encoding="utf-8") for path in sorted(POSTINGS.glob("*.txt"))]
