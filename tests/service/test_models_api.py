"""GET /api/v1/models and `rolelens models list|show`: what each version is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from classifier.artifacts import current_version
from service.cli import cli
from tests.service.test_admin import AUTH, _documented, _job


def test_models_lists_newest_first_with_packs_figures_author_and_role(
    admin: FlaskClient, admin_app: Flask, home: Path
) -> None:
    first = current_version(home)
    body = {"force": True, "packs": ["seed"], "by": "carol"}
    job = _job(admin, admin.post("/api/v1/retrain", json=body, headers=AUTH))
    assert job["status"] == "promoted", job
    made = job["result"]
    response = admin.get("/api/v1/models")
    _documented(admin_app, response, "/api/v1/models", "GET")
    newest, oldest = response.get_json()["versions"]
    assert newest["version"] == made["version"] and oldest["version"] == first
    assert newest["started_by"] == {"via": "http", "by": "carol"}
    assert newest["packs"] == ["seed"] and list(newest["phrases"]) == ["seed"]
    assert newest["roles"] == ["serving"] and oldest["roles"] == ["previous"]
    assert newest["validation"]["macro_f1"] == made["validation"]["macro_f1"]
    assert newest["sequence"] > oldest["sequence"]


@pytest.fixture
def quick_cli(quick_home: Path, quick_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line on a copy of the quick registry, training on the quick fixtures."""
    monkeypatch.setenv("ROLELENS_HOME", str(quick_home))
    monkeypatch.setenv("ROLELENS_FIXTURES", str(quick_fixtures))


def test_the_author_name_is_checked(admin: FlaskClient) -> None:
    response = admin.post("/api/v1/retrain", json={"by": "no spaces please"}, headers=AUTH)
    assert response.status_code == 422
    assert response.get_json()["field"] == "by"


def test_the_cli_lists_and_shows_the_same_facts(quick_home: Path, quick_cli: None) -> None:
    trained = CliRunner().invoke(cli, ["train", "--force", "--by", "dana", "--json"])
    version = json.loads(trained.output)["version"]
    listed = CliRunner().invoke(cli, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    top = listed.output.splitlines()[0]
    assert top.startswith(f"* {version}") and "by cli:dana" in top and "[serving]" in top
    shown = json.loads(CliRunner().invoke(cli, ["models", "show", version]).output)
    assert shown["started_by"] == {"via": "cli", "by": "dana"}
    assert shown["card"]["version"] == version and shown["phrases"]["curated"]
    as_json = json.loads(CliRunner().invoke(cli, ["models", "list", "--json"]).output)
    assert as_json[0]["version"] == version and as_json[0]["serving"]


def test_the_cli_starts_shows_and_stops_the_shadow(quick_home: Path, quick_cli: None) -> None:
    first = current_version(quick_home)
    CliRunner().invoke(cli, ["train", "--force"])
    started = CliRunner().invoke(cli, ["models", "shadow", first])
    assert started.exit_code == 0 and f"version {first} now scores" in started.output
    shown = json.loads(CliRunner().invoke(cli, ["models", "shadow"]).output)
    assert shown == {
        "version": first,
        "n": 0,
        "agreement": None,
        "mean_abs_delta_p": None,
        "disagreements": [],
    }
    listed = CliRunner().invoke(cli, ["models", "list"]).output
    assert f"{first}" in listed and "previous, shadow]" in listed
    assert CliRunner().invoke(cli, ["models", "shadow", "--off"]).exit_code == 0
    assert "no shadow version" in CliRunner().invoke(cli, ["models", "shadow"]).output
    serving = current_version(quick_home)
    refused = CliRunner().invoke(cli, ["models", "shadow", serving])
    assert refused.exit_code == 2 and "is the serving version" in refused.output


def test_models_diff_on_the_command_line(quick_home: Path, quick_cli: None) -> None:
    full = current_version(quick_home)
    seed_only = json.loads(
        CliRunner().invoke(cli, ["train", "--packs", "seed", "--force", "--json"]).output
    )["version"]
    text = CliRunner().invoke(cli, ["models", "diff", full, seed_only])
    assert text.exit_code == 0, text.output
    assert text.output.startswith(f"from {full} to {seed_only}")
    assert "phrases added: 0" in text.output and "largest weight changes" in text.output
    as_json = json.loads(
        CliRunner().invoke(cli, ["models", "diff", full, seed_only, "--json"]).output
    )
    assert not as_json["phrases_added"] and as_json["phrases_removed"]
    moved = (
        f"validation calls that moved: {len(as_json['moved_calls'])} of {as_json['validation_n']}"
    )
    assert moved in text.output
    unknown = CliRunner().invoke(cli, ["models", "diff", full, "20990101T000000Z-000099"])
    assert unknown.exit_code == 2 and "no model version" in unknown.output
