"""GET /metrics: counters that move with the traffic, one registry per app, and real workers."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
from contextlib import nullcontext
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from classifier.artifacts import current_version
from service.app import create_app
from service.metrics import OUTCOMES, Metrics
from tests.service.conftest import POSTINGS, free_port
from tests.service.test_serve import ROLELENS, stop, wait_until_ready

ML = (POSTINGS / "ml_engineer_platform.txt").read_text(encoding="utf-8")
DS = (POSTINGS / "data_scientist_retail.txt").read_text(encoding="utf-8")
THIN = "We are hiring."  # too little role vocabulary: the answer carries a warning


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.mimetype == "text/plain"
    assert "version=0.0.4" in response.content_type
    assert "# TYPE rolelens_http_requests_total counter" in response.get_data(as_text=True)


def test_classifications_count_by_verdict_label_strength_and_warning(
    client: FlaskClient,
) -> None:
    before = scrape(client)
    answers = []
    for text in (ML, ML, DS, THIN):
        response = client.post("/api/v1/classify", json={"text": text})
        assert response.status_code == 200
        answers.append(response.get_json())
    batch = {"postings": [{"text": ML}, {"text": DS}, {"text": THIN}]}
    assert client.post("/api/v1/classify/batch", json=batch).status_code == 200
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    classified = "rolelens_postings_classified_total"
    ml, _, ds, thin = ({k: a[k] for k in ("verdict", "label", "strength")} for a in answers)
    assert ml["verdict"] == "ml_engineering" and ds["verdict"] == "data_science"
    assert thin["verdict"] == "neither"
    assert grew(classified, **ml) == 3
    assert grew(classified, **ds) == 2
    assert grew(classified, **thin) == 2
    total = sum(
        v - value(before, name, **dict(labels))
        for (name, labels), v in samples(after).items()
        if name == classified
    )
    assert total == 7  # 4 single + 3 in the batch
    assert grew("rolelens_postings_warned_total") == 2  # the thin posting, twice
    assert grew("rolelens_batch_rows_total") == 3
    route = {"endpoint": "/api/v1/classify", "method": "POST", "status": "200"}
    assert grew("rolelens_http_requests_total", **route) == 4
    latency = "rolelens_http_request_duration_seconds_count"
    assert grew(latency, endpoint="/api/v1/classify/batch") == 1


@pytest.mark.parametrize(
    ("method", "path", "labels"),
    [
        ("GET", "/nope", {"endpoint": "unmatched", "method": "GET", "status": "404"}),  # no route
        ("PUT", "/api/v1/classify", {"endpoint": "unmatched", "status": "405"}),  # no route either
        ("POST", "/api/v1/classify", {"endpoint": "/api/v1/classify", "status": "415"}),  # no body
    ],
)
def test_errors_count_under_their_status(
    client: FlaskClient, method: str, path: str, labels: dict[str, str]
) -> None:
    client.open(path, method=method)
    series = {"method": method, **labels}
    assert value(scrape(client), "rolelens_http_requests_total", **series) == 1


def test_the_serving_model_version_is_an_info_metric(
    client: FlaskClient, trained_home: Path
) -> None:
    text = scrape(client)
    assert "# TYPE rolelens_model_info gauge" in text  # how text format 0.0.4 writes an info
    assert value(text, "rolelens_model_info", version=current_version(trained_home)) == 1


def test_each_app_counts_for_itself(app: Flask, trained_home: Path) -> None:
    app.test_client().get("/healthz")
    other = create_app({"TESTING": True, "HOME": str(trained_home)}).test_client()
    series = {"endpoint": "/healthz", "method": "GET", "status": "200"}
    assert value(scrape(app.test_client()), "rolelens_http_requests_total", **series) == 1
    assert value(scrape(other), "rolelens_http_requests_total", **series) == 0


def test_a_refused_rollback_is_counted(home: Path) -> None:
    app = create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": "t0ken"})
    client = app.test_client()
    auth = {"Authorization": "Bearer t0ken"}
    answer = client.post("/api/v1/models/rollback", json={"version": "no-such"}, headers=auth)
    assert answer.status_code == 404
    text = scrape(client)
    assert value(text, "rolelens_rollbacks_total", outcome="refused") == 1
    assert value(text, "rolelens_rollbacks_total", outcome="promoted") == 0
    assert ("rolelens_retrains_total", frozenset({("outcome", "failed")})) in samples(text)


@pytest.mark.parametrize(
    ("raised", "outcome"),
    [
        (None, "promoted"),  # the block ran through
        (LookupError("gate"), "refused"),  # an exception named as a refusal
        (OSError("disk full"), "failed"),  # anything else
    ],
)
def test_outcomes_follow_what_the_block_raised(
    app: Flask, raised: Exception | None, outcome: str
) -> None:
    metrics: Metrics = app.extensions["rolelens.metrics"]
    expect = pytest.raises(type(raised)) if raised else nullcontext()
    with expect, metrics.outcome("retrain", refused=(LookupError,)):
        if raised:
            raise raised
    text = metrics.exposition().decode()
    assert value(text, "rolelens_retrains_total", outcome=outcome) == 1
    assert sum(value(text, "rolelens_retrains_total", outcome=o) for o in OUTCOMES) == 1


def test_child_exit_marks_the_worker_dead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from service import gunicorn_conf

    live = tmp_path / "gauge_livesum_4242.db"
    kept = tmp_path / "counter_4242.db"  # a dead worker's counts still add up
    live.touch()
    kept.touch()
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=4242))
    assert not live.exists() and kept.exists()


def _classify(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/v1/classify", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _served_by(log: Path) -> set[str]:
    """The pids of the workers that logged a classify request so far."""
    text = log.read_text(errors="replace")
    return set(re.findall(r"\[(\d+)\] INFO rolelens\.request: POST /api/v1/classify", text))


@pytest.mark.slow
def test_metrics_add_up_across_gunicorn_workers(home: Path, tmp_path: Path) -> None:
    # Rounds of 48 requests from 4 clients until both workers have served some: which worker
    # accepts a connection is the kernel's choice, and on a busy machine one may take a round.
    port, requests, clients, rounds = free_port(), 48, 4, 10
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    command = [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    log = tmp_path / "server.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    statuses: list[int] = []
    body = json.dumps({"text": ML}).encode()
    try:
        wait_until_ready(port, server)

        def client() -> None:
            for _ in range(requests // clients):
                statuses.append(_classify(port, body))

        for _ in range(rounds):
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if len(_served_by(log)) >= 2:
                break
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
    finally:
        stop(server)
    assert statuses == [200] * len(statuses) and len(statuses) % requests == 0
    route = {"endpoint": "/api/v1/classify", "method": "POST", "status": "200"}
    assert value(text, "rolelens_http_requests_total", **route) == len(statuses)
    assert value(text, "rolelens_batch_rows_total") == 0
    assert value(text, "rolelens_model_info", version=current_version(home)) == 1
    output = log.read_text()
    assert len(_served_by(log)) >= 2, f"one worker took all {len(statuses)} requests"
    folder = re.search(r"files in (\S+)\)", output)
    assert folder is not None and not Path(folder.group(1)).exists()  # private: removed on exit
