"""Bodies found by an outside probe to answer 500 or the wrong 4xx: each now a clear 4xx."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.app import create_app

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ML = "Deploy models to production with Kubernetes and Docker, and monitor model serving."
HUGE = b"1" + b"0" * 5000  # more digits than Python converts to an int (4300)


@pytest.fixture
def client(trained_home: Path) -> FlaskClient:
    app = create_app(
        {"TESTING": True, "HOME": str(trained_home), "ADMIN_TOKEN": TOKEN, "MAX_POSTING_CHARS": 300}
    )
    return app.test_client()


def _problem(response: TestResponse, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/classify", b'{"text": ' + HUGE + b"}"),
        ("POST", "/api/v1/classify/batch", b'{"postings": [{"id": ' + HUGE + b', "text": "x"}]}'),
        ("POST", "/api/v1/phrases", b'{"text": "deploy", "label": ' + HUGE + b"}"),
        ("POST", "/api/v1/models/rollback", b'{"version": ' + HUGE + b"}"),
        ("POST", "/api/v1/retrain", b'{"force": ' + HUGE + b"}"),
    ],
)
def test_an_integer_too_long_to_convert_is_a_400(
    client: FlaskClient, method: str, path: str, body: bytes
) -> None:
    response = client.open(
        path, method=method, data=body, headers=AUTH, content_type="application/json"
    )
    detail = _problem(response, 400, "malformed_json")["detail"]
    assert "digits" in detail


@pytest.mark.parametrize(
    "charset",
    [
        "punycode",  # a codec of Python, not a character set of documents
        "undefined",  # a codec that refuses everything
        "no-such-charset",  # unknown
    ],
)
def test_an_unknown_or_unsupported_charset_is_a_415(client: FlaskClient, charset: str) -> None:
    response = client.post(
        "/api/v1/classify", data=ML.encode(), content_type=f"text/plain; charset={charset}"
    )
    body = _problem(response, 415, "unsupported_charset")
    assert charset in body["detail"] and "UTF-8" in body["detail"]


def test_a_named_charset_that_exists_is_read(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/classify",
        data="Café: deploy models with Kubernetes".encode("latin-1"),
        content_type="text/plain; charset=latin-1",
    )
    assert response.status_code == 200
    assert response.get_json()["label"] == "ml_engineering"


def _csv(*rows: list[str]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_a_multipart_part_without_a_filename_is_read_as_the_csv(client: FlaskClient) -> None:
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
        + _csv(["id", "text"], ["a", ML]).encode()
        + b"\r\n--XyZ--\r\n"
    )
    response = client.post(
        "/api/v1/classify/batch",
        data=body,
        content_type="multipart/form-data; boundary=XyZ",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["results"][0]["label"] == "ml_engineering"


def test_too_many_multipart_parts_is_a_413_that_says_so(client: FlaskClient) -> None:
    parts = b"".join(
        b'--XyZ\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % n for n in range(1500)
    )
    response = client.post(
        "/api/v1/classify/batch",
        data=parts + b"--XyZ--\r\n",
        content_type="multipart/form-data; boundary=XyZ",
    )
    body = _problem(response, 413, "limit_exceeded")
    assert "more than 1000 parts" in body["detail"]
    assert body["setting"] == "ROLELENS_MAX_FORM_PARTS" and body["limit"] == 1000


def test_a_csv_row_over_the_posting_limit_gets_its_own_error(client: FlaskClient) -> None:
    data = _csv(["id", "text"], ["short", ML], ["long", ML + " more" * 100], ["after", ML])
    response = client.post(
        "/api/v1/classify/batch",
        data=data.encode(),
        content_type="text/csv",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.get_json()["results"]}
    assert rows["short"]["label"] == "ml_engineering" and rows["after"]["label"] == "ml_engineering"
    assert rows["long"].get("label") is None
    assert "the limit is 300" in rows["long"]["error"]
