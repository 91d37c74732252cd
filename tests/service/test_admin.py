"""The admin API: phrases, retrain, models, rollback — and who may write."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from classifier.artifacts import current_version
from service.app import create_app
from tests.service.conftest import AUTH, TOKEN
from training import jobs

READ_ONLY_POSTS = {"/api/v1/classify", "/api/v1/classify/batch"}  # classify: no state change


def _writes(app: Flask) -> list[tuple[str, str]]:
    """Every route that changes state: all POST/PUT/PATCH/DELETE but classification."""
    return sorted(
        (method, rule.rule.replace("<int:phrase_id>", "1"))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method in {"POST", "PUT", "PATCH", "DELETE"} and rule.rule not in READ_ONLY_POSTS
    )


def _documented(app: Flask, response: TestResponse, path: str, method: str) -> None:
    """The response matches the schema the OpenAPI document gives for its status."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    template = path if path in spec["paths"] else "/api/v1/phrases/{phrase_id}"
    responses = spec["paths"][template][method.lower()]["responses"]
    entry = responses.get(str(response.status_code), responses["default"])
    schema = entry["content"][response.mimetype]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    assert not [e.message for e in validator.iter_errors(response.get_json())]


# Every route that changes state, one row each. A new write route fails
# test_the_write_table_is_complete until it is added here, and then every auth case below.
WRITES = [
    ("DELETE", "/api/v1/phrases/1"),  # remove a phrase
    ("DELETE", "/api/v1/models/shadow"),  # stop shadowing
    ("POST", "/api/v1/models/rollback"),  # move CURRENT back
    ("POST", "/api/v1/models/shadow"),  # start shadowing
    ("POST", "/api/v1/phrases"),  # add phrases
    ("POST", "/api/v1/retrain"),  # train and promote
]
AUTH_CASES = [
    # (token configured, Authorization header, status)
    (None, None, 403),  # writes off: 403 saying how to turn them on
    (None, f"Bearer {TOKEN}", 403),  # writes off, whatever the client sends
    (TOKEN, None, 401),  # no header
    (TOKEN, "Bearer", 401),  # scheme without a token
    (TOKEN, "Bearer ", 401),  # blank token
    (TOKEN, f"Basic {TOKEN}", 401),  # another scheme
    (TOKEN, "Bearer nope", 403),  # wrong token
    (TOKEN, f"Bearer {TOKEN[:-1]}", 403),  # a prefix of the token
    (TOKEN, f"Bearer {TOKEN}x", 403),  # the token and more
    (TOKEN, f"Bearer {TOKEN.upper()}", 403),  # case matters
    (TOKEN, "Bearer \u00e9\u00e8", 403),  # non-ASCII
]


def test_the_write_table_is_complete(admin_app: Flask) -> None:
    assert _writes(admin_app) == sorted(WRITES)
    for rule in admin_app.url_map.iter_rules():
        if any(m in {"POST", "PUT", "PATCH", "DELETE"} for m in rule.methods or ()):
            guarded = getattr(admin_app.view_functions[rule.endpoint], "admin_only", False)
            assert guarded or rule.rule in READ_ONLY_POSTS, rule.rule


@pytest.mark.parametrize(("configured", "header", "status"), AUTH_CASES)
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_every_write_is_guarded(
    home: Path, method: str, path: str, configured: str | None, header: str | None, status: int
) -> None:
    client = create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": configured})
    headers = {"Authorization": header} if header is not None else {}
    before = current_version(home)
    response = client.test_client().open(path, method=method, json={}, headers=headers)
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    if configured is None:
        assert "ROLELENS_ADMIN_TOKEN" in response.get_json()["detail"]
    assert current_version(home) == before


def test_token_from_the_environment_stays_text(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLELENS_ADMIN_TOKEN", "12345")  # JSON-parsable, must not become 12345
    client = create_app({"TESTING": True, "HOME": str(home)}).test_client()
    response = client.post(
        "/api/v1/phrases",
        headers={"Authorization": "Bearer 12345"},
        json={"text": "Uplift modelling", "label": "data_science"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "Uplift modelling of campaigns", "label": "data_science"}, 201, None),
        ({"text": "Write production-level code!", "label": "data_science"}, 409, "conflict"),
        ({"text": "ab", "label": "data_science"}, 422, "invalid"),
        ({"text": "Uplift modelling", "label": "chef"}, 422, "invalid"),
        ({"txt": "typo"}, 422, "invalid_field"),
        ({"phrases": []}, 422, "invalid_field"),
        ({"text": "Uplift modelling", "label": "data_science", "by": "a b"}, 422, "invalid_field"),
    ],
)
def test_adding_one_phrase(
    admin: FlaskClient, admin_app: Flask, body: dict[str, Any], status: int, code: str | None
) -> None:
    response = admin.post("/api/v1/phrases", json=body, headers=AUTH)
    assert response.status_code == status, response.get_json()
    if code:
        assert response.get_json()["code"] == code
    _documented(admin_app, response, "/api/v1/phrases", "POST")


