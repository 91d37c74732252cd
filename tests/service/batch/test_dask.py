"""``--engine dask`` on a LocalCluster of 2 workers on 127.0.0.1: the parts, put end to end, are
the local run's output cell for cell; a killed worker changes nothing; bad inputs are named."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from distributed import Client

from classifier.errors import ArtifactError
from service.batch.dask_engine import connect, expand_inputs, prepare_outdir, run_on_dask
from service.batch.dask_worker import ModelFiles
from service.batch.parquet import open_parquet_table, run_to_parquet
from service.batch.run import BatchOptions, open_table, run_batch
from service.batch.score import Scorer
from service.batch.summary import BatchSummary
from service.cli import cli
from tests.conftest import REPO

pytestmark = pytest.mark.xdist_group("dask")  # one LocalCluster (4 processes) for the module

ML = "Deploy models to production with Kubernetes and monitor model serving"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with connect(None, 2) as client:
        yield client


@pytest.fixture(scope="module")
def model(trained_home: Path) -> ModelFiles:
    return ModelFiles.read(trained_home, Scorer.from_registry(trained_home).version)


@pytest.fixture
def postings(tmp_path: Path, fixture_texts: list[str]) -> Path:
    """Fixture postings with what a local run handles row by row: a blank text (an error),
    a ragged row (a note), a formula (neutralised in CSV), a quoted newline, cp1252 bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["id", "description"])
    for i, text in enumerate(fixture_texts[:24]):
        writer.writerow([str(i), text])
    writer.writerow(["blank", ""])
    writer.writerow(["ragged", ML, "extra field"])
    writer.writerow(["=SUM(A1)", "=cmd| deploy models\nwith Kubernetes"])
    path = tmp_path / "in.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8") + "caf\xe9,pipelines\r\n".encode("cp1252"))
    return path


def _local(source: Path, target: Path, home: Path) -> BatchSummary:
    scorer = Scorer.from_registry(home)
    options = BatchOptions(output_format=target.suffix[1:])
    with open(source, "rb") as stream:
        if source.suffix == ".parquet":
            table = open_parquet_table(source, options, str(source))
        else:
            table = open_table(stream, options, str(source))
        if target.suffix == ".parquet":
            return run_to_parquet(table, target, scorer, options)
        with open(target, "w", encoding="utf-8", newline="") as sink:
            return run_batch(table, sink, scorer, options)


def _model_copies(dask_worker: Any) -> int:
    return len(list(Path(dask_worker.local_directory).glob("rolelens-model-*")))


def test_a_damaged_model_file_is_refused_and_a_sound_one_loads(
    model: ModelFiles, tmp_path: Path
) -> None:
    model.install(tmp_path / "sound")
    assert Scorer.from_registry(tmp_path / "sound", model.version).version == model.version
    name = next(iter(model.files))
    damaged = ModelFiles(model.version, {**model.files, name: b"x"}, model.sha256)
    with pytest.raises(ArtifactError, match=f"{name} of .* arrived damaged"):
        damaged.install(tmp_path / "damaged")


def _csv_parts(outdir: Path) -> list[list[str]]:
    """The part files end to end: one header (each part has the same), then every row."""
    return _csv_parts_of(sorted(outdir.glob("part-*.csv")))


def _csv_parts_of(parts: list[Path]) -> list[list[str]]:
    rows: list[list[str]] = []
    for part in parts:
        with open(part, encoding="utf-8", newline="") as handle:
            header, *body = list(csv.reader(handle))
        assert not rows or header == rows[0]
        rows += ([] if rows else [header]) + body
    return rows


