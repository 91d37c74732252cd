"""A full disk: writes answer 507 naming the data directory, reads keep working.

The disk is filled by injection: SQLite connections whose writes fail as SQLite fails on a
full disk ("database or disk is full"), and a job file that cannot be written (ENOSPC).
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.app import create_app
from service.cli import cli

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class FullDatabase:
    """A SQLite connection that reads as usual and fails every write as a full disk does."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.lstrip().upper().startswith(WRITES):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = sqlite3.connect
    monkeypatch.setattr(
        "training.store.sqlite3.connect", lambda *a, **k: FullDatabase(connect(*a, **k))
    )


@pytest.fixture
def admin(home: Path) -> FlaskClient:
    return create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": TOKEN}).test_client()


def _storage_full(response: Any, home: Path) -> None:
    assert response.status_code == 507, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "storage_full"
    assert str(home) in problem["detail"] and "free space" in problem["detail"]


def test_adding_a_phrase_to_a_full_disk_is_507_and_reads_go_on(
    admin: FlaskClient, home: Path, full_disk: None, posting: str
) -> None:
    phrase = {"text": "feature store for online serving", "label": "ml_engineering"}
    _storage_full(admin.post("/api/v1/phrases", json=phrase, headers=AUTH), home)
    listed = admin.get("/api/v1/phrases")
    assert listed.status_code == 200 and listed.get_json()["count"] == 0
    assert admin.post("/api/v1/classify", json={"text": posting}).status_code == 200


def test_starting_a_retrain_on_a_full_disk_is_507(
    admin: FlaskClient, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(*_: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("training.jobs._write", no_space)
    _storage_full(admin.post("/api/v1/retrain", headers=AUTH), home)


def test_the_cli_says_one_line_and_exits_1_on_a_full_disk(
    home: Path, full_disk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    result = CliRunner().invoke(
        cli, ["phrases", "add", "feature stores", "--label", "ml_engineering"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(home) in lines[0] and "is full" in lines[0]
    listed = CliRunner().invoke(cli, ["phrases", "list"])  # reads keep working
    assert listed.exit_code == 0