def test_adding_many_reports_each_row_and_lists_them(admin: FlaskClient, admin_app: Flask) -> None:
    rows = [
        {"text": "Uplift modelling", "label": "data_science"},
        {"text": "x", "label": "data_science"},
        {"text": "Triton inference server", "label": "ml_engineering"},
    ]
    response = admin.post("/api/v1/phrases", json={"phrases": rows, "by": "alice"}, headers=AUTH)
    assert response.status_code == 201
    report = response.get_json()
    assert [r["status"] for r in report["results"]] == ["added", "invalid", "added"]
    assert report["summary"] == {"added": 2, "invalid": 1}
    listed = admin.get("/api/v1/phrases?label=ml_engineering")
    assert [p["text"] for p in listed.get_json()["phrases"]] == ["Triton inference server"]
    assert listed.get_json()["phrases"][0]["source"] == "user:alice"
    _documented(admin_app, listed, "/api/v1/phrases", "GET")
    again = admin.post("/api/v1/phrases", json={"phrases": rows[:1]}, headers=AUTH)
    assert again.status_code == 200 and again.get_json()["summary"] == {"duplicate": 1}


def test_atomic_add_adds_nothing_when_a_row_fails(admin: FlaskClient) -> None:
    rows = [{"text": "Uplift modelling", "label": "data_science"}, {"text": "x", "label": "x"}]
    response = admin.post("/api/v1/phrases", json={"phrases": rows, "atomic": True}, headers=AUTH)
    assert [r["status"] for r in response.get_json()["results"]] == ["rolled back", "invalid"]
    assert admin.get("/api/v1/phrases").get_json()["count"] == 0


def test_removing_a_phrase(admin: FlaskClient, admin_app: Flask) -> None:
    added = admin.post(
        "/api/v1/phrases", headers=AUTH, json={"text": "Uplift modelling", "label": "data_science"}
    ).get_json()
    phrase_id = added["results"][0]["id"]
    removed = admin.delete(f"/api/v1/phrases/{phrase_id}", headers=AUTH)
    assert removed.status_code == 200 and removed.get_json()["removed_at"]
    _documented(admin_app, removed, f"/api/v1/phrases/{phrase_id}", "DELETE")
    assert admin.get("/api/v1/phrases").get_json()["count"] == 0
    assert admin.get("/api/v1/phrases?include_removed=true").get_json()["count"] == 1
    missing = admin.delete(f"/api/v1/phrases/{phrase_id}", headers=AUTH)
    assert missing.status_code == 404


def _job(admin: FlaskClient, started: TestResponse, seconds: float = 180) -> dict[str, Any]:
    """Poll the job a 202 answer names until it ends; its last state."""
    assert started.status_code == 202, started.get_json()
    href = started.headers["Location"]
    assert started.get_json()["href"] == href and href.endswith(started.get_json()["id"])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job: dict[str, Any] = admin.get(href).get_json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {href} still {job['status']} after {seconds} s")


def test_retrain_is_a_job_that_promotes_and_the_app_serves_the_new_version(
    quick_admin: FlaskClient, quick_admin_app: Flask, quick_home: Path
) -> None:
    quick_admin.post(
        "/api/v1/phrases",
        headers=AUTH,
        json={"text": "Quokka census statistics", "label": "data_science"},
    )
    started = quick_admin.post("/api/v1/retrain", json={"force": True}, headers=AUTH)
    _documented(quick_admin_app, started, "/api/v1/retrain", "POST")
    assert started.get_json()["status"] == "queued"
    job = _job(quick_admin, started)
    assert job["status"] == "promoted", job
    _documented(
        quick_admin_app,
        quick_admin.get(started.headers["Location"]),
        "/api/v1/jobs/{job_id}",
        "GET",
    )
    result = job["result"]
    assert result["promoted"] and current_version(quick_home) == result["version"]
    models = quick_admin.get("/api/v1/models").get_json()
    assert models["serving"] == result["version"]
    assert [v["serving"] for v in models["versions"]].count(True) == 1