def _csv_file(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _same_summary(dask: BatchSummary, local: BatchSummary) -> None:
    ignore = {"elapsed_seconds", "rows_per_second"}
    got = {k: v for k, v in dask.to_dict().items() if k not in ignore}
    assert got == {k: v for k, v in local.to_dict().items() if k not in ignore}


def test_csv_parts_end_to_end_are_the_local_run_cell_for_cell(
    client: Client, model: ModelFiles, postings: Path, tmp_path: Path, trained_home: Path
) -> None:
    local = _local(postings, tmp_path / "local.csv", trained_home)
    outdir = tmp_path / "out"
    prepare_outdir(outdir, overwrite=False)
    copies: list[dict[str, int]] = []

    def count_model_copies(partitions: int, rows: int) -> None:
        copies.append(client.run(_model_copies))

    summary = run_on_dask(
        client, [postings], outdir, model, BatchOptions(), 5, 6, progress=count_model_copies
    )
    assert len(list(outdir.glob("part-*.csv"))) == 5  # 28 rows, 6 a partition
    # each worker installed the model once, whatever number of partitions it ran
    assert len(copies) == 5 and all(set(c.values()) == {1} for c in copies)
    expected = _csv_file(tmp_path / "local.csv")
    got = _csv_parts(outdir)
    assert len(got) == len(expected) == 29
    for row, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        assert mine == theirs, f"row {row} differs"
    assert got[-2][0] == "'=SUM(A1)"  # neutralised, as locally
    _same_summary(summary, local)
    assert summary.errors == 1 and summary.notes == 1
    assert summary.encoding.startswith("cp1252")
    success = json.loads((outdir / "_SUCCESS").read_text())
    assert success["rows_read"] == 28
    assert success["model_version"] == model.version
    assert success["inputs"] == [str(postings)]
    assert not list(outdir.glob(".*"))  # no temporary file left


def test_parquet_parts_end_to_end_are_the_local_run_cell_for_cell(
    client: Client, model: ModelFiles, postings: Path, tmp_path: Path, trained_home: Path
) -> None:
    local = _local(postings, tmp_path / "local.parquet", trained_home)
    outdir = tmp_path / "out"
    prepare_outdir(outdir, overwrite=False)
    options = BatchOptions(output_format="parquet")
    summary = run_on_dask(client, [postings], outdir, model, options, 5, 10)
    expected = pq.read_table(tmp_path / "local.parquet")
    parts = [pq.read_table(p) for p in sorted(outdir.glob("part-*.parquet"))]
    assert len(parts) == 3
    assert all(part.schema == expected.schema for part in parts)
    got = [row for part in parts for row in part.to_pylist()]
    assert got == expected.to_pylist()
    _same_summary(summary, local)


def test_folders_and_globs_of_jsonl_and_parquet_run_in_order(
    client: Client, model: ModelFiles, postings: Path, tmp_path: Path, trained_home: Path
) -> None:
    folder, other = tmp_path / "inputs", tmp_path / "other"
    folder.mkdir()
    other.mkdir()
    _local(postings, folder / "a.parquet", trained_home)  # typed columns, a list column
    (folder / "notes.md").write_text("not an input")
    with open(other / "b.jsonl", "w", encoding="utf-8") as handle:
        for i in range(5):
            handle.write(json.dumps({"id": i, "text": f"{ML} {i}"}) + "\n")
    inputs = expand_inputs([str(folder), str(other / "*.jsonl")])
    assert inputs == [folder / "a.parquet", other / "b.jsonl"]
    _local(folder / "a.parquet", tmp_path / "a.csv", trained_home)
    _local(other / "b.jsonl", tmp_path / "b.csv", trained_home)
    outdir = tmp_path / "out"
    prepare_outdir(outdir, overwrite=False)
    summary = run_on_dask(client, inputs, outdir, model, BatchOptions(output_format="csv"), 5, 2)
    parts = sorted(outdir.glob("part-*.csv"))
    # the Parquet file's one row group is one partition; the JSON Lines file is cut by rows
    assert len(parts) == 1 + 3
    assert parts[0].read_bytes() == (tmp_path / "a.csv").read_bytes()
    assert _csv_parts_of(parts[1:]) == _csv_file(tmp_path / "b.csv")
    assert summary.rows_read == 28 + 5
    assert summary.input_format == "parquet, jsonl"


@pytest.mark.slow
def test_a_worker_killed_mid_run_changes_nothing(
    client: Client, model: ModelFiles, postings: Path, tmp_path: Path, trained_home: Path
) -> None:
    _local(postings, tmp_path / "local.csv", trained_home)
    outdir = tmp_path / "out"
    prepare_outdir(outdir, overwrite=False)
    pids: dict[str, int] = client.run(os.getpid)
    killed: list[int] = []

    def kill_a_busy_worker(partitions: int, rows: int) -> None:
        if killed:
            return
        busy = [address for address, keys in client.processing().items() if keys]
        victim = pids[busy[0] if busy else next(iter(pids))]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    summary = run_on_dask(
        client, [postings], outdir, model, BatchOptions(), 5, 2, progress=kill_a_busy_worker
    )
    assert killed
    assert _csv_parts(outdir) == _csv_file(tmp_path / "local.csv")
    assert summary.rows_read == 28
    assert (outdir / "_SUCCESS").exists()
    assert not list(outdir.glob(".*"))  # no temporary file of the killed worker's left


@pytest.fixture
def runner(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ROLELENS_HOME", str(trained_home))
    return CliRunner()


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        # a workbook among good inputs is named, before any work
        (["in.csv", "bad.csv"], ["in.csv", "bad.csv"], "bad.csv is a ZIP archive"),
        (["in.csv"], ["in.csv", "*.jsonl"], "*.jsonl matches no file"),
        (["in.csv"], ["missing.csv"], "missing.csv does not exist"),
        (["in.csv"], ["in.csv", "--text-column", "body"], "columns are: description"),
        # OUTDIR exists: refused without --overwrite
        (["in.csv", "out/old.txt"], ["in.csv"], "give --overwrite"),
        (["in.csv"], ["in.csv", "--scheduler", "x"], "--scheduler 'x' is not an address"),
    ],
)
def test_bad_inputs_are_named_without_a_traceback(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: list[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in files:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        data = b"PK\x03\x04rest" if name == "bad.csv" else f"description\n{ML}\n".encode()
        (tmp_path / name).write_bytes(data)
    result = runner.invoke(cli, ["batch", *args, "-o", "out", "--engine", "dask"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "_SUCCESS").exists()


@pytest.mark.slow
def test_progress_on_a_tty_and_the_local_summary(
    client: Client, postings: Path, tmp_path: Path, trained_home: Path
) -> None:
    env = {**os.environ, "ROLELENS_HOME": str(trained_home)}
    local = CliRunner().invoke(
        cli, ["batch", str(postings), "-o", str(tmp_path / "l.csv")], env=env
    )
    assert local.exit_code == 0, local.output
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    command = [sys.executable, "-c", "from service.cli import main; main()", "batch"]
    address = client.scheduler.address
    args = [str(postings), "-o", str(tmp_path / "out"), "--engine", "dask", "--scheduler", address]
    process = subprocess.Popen(
        [*command, *args, "--partition-rows", "4"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert process.wait(timeout=30) == 0, seen
    text = seen.decode("utf-8", "replace")
    assert "7 partitions" in text and "28 rows" in text  # the bar's last state
    summary = _summary_lines(local.output)
    assert summary[0] in text  # "27 rows read, 26 classified (...), 1 with errors, ..."
    assert summary[1] in text  # encoding, formats, model


def _summary_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line and not line.startswith(" ")]


def test_overwrite_replaces_an_earlier_run_on_a_cluster_given_by_address(
    client: Client, runner: CliRunner, postings: Path, tmp_path: Path
) -> None:
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "part-00009.csv").write_text("stale part of an earlier, larger run")
    (outdir / "keep.txt").write_text("not ours")
    address = client.scheduler.address
    args = ["batch", str(postings), "-o", str(outdir), "--engine", "dask", "--scheduler", address]
    result = runner.invoke(cli, [*args, "--overwrite", "--partition-rows", "20"])
    assert result.exit_code == 0, result.output
    assert "28 rows read, 27 classified" in result.output
    names = sorted(p.name for p in outdir.iterdir())
    assert names == ["_SUCCESS", "keep.txt", "part-00000.csv", "part-00001.csv"]
