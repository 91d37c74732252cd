"""`rolelens phrases …` and `rolelens models rollback|prune` from a user's seat."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier.artifacts import current_version
from service.cli import cli


@pytest.fixture
def home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared private copy, made the CLI's data directory."""
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    return home


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_add_list_remove_history(home: Path) -> None:
    code, out = run(
        "phrases",
        "add",
        "Uplift modelling for campaigns",
        "--label",
        "data_science",
        "--by",
        "alice",
    )
    assert code == 0 and "added as phrase 1" in out
    code, out = run("phrases", "list", "--json")
    [phrase] = json.loads(out)
    assert phrase["source"] == "user:alice"
    assert run("phrases", "remove", "1", "--by", "bob")[0] == 0
    assert run("phrases", "list")[1] == ""
    code, out = run("phrases", "history")
    lines = out.splitlines()
    assert "remove" in lines[0] and "bob" in lines[0] and current_version(home) in lines[0]
    assert "add" in lines[1] and "alice" in lines[1]


def test_duplicate_is_ok_and_conflict_exits_2(home: Path) -> None:
    run("phrases", "add", "Uplift modelling", "--label", "data_science", "--by", "a")
    code, out = run("phrases", "add", "uplift modelling", "--label", "data_science")
    assert code == 0 and "duplicate" in out
    code, out = run("phrases", "add", "uplift modelling", "--label", "ml_engineering")
    assert code == 2 and "conflict" in out


def test_import_reports_each_row_and_atomic_adds_nothing(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "text,label\nUplift modelling,data_science\nx,data_science\n"
        "Triton inference server,ml_engineering\n"
    )
    code, out = run("phrases", "import", str(source), "--atomic", "--by", "a")
    assert code == 2
    assert "row 2: invalid" in out and "row 1: rolled back" in out
    assert run("phrases", "list")[1] == ""
    code, out = run("phrases", "import", str(source), "--by", "a")
    assert code == 2 and "summary: 2 added, 1 invalid" in out
    code, out = run("phrases", "export")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["text"] for r in rows] == ["Uplift modelling", "Triton inference server"]


def test_import_without_a_label_column_says_which_columns_exist(tmp_path: Path, home: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("phrase,role\nUplift modelling,data_science\n")
    code, out = run("phrases", "import", str(source))
    assert code == 2 and "columns are: phrase, role" in out


def test_models_rollback_and_prune(home: Path) -> None:
    first = current_version(home)
    code, out = run("train", "--force", "--json")
    second = json.loads(out)["version"]
    code, out = run("models", "rollback")
    assert code == 0 and f"version {first} now serves (was {second})" in out
    code, out = run("models", "prune", "--keep", "1")
    assert code == 0 and "removed 0 version(s)" in out, "serving and previous are protected"
    code, out = run("models", "rollback", "../../etc")
    assert code == 2 and "not a version name" in out


def test_remove_unknown_phrase_exits_2(home: Path) -> None:
    code, out = run("phrases", "remove", "42")
    assert code == 2 and "no phrase 42" in out