def test_a_worse_retrain_is_refused_with_both_figures(admin: FlaskClient, home: Path) -> None:
    before = current_version(home)
    job = _job(admin, admin.post("/api/v1/retrain", json={"packs": ["seed"]}, headers=AUTH))
    assert job["status"] == "refused"
    assert "lower" in job["detail"] and "than the serving" in job["detail"]
    assert current_version(home) == before


def test_phrases_of_stop_words_only_end_the_job_failed_saying_what_to_fix(
    admin: FlaskClient, home: Path
) -> None:
    words = {
        "data_science": ["the and of it", "a an the"],
        "ml_engineering": ["to be or not", "it is"],
    }
    rows = [{"text": text, "label": label} for label, texts in words.items() for text in texts]
    admin.post("/api/v1/phrases", headers=AUTH, json={"phrases": rows})
    job = _job(admin, admin.post("/api/v1/retrain", json={"packs": ["user"]}, headers=AUTH))
    assert job["status"] == "failed"
    assert "stop words" in job["detail"] and "add phrases" in job["detail"]


def test_a_second_retrain_while_one_runs_is_409_naming_it(admin: FlaskClient, home: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        running = jobs.start(home, ["seed"], spawn=lambda _home, _id: sleeper.pid)
        refused = admin.post("/api/v1/retrain", headers=AUTH)
        assert refused.status_code == 409
        problem = refused.get_json()
        assert problem["code"] == "retrain_running"
        assert (
            problem["href"] == f"/api/v1/jobs/{running.id}" and problem["href"] in problem["detail"]
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    # Its runner is gone: the job is failed, not running forever, and a new one may start.
    assert admin.get(f"/api/v1/jobs/{running.id}").get_json()["status"] == "failed"


@pytest.mark.parametrize("job_id", ["0" * 32, "../../etc", "not-a-job"])
def test_an_unknown_job_is_404(admin: FlaskClient, job_id: str) -> None:
    response = admin.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "status"),
    [({"packs": "seed"}, 422), ({"packs": ["bogus"]}, 422), ([1, 2], 422)],
)
def test_retrain_with_bad_fields(admin: FlaskClient, body: Any, status: int) -> None:
    assert admin.post("/api/v1/retrain", json=body, headers=AUTH).status_code == status


def test_rollback(quick_admin: FlaskClient, quick_admin_app: Flask, quick_home: Path) -> None:
    first = current_version(quick_home)
    second = _job(
        quick_admin, quick_admin.post("/api/v1/retrain", json={"force": True}, headers=AUTH)
    )["result"]
    response = quick_admin.post("/api/v1/models/rollback", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"serving": first, "previous": second["version"]}
    _documented(quick_admin_app, response, "/api/v1/models/rollback", "POST")
    named = quick_admin.post(
        "/api/v1/models/rollback", json={"version": second["version"]}, headers=AUTH
    )
    assert named.get_json()["serving"] == second["version"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"version": "../../etc/passwd"}, 404),  # cannot leave the registry
        ({"version": "20990101T000000Z-none"}, 404),  # no such version
        ({"version": 7}, 422),  # wrong type
    ],
)
def test_rollback_refusals(admin: FlaskClient, home: Path, body: Any, status: int) -> None:
    before = current_version(home)
    assert admin.post("/api/v1/models/rollback", json=body, headers=AUTH).status_code == status
    assert current_version(home) == before


def test_the_app_checks_new_phrases_against_the_packs_of_its_fixtures_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packs = tmp_path / "fixtures" / "phrases"
    packs.mkdir(parents=True)
    (packs / "seed.csv").write_text("text,label\nTune the cluster,ml_engineering\n")
    (packs / "curated.csv").write_text("text,label\n")
    monkeypatch.setenv("ROLELENS_FIXTURES", str(tmp_path / "fixtures"))
    client = create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": TOKEN}).test_client()
    clash = {"text": "tune the cluster", "label": "data_science"}
    response = client.post("/api/v1/phrases", json=clash, headers=AUTH)
    assert response.status_code == 409, response.get_json()
    assert "Tune the cluster" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("query", "field"), [("label=chef", "label"), ("include_removed=maybe", "include_removed")]
)
def test_listing_phrases_with_a_bad_query_names_the_parameter(
    admin: FlaskClient, query: str, field: str
) -> None:
    response = admin.get(f"/api/v1/phrases?{query}")
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "invalid_field" and problem["field"] == field
    assert "'true'" in problem["detail"] or "'data_science'" in problem["detail"]
    assert admin.get("/api/v1/phrases?include_removed=TRUE").status_code == 200
