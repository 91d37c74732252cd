"""The shadow challenger and drift, in one process (the Flask client)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.monitor_store import FILE as MONITOR_FILE
from tests.conftest import REPO
from tests.service.test_admin import AUTH, TOKEN, _documented
from training.evaluate import read_labeled
from training.phrases import read_neutral

VALIDATION = REPO / "fixtures" / "postings" / "validation.csv"
FILLER = read_neutral(REPO / "fixtures")
# Work that is neither role: the kind of posting a job board also carries.
OTHER_WORK = [
    "Prepare laminated dough, croissants and tarts for the morning bake.",
    "Drive a refrigerated truck on regional routes and keep the delivery log.",
    "Care for patients on a surgical ward and give medication on schedule.",
    "Cut, colour and style hair for walk-in clients at our salon.",
    "Stock shelves, run the till and greet customers at the front of the store.",
    "Lay bricks, mix mortar and read site plans with the foreman.",
    "Clean guest rooms, change linen and restock the minibar.",
    "Teach reading and arithmetic to a class of seven-year-olds.",
]


def other_postings(count: int, seed: int = 7) -> list[str]:
    """Postings for jobs of neither role, mixed with the usual benefits filler."""
    rng = random.Random(seed)
    return [
        " ".join(rng.sample(OTHER_WORK, 5) + rng.sample([f for f in FILLER if f], 4))
        for _ in range(count)
    ]


def in_domain_postings() -> list[str]:
    return read_labeled(VALIDATION, "text", "label")[0]


def forget_monitoring(home: Path) -> None:
    """Start from an empty record: the copied home may hold other tests' postings."""
    for suffix in ("", "-wal", "-shm"):
        (home / f"{MONITOR_FILE}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def watched(home: Path) -> Path:
    forget_monitoring(home)
    return home


def _app(home: Path, **config: Any) -> Flask:
    return create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": TOKEN, **config})


def _post(client: FlaskClient, path: str, body: Any) -> dict[str, Any]:
    """POST and close the response, as a WSGI server does after sending it: the watch runs."""
    with client.post(path, json=body) as response:
        assert response.status_code == 200, response.get_json()
        answer: dict[str, Any] = response.get_json()
    return answer


def _classify_all(client: FlaskClient, texts: list[str]) -> None:
    for begin in range(0, len(texts), 50):
        chunk = [{"id": str(i), "text": t} for i, t in enumerate(texts[begin : begin + 50])]
        _post(client, "/api/v1/classify/batch", {"postings": chunk})


def test_in_domain_postings_keep_drift_ok(watched: Path) -> None:
    app = _app(watched)
    client = app.test_client()
    postings = in_domain_postings()
    _classify_all(client, postings)
    response = client.get("/api/v1/drift")
    _documented(app, response, "/api/v1/drift", "GET")
    report = response.get_json()
    assert report["n"] == len(postings) and report["enough"]
    assert report["status"] == "ok", report
    assert report["psi"] < 0.05 and abs(report["oov_shift"]) < 0.01


def test_out_of_domain_postings_turn_drift_to_drifting(watched: Path) -> None:
    app = _app(watched)
    client = app.test_client()
    _classify_all(client, other_postings(60))
    report = client.get("/api/v1/drift").get_json()
    assert report["status"] == "drifting", report
    marks = report["thresholds"]
    assert report["psi"] > marks["psi"] and report["coverage_shift"] < marks["coverage_shift"]
    assert report["oov_shift"] > 0, "other jobs' words are less often the model's"
    scrape = client.get("/metrics").get_data(as_text=True)
    psi = re.search(r"^rolelens_drift_psi (\S+)$", scrape, re.M)
    oov = re.search(r"^rolelens_drift_oov_share (\S+)$", scrape, re.M)
    assert psi and float(psi.group(1)) == pytest.approx(report["psi"], abs=1e-3)
    assert oov and float(oov.group(1)) == pytest.approx(report["oov_share"], abs=1e-3)


def test_too_few_postings_are_not_judged(watched: Path) -> None:
    client = _app(watched).test_client()
    _classify_all(client, other_postings(5))
    report = client.get("/api/v1/drift").get_json()
    assert report["n"] == 5 and not report["enough"] and report["status"] == "ok"


@pytest.fixture
def challenger(seed_serving: tuple[Path, str, str]) -> tuple[Path, str, str]:
    """The full model as shadow of a seed-only serving model: (home, serving, shadow)."""
    home, full, seed_only = seed_serving
    forget_monitoring(home)
    return home, seed_only, full


def test_the_shadow_scores_every_posting_but_the_answer_stays_the_serving_ones(
    challenger: tuple[Path, str, str],
) -> None:
    home, serving, shadow = challenger
    app = _app(home)
    client = app.test_client()
    started = client.post("/api/v1/models/shadow", json={"version": shadow}, headers=AUTH)
    assert started.status_code == 200, started.get_json()
    texts = in_domain_postings()[:20] + other_postings(10)
    for text in texts:
        assert _post(client, "/api/v1/classify", {"text": text})["model_version"] == serving
    response = client.get("/api/v1/models/shadow")
    _documented(app, response, "/api/v1/models/shadow", "GET")
    report = response.get_json()
    assert report["version"] == shadow and report["n"] == len(texts)
    assert 0.0 <= report["agreement"] <= 1.0 and report["mean_abs_delta_p"] > 0
    disagreements = report["disagreements"]
    assert len(disagreements) == round((1 - report["agreement"]) * len(texts))
    for row in disagreements:
        assert row["serving_label"] != row["shadow_label"] and re.fullmatch(
            r"[0-9a-f]{16}", row["posting"]
        )
        assert "text" not in row, "texts are kept only with ROLELENS_SHADOW_KEEP_TEXT=1"
    scrape = client.get("/metrics").get_data(as_text=True)
    assert f"rolelens_shadow_requests_total {float(len(texts))}" in scrape
    assert f"rolelens_shadow_disagreements_total {float(len(disagreements))}" in scrape


def test_texts_are_kept_when_asked(challenger: tuple[Path, str, str]) -> None:
    home, _, shadow = challenger
    client = _app(home, SHADOW_KEEP_TEXT=True).test_client()
    client.post("/api/v1/models/shadow", json={"version": shadow}, headers=AUTH)
    texts = in_domain_postings() + other_postings(20)
    _classify_all(client, texts)
    report = client.get("/api/v1/models/shadow").get_json()
    assert report["n"] == len(texts)
    assert report["disagreements"], "a seed-only model and the full one differ somewhere"
    assert all(row["text"] in texts for row in report["disagreements"])
    assert len(report["disagreements"]) <= 20


def test_stopping_the_shadow(challenger: tuple[Path, str, str]) -> None:
    home, _, shadow = challenger
    client = _app(home).test_client()
    client.post("/api/v1/models/shadow", json={"version": shadow}, headers=AUTH)
    _post(client, "/api/v1/classify", {"text": "Deploy models with Kubernetes."})
    stopped = client.delete("/api/v1/models/shadow", headers=AUTH)
    assert stopped.status_code == 200 and stopped.get_json()["n"] == 1
    _post(client, "/api/v1/classify", {"text": "Deploy models with Kubernetes."})
    assert client.get("/api/v1/models/shadow").get_json() == {
        "version": None,
        "n": 0,
        "agreement": None,
        "mean_abs_delta_p": None,
        "disagreements": [],
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"version": "20990101T000000Z-000099"}, 404),  # no such version
        ({"version": 7}, 422),  # not a string
        ({"name": "x"}, 422),  # wrong field
        ("serving", 409),  # the serving version cannot shadow itself
    ],
)
def test_shadow_refusals(challenger: tuple[Path, str, str], body: Any, status: int) -> None:
    home, serving, _ = challenger
    client = _app(home).test_client()
    sent = {"version": serving} if body == "serving" else body
    response = client.post("/api/v1/models/shadow", json=sent, headers=AUTH)
    assert response.status_code == status, response.get_json()
    assert client.get("/api/v1/models/shadow").get_json()["version"] is None


@pytest.mark.parametrize("window", ["many", 0, 2.5, True])
def test_a_bad_drift_window_stops_the_app_with_what_to_use(trained_home: Path, window: Any) -> None:
    with pytest.raises(ValueError, match=r"ROLELENS_DRIFT_WINDOW=.*whole number"):
        _app(trained_home, DRIFT_WINDOW=window)
