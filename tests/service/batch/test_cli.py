"""`rolelens batch`: files in and out, stdin and stdout, exit codes, and interrupted runs."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from tests.conftest import REPO

ML = "Deploy models to production with Kubernetes and monitor model serving"
DS = "Run A/B tests and present statistical insights to stakeholders"


@pytest.fixture
def runner(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ROLELENS_HOME", str(trained_home))
    return CliRunner()


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_batch_writes_every_row_and_summarises(runner: CliRunner, tmp_path: Path) -> None:
    source = _write(tmp_path / "in.csv", [["id", "description"], ["1", ML], ["2", DS], ["3", ""]])
    before = source.read_bytes()
    result = runner.invoke(cli, ["batch", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    rows = _read(tmp_path / "out.csv")
    assert [(r["id"], r["label"], r["verdict"]) for r in rows] == [
        ("1", "ml_engineering", "ml_engineering"),
        ("2", "data_science", "data_science"),
        ("3", "", ""),
    ]
    assert rows[2]["error"] == "no text in column 'description'"
    # the summary goes to stderr (CliRunner's output holds both streams)
    assert (
        "3 rows read, 2 classified (data_science 1, ml_engineering 1, neither 0), 1 with errors"
        in (result.output)
    )
    assert "encoding UTF-8" in result.output
    assert "rows/s" in result.output
    assert source.read_bytes() == before


def test_stdin_to_stdout_and_jsonl_by_extension(runner: CliRunner, tmp_path: Path) -> None:
    data = f"description\n{ML}\n"
    piped = runner.invoke(cli, ["batch", "-", "-o", "-", "--quiet"], input=data)
    assert piped.exit_code == 0, piped.output
    lines = piped.output.splitlines()  # --quiet: nothing but the CSV
    assert lines[0].startswith("description,label,")
    assert lines[1].startswith(f"{ML},ml_engineering,")
    assert len(lines) == 2
    out = tmp_path / "out.jsonl"
    to_jsonl = runner.invoke(cli, ["batch", "-", "-o", str(out)], input=data)
    assert to_jsonl.exit_code == 0, to_jsonl.output
    assert json.loads(out.read_text())["label"] == "ml_engineering"


def test_two_jobs_keep_the_input_order(runner: CliRunner, tmp_path: Path) -> None:
    rows = [["id", "text"]] + [[str(i), ML if i % 2 else DS] for i in range(600)]
    source = _write(tmp_path / "in.csv", rows)
    result = runner.invoke(
        cli, ["batch", str(source), "-o", str(tmp_path / "o.csv"), "--jobs", "2", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    out = _read(tmp_path / "o.csv")
    assert [r["id"] for r in out] == [str(i) for i in range(600)]
    assert all(
        r["label"] == ("ml_engineering" if int(r["id"]) % 2 else "data_science") for r in out
    )


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({}, ["batch", "missing.csv", "-o", "out.csv"], "missing.csv does not exist"),
        (
            {"in.csv": b"id,title\n1,x\n"},
            ["batch", "in.csv", "-o", "out.csv"],
            "no text column: none of description",
        ),
        (
            {"in.csv": b"id,title\n1,x\n"},
            ["batch", "in.csv", "-o", "out.csv", "--text-column", "body"],
            "columns are: id, title",
        ),
        ({"in.xlsx": b"PK\x03\x04rest"}, ["batch", "in.xlsx", "-o", "out.csv"], "save it as CSV"),
        ({"in.csv": b""}, ["batch", "in.csv", "-o", "out.csv"], "in.csv is empty"),
        (
            {"in.csv": b"description\nx\n"},
            ["batch", "in.csv", "-o", "in.csv"],
            "the input is never overwritten",
        ),
        (
            {"in.csv": b"description\nx\n"},
            ["batch", "in.csv", "-o", "no/such/out.csv"],
            "folder of no/such/out.csv does not exist",
        ),
        (
            {"in.csv": b"description\nx\n"},
            ["batch", "in.csv", "-o", "o.csv", "--jobs", "0"],
            "Invalid value for '--jobs'",
        ),
    ],
)
def test_unusable_input_exits_2_and_writes_nothing(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, bytes],
    args: list[str],
    message: str,
) -> None:
    exits_2_writing_nothing(runner, tmp_path, monkeypatch, files, args, message)


def exits_2_writing_nothing(
    runner: CliRunner,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, bytes],
    args: list[str],
    message: str,
) -> None:
    """Run ``rolelens ARGS`` in a folder holding ``files``: exit 2 with ``message``, no
    traceback, and no file written beside the inputs."""
    monkeypatch.chdir(folder)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)


def test_batch_without_a_model_trains_the_default_one_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained_home: Path
) -> None:
    home = tmp_path / "home"
    trained: list[Path] = []

    def fake_retrain(where: Path, wait: bool, fixtures: Path | None) -> None:  # real: test_cli.py
        trained.append(where)
        shutil.copytree(trained_home / "models", where / "models")

    monkeypatch.setattr("training.retrain.retrain", fake_retrain)
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    source = _write(tmp_path / "in.csv", [["description"], [ML]])
    result = CliRunner().invoke(cli, ["batch", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 0, result.output
    assert trained == [home]
    assert "training the default one" in result.stderr
    assert (tmp_path / "o.csv").exists()


@pytest.mark.slow
def test_a_killed_run_leaves_no_output_file(trained_home: Path, tmp_path: Path) -> None:
    rows = [["description"]] + [[f"{ML} {i}"] for i in range(60_000)]
    source = _write(tmp_path / "big.csv", rows)
    target = tmp_path / "out.csv"
    env = {**os.environ, "ROLELENS_HOME": str(trained_home)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from service.cli import main; main()",
            "batch",
            str(source),
            "-o",
            str(target),
            "--jobs",
            "2",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not any(p.suffix == ".part" for p in tmp_path.iterdir()):
        assert time.monotonic() < deadline, "the run never started writing"
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert b"was not written" in stderr
    assert b"Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]


def test_a_full_disk_exits_1_without_a_traceback_or_a_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("service.batch.cli.run_batch", disk_full)
    source = _write(tmp_path / "in.csv", [["description"], [ML]])
    result = runner.invoke(cli, ["batch", str(source), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_the_batch_pipeline_loads_the_model_libraries_only_with_a_model() -> None:
    probe = (
        "import sys, service.batch.cli, service.batch.run; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sklearn', 'scipy', 'flask', 'training', 'tqdm'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert done.stdout.strip() == "[]"
