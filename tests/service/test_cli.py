"""The rolelens command line: outputs a user reads, and exit codes a script relies on."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from classifier.artifacts import current_version, read_card
from service.cli import cli
from tests.conftest import REPO

VALIDATION = REPO / "fixtures" / "postings" / "validation.csv"


@pytest.fixture
def runner(trained_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ROLELENS_HOME", str(trained_home))
    return CliRunner()


def test_classify_json_has_every_field(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["classify", "--json", "Deploy models with Kubernetes and Docker"])
    assert result.exit_code == 0, result.output
    prediction = json.loads(result.output)
    assert set(prediction) >= {
        "label",
        "probability",
        "strength",
        "key_phrases",
        "counter_phrases",
        "score",
        "evidence",
        "similar_phrases",
        "model_version",
    }
    assert prediction["label"] == "ml_engineering"
    assert set(prediction["key_phrases"][0]) == {"text", "weight", "toward", "spans", "terms"}
    assert set(prediction["score"]) == {"logit", "bias", "contributions_sum"}


def test_classify_reads_a_file_and_stdin(runner: CliRunner, tmp_path: Path) -> None:
    posting = tmp_path / "p.txt"
    posting.write_text("Run A/B tests and present statistical insights to stakeholders.")
    from_file = runner.invoke(cli, ["classify", "--file", str(posting)])
    from_stdin = runner.invoke(cli, ["classify", "-"], input=posting.read_text())
    assert from_file.exit_code == from_stdin.exit_code == 0
    assert from_file.output == from_stdin.output
    assert from_file.output.startswith("data-science-leaning")


def test_evaluate_json_has_the_documented_keys(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["evaluate", str(VALIDATION), "--text-column", "text", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) >= {"n", "accuracy", "macro_f1", "roc_auc", "brier", "ece", "confusion"}
    assert report["n"] >= 40


def test_evaluate_draws_a_plot(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "plot.png"
    result = runner.invoke(cli, ["evaluate", str(VALIDATION), "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_models_list_marks_the_serving_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["models", "list"])
    assert result.exit_code == 0
    assert result.output.startswith("* ")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["evaluate", str(VALIDATION), "--text-column", "nope"], 2, "column 'nope' not found"),
        (["models", "show", "../escape"], 2, "not a version name"),
        (["train", "--packs", "bogus"], 2, "comma-separated list"),
        (["classify", "--file", "/no/such/file"], 2, "does not exist"),
        (["frobnicate"], 2, "No such command"),
    ],
)
def test_bad_input_exits_2_with_what_to_fix(
    runner: CliRunner, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output


def test_classify_without_a_model_trains_the_default_one_first_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(tmp_path))
    text = "Deploy models to production with Kubernetes and monitor drift."
    first = CliRunner().invoke(cli, ["classify", "--json", text])
    assert first.exit_code == 0, first.output
    assert first.stderr.count("\n") == 1, "one line says what happens"
    assert "training the default one" in first.stderr
    version = current_version(tmp_path)
    assert json.loads(first.stdout)["model_version"] == version
    assert read_card(tmp_path, version)["metrics"]["packs"] == ["seed", "curated", "user"]
    again = CliRunner().invoke(cli, ["classify", "--json", text])
    assert again.exit_code == 0 and again.stderr == "", "trained once, then used"
    assert current_version(tmp_path) == version


EMPTY = [
    # (arguments, stdin): a posting with nothing in it, however it is given
    (["classify", ""], None),  # an empty argument
    (["classify", " \n\t "], None),  # whitespace only
    (["classify", "-"], ""),  # nothing on stdin
    (["classify"], ""),  # no argument and nothing piped in
    (["classify", "--json", "--file", "EMPTY_FILE"], None),  # an empty file
]


@pytest.mark.parametrize(("args", "stdin"), EMPTY)
def test_an_empty_posting_exits_2_saying_what_to_paste_before_looking_for_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str | None
) -> None:
    (tmp_path / "EMPTY_FILE").write_text("  \n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ROLELENS_HOME", str(tmp_path / "home"))  # no model there
    result = CliRunner().invoke(cli, args, input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "paste the text of a job posting" in result.stderr
    assert not (tmp_path / "home").exists(), "usage is checked before any model is trained"


def test_train_then_classify_round_trip(
    quick_home: Path, quick_fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(quick_home))
    monkeypatch.setenv("ROLELENS_FIXTURES", str(quick_fixtures))
    result = CliRunner().invoke(cli, ["train", "--force", "--json"])
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    classified = CliRunner().invoke(cli, ["classify", "--json", "deploy models"])
    assert json.loads(classified.output)["model_version"] == outcome["version"]


def test_train_reads_the_packs_from_rolelens_fixtures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained_home: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(trained_home, home)
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    monkeypatch.setenv("ROLELENS_FIXTURES", str(tmp_path / "no-packs"))
    result = CliRunner().invoke(cli, ["train", "--force"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'no-packs' / 'phrases'}" in result.output


def test_train_keeps_rolelens_keep_versions_versions(
    quick_home: Path, quick_fixtures: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(quick_home))
    monkeypatch.setenv("ROLELENS_FIXTURES", str(quick_fixtures))
    monkeypatch.setenv("ROLELENS_KEEP_VERSIONS", "1")
    first = json.loads(CliRunner().invoke(cli, ["train", "--force", "--json"]).output)
    assert first["pruned"] == [], "the version that served before is protected"
    second = CliRunner().invoke(cli, ["train", "--force", "--json"])
    assert json.loads(second.output)["pruned"] == [first["previous"]]
    third = CliRunner().invoke(cli, ["train", "--force", "--json"])
    assert json.loads(third.output)["pruned"] == [first["version"]]


def test_a_bad_keep_versions_setting_says_what_to_use(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_KEEP_VERSIONS", "lots")
    result = runner.invoke(cli, ["train"])
    assert result.exit_code == 2
    assert "ROLELENS_KEEP_VERSIONS='lots': use a whole number" in result.output


def test_train_no_promote_keeps_serving_and_the_new_version_can_be_evaluated(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(home))
    serving = current_version(home)
    trained = CliRunner().invoke(cli, ["train", "--packs", "seed", "--no-promote", "--json"])
    assert trained.exit_code == 0, trained.output
    outcome = json.loads(trained.stdout)
    assert outcome["promoted"] is False and outcome["version"] != serving
    assert current_version(home) == serving, "the serving model stays"
    args = ["evaluate", str(VALIDATION), "--json", "--version", outcome["version"]]
    evaluated = CliRunner().invoke(cli, args)
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["model_version"] == outcome["version"]
    both = CliRunner().invoke(cli, ["train", "--force", "--no-promote"])
    assert both.exit_code == 2 and "give one of them" in both.stderr


def test_the_plot_hint_names_the_install_command_of_this_checkout(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the plot extra were missing
    result = runner.invoke(cli, ["evaluate", str(VALIDATION), "--plot", str(tmp_path / "q.png")])
    assert result.exit_code == 2
    assert ".venv/bin/pip install -e '.[plot]'" in result.stderr
