"""The JSON API as a client uses it: classify one posting or a batch, read the card."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from classifier.artifacts import current_version
from service.app import create_app


def test_classify_json_answers_the_call_with_the_serving_version(
    client: FlaskClient, trained_home: Path, posting: str
) -> None:
    response = client.post("/api/v1/classify", json={"text": posting})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["label"] == "ml_engineering"
    assert answer["leaning"] == "ML-engineering-leaning"
    assert answer["model_version"] == current_version(trained_home)
    phrase = answer["key_phrases"][0]
    start, end = phrase["spans"][0]
    assert posting[start:end] == phrase["text"]


def test_classify_plain_text_gives_the_same_answer_as_json(
    client: FlaskClient, posting: str
) -> None:
    as_json = client.post("/api/v1/classify", json={"text": posting}).get_json()
    as_text = client.post(
        "/api/v1/classify", data=posting.encode(), content_type="text/plain; charset=utf-8"
    )
    assert as_text.status_code == 200
    assert as_text.get_json() == as_json


def test_a_title_is_read_before_the_text_and_spans_index_both(client: FlaskClient) -> None:
    title, text = "Machine Learning Engineer", "You will work with the team."
    answer = client.post("/api/v1/classify", json={"text": text, "title": title}).get_json()
    combined = f"{title}\n\n{text}"
    phrases = answer["key_phrases"] + answer["counter_phrases"]
    assert phrases, "the title's words should count"
    for phrase in phrases:
        for start, end in phrase["spans"]:
            assert combined[start:end] == phrase["text"]


def test_a_posting_without_role_words_carries_the_evidence_warning(
    client: FlaskClient,
) -> None:
    barista = "We are hiring a friendly barista for our cafe."
    answer = client.post("/api/v1/classify", json={"text": barista}).get_json()
    assert answer["evidence"]["warning"]


def test_batch_answers_in_order_with_ids_echoed(client: FlaskClient) -> None:
    postings = [
        {"id": "a", "text": "Deploy models to production with Kubernetes and Docker."},
        {"id": 7, "text": "Run A/B tests and present statistical insights to stakeholders."},
        {"text": "Build feature pipelines and monitor model latency."},
    ]
    response = client.post("/api/v1/classify/batch", json={"postings": postings})
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == ["a", 7, 2]
    assert [r["label"] for r in body["results"][:2]] == ["ml_engineering", "data_science"]
    assert {r["model_version"] for r in body["results"]} == {body["model_version"]}


def test_model_returns_the_serving_card(client: FlaskClient, trained_home: Path) -> None:
    card = client.get("/api/v1/model").get_json()
    assert card["version"] == current_version(trained_home)
    assert len(card["model_sha256"]) == 64


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/healthz", {"status": "ok"}),  # liveness needs no model
        ("/readyz", {"status": "ready"}),  # readiness names the loaded version
    ],
)
def test_probes_answer_200(client: FlaskClient, path: str, body: dict[str, str]) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.get_json().items() >= body.items()


def test_without_a_model_readyz_is_503_but_healthz_is_fine(tmp_path: Path) -> None:
    client = create_app({"HOME": str(tmp_path)}).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "rolelens train" in response.get_json()["detail"]
    assert response.headers["Retry-After"]


def test_settings_come_from_defaults_then_environment_then_mapping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROLELENS_HOME", str(tmp_path))
    monkeypatch.setenv("ROLELENS_MAX_BATCH_SIZE", "5")
    monkeypatch.setenv("ROLELENS_MAX_POSTING_CHARS", "70")
    app = create_app({"MAX_POSTING_CHARS": 90})
    assert app.config["HOME"] == str(tmp_path)
    assert app.config["MAX_BATCH_SIZE"] == 5  # environment over the default
    assert app.config["MAX_POSTING_CHARS"] == 90  # the mapping over the environment
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024  # the default


def test_creating_an_app_loads_nothing_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    app = create_app({"HOME": str(home)})
    assert app.extensions["rolelens"].current is None
    assert not home.exists()


def test_every_request_logs_one_line_with_status_duration_and_model(
    client: FlaskClient, caplog: pytest.LogCaptureFixture, trained_home: Path
) -> None:
    with caplog.at_level(logging.INFO, logger="rolelens.request"):
        client.post("/api/v1/classify", json={"text": "deploy models"})
        client.get("/nope")
    lines = [r.getMessage() for r in caplog.records if r.name == "rolelens.request"]
    assert len(lines) == 2
    method, path, status, duration, model, rid = lines[0].split()
    assert (method, path, status) == ("POST", "/api/v1/classify", "200")
    assert duration.endswith("ms") and float(duration[:-2]) >= 0
    assert model == f"model={current_version(trained_home)}"
    assert rid.startswith("id=") and len(rid) > 3
    assert lines[1].startswith("GET /nope 404 ") and " model=- id=" in lines[1]
