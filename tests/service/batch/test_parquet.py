"""Parquet in and out with the local engine: the same rows and values as CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from service.batch.write import neutralise
from service.cli import cli
from tests.service.batch.test_cli import exits_2_writing_nothing


@pytest.fixture
def runner(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ROLELENS_HOME", str(trained_home))
    return CliRunner()


@pytest.fixture
def postings(tmp_path: Path, fixture_texts: list[str]) -> Path:
    """The fixture postings as a CSV, with a blank text (a per-row error) and a formula."""
    texts = [*fixture_texts[:30], "", "=HYPERLINK(x) deploy models with Kubernetes"]
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "description"])
        writer.writerows([str(i), text] for i, text in enumerate(texts))
    return path


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _as_csv_cell(name: str, value: Any) -> str:
    """A Parquet value as the CSV writer writes it."""
    if value is None:
        return ""
    if name == "probability_ml_engineering":
        return repr(value)
    if name == "key_phrases":
        return neutralise("; ".join(value))
    return neutralise(str(value))


def _batch(runner: CliRunner, *args: str) -> None:
    result = runner.invoke(cli, ["batch", *args, "--quiet"])
    assert result.exit_code == 0, result.output


def test_parquet_out_holds_the_csv_rows_value_for_value(
    runner: CliRunner, postings: Path, tmp_path: Path
) -> None:
    _batch(runner, str(postings), "-o", str(tmp_path / "out.csv"))
    _batch(runner, str(postings), "-o", str(tmp_path / "out.parquet"))
    expected = _csv_rows(tmp_path / "out.csv")
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == list(expected[0])
    assert table.schema.field("probability_ml_engineering").type == pa.float64()
    assert table.schema.field("key_phrases").type == pa.list_(pa.string())
    got = [{k: _as_csv_cell(k, v) for k, v in row.items()} for row in table.to_pylist()]
    assert got == expected
    assert table.column("error").to_pylist()[-2] == "no text in column 'description'"
    # Parquet is for programs: the formula is kept as it was, not neutralised
    assert table.column("description").to_pylist()[-1].startswith("=HYPERLINK")


def test_parquet_in_gives_what_the_same_csv_gives(
    runner: CliRunner, postings: Path, tmp_path: Path
) -> None:
    rows = _csv_rows(postings)
    ids = pa.array([int(r["id"]) for r in rows], pa.int64())
    texts = pa.array([r["description"] for r in rows])
    pq.write_table(pa.table({"id": ids, "description": texts}), tmp_path / "in.parquet")
    _batch(runner, str(postings), "-o", str(tmp_path / "from_csv.csv"))
    _batch(runner, str(tmp_path / "in.parquet"), "-o", str(tmp_path / "from_parquet.csv"))
    assert (tmp_path / "from_parquet.csv").read_bytes() == (tmp_path / "from_csv.csv").read_bytes()
    # Parquet to Parquet, the format named by --format: the id column stays an integer
    _batch(
        runner,
        str(tmp_path / "in.parquet"),
        "-o",
        str(tmp_path / "out.data"),
        "--format",
        "parquet",
    )
    back = pq.read_table(tmp_path / "out.data")
    assert back.schema.field("id").type == pa.int64()
    assert back.column("id").to_pylist() == ids.to_pylist()


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        # a CSV file named .parquet
        ({"in.parquet": b"description\nx\n"}, ["in.parquet", "-o", "o.csv"], "in.parquet is not"),
        # a Parquet file cannot be streamed
        (
            {"in.csv": b"description\nx\n"},
            ["-", "-o", "o.csv", "--input-format", "parquet"],
            "Parquet input must be a file",
        ),
        (
            {"in.csv": b"description\nx\n"},
            ["in.csv", "-o", "-", "--format", "parquet"],
            "Parquet output must go to a file",
        ),
    ],
)
def test_unusable_parquet_exits_2_and_writes_nothing(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, bytes],
    args: list[str],
    message: str,
) -> None:
    exits_2_writing_nothing(runner, tmp_path, monkeypatch, files, ["batch", *args], message)
