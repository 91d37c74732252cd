"""A CSV file sent to ``POST /api/v1/classify/batch`` comes back classified, as CSV or JSON."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.batch.endpoint import download_name
from service.batch.write import PHRASE_SEPARATOR, neutralise

BATCH = "/api/v1/classify/batch"
ML = "Deploy models to production with Kubernetes and Docker, and monitor model serving."
DS = "Run A/B tests, build dashboards and present statistical insights to stakeholders."
ADDED = {"label", "probability_ml_engineering", "strength", "key_phrases", "model_version", "error"}


def _csv(*rows: list[str]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


POSTINGS = _csv(["id", "title", "description"], ["a", "=HYPERLINK(1)", ML], ["b", "Analyst", DS])


@pytest.fixture
def small_app(trained_home: Path) -> Flask:
    """At most three CSV rows per request."""
    return create_app({"TESTING": True, "HOME": str(trained_home), "MAX_BATCH_ROWS": 3})


def test_a_csv_body_comes_back_as_csv_with_the_result_columns(client: FlaskClient) -> None:
    response = client.post(BATCH, data=POSTINGS, content_type="text/csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="rolelens-classified.csv"'
    )
    rows = _rows(response.data)
    assert [r["id"] for r in rows] == ["a", "b"], "input order and columns kept"
    assert [r["label"] for r in rows] == ["ml_engineering", "data_science"]
    assert all(set(r) >= ADDED for r in rows)
    assert all(r["model_version"] and not r["error"] for r in rows)
    assert rows[0]["title"] == "'=HYPERLINK(1)", "a formula cell is neutralised"
    assert "kubernetes" in rows[0]["key_phrases"].lower()


def test_a_multipart_upload_is_named_after_the_file(client: FlaskClient) -> None:
    response = client.post(
        BATCH,
        data={"file": (io.BytesIO(POSTINGS), "jobs march.csv")},
        content_type="multipart/form-data",
        query_string={"id_column": "id"},
    )
    assert response.status_code == 200
    assert 'filename="jobs_march-classified.csv"' in response.headers["Content-Disposition"]
    assert [r["label"] for r in _rows(response.data)] == ["ml_engineering", "data_science"]


def test_accept_json_answers_the_rows_as_objects(client: FlaskClient) -> None:
    response = client.post(
        BATCH,
        data=POSTINGS,
        content_type="text/csv",
        headers={"Accept": "application/json"},
        query_string={"text_column": "description", "title_column": "title"},
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    assert body["count"] == 2 and body["encoding"] == "UTF-8"
    first = body["results"][0]
    assert first["id"] == "a" and first["label"] == "ml_engineering"
    assert first["model_version"] == body["model_version"]
    assert first["error"] is None and isinstance(first["key_phrases"], list)


def test_a_cp1252_body_is_read_and_answered_in_utf8(client: FlaskClient) -> None:
    body = "id,description\nx,Caf\u00e9 chain: run A/B tests and build dashboards\n"
    response = client.post(BATCH, data=body.encode("cp1252"), content_type="text/csv")
    assert response.status_code == 200
    rows = _rows(response.data)
    assert rows[0]["description"].startswith("Caf\u00e9 chain")


def test_a_row_without_text_gets_an_error_not_a_failed_request(client: FlaskClient) -> None:
    response = client.post(BATCH, data=_csv(["id", "text"], ["1", ""], ["2", ML]),
                           content_type="text/csv")  # fmt: skip
    rows = _rows(response.data)
    assert "no text" in rows[0]["error"] and rows[1]["label"] == "ml_engineering"


CASES = [
    # (request kwargs, status, code, words the detail must hold)
    (
        {"data": _csv(["id", "content"], ["1", ML]), "content_type": "text/csv"},
        422,
        "unusable_input",
        "id, content",
    ),  # no text column: the columns are listed, with the parameter to use
    (
        {
            "data": _csv(["id", "content"], ["1", ML]),
            "content_type": "text/csv",
            "query_string": {"text_column": "body"},
        },
        422,
        "unusable_input",
        "text_column query parameter",
    ),  # a named column that does not exist
    ({"data": b"", "content_type": "text/csv"}, 400, "empty_body", "empty"),  # empty body
    (
        {"data": {"file": (io.BytesIO(b""), "a.csv")}, "content_type": "multipart/form-data"},
        400,
        "empty_body",
        "a.csv is empty",
    ),  # empty upload
    (
        {"data": {"other": (io.BytesIO(POSTINGS), "a.csv")}, "content_type": "multipart/form-data"},
        400,
        "missing_file",
        "field named file",
    ),  # the upload in another field
    (
        {"data": b"PK\x03\x04rest", "content_type": "text/csv"},
        422,
        "unusable_input",
        "save it as CSV",
    ),  # an .xlsx workbook, not a CSV
    (
        {"data": b"description,x\ry\n1,2\n", "content_type": "text/csv"},
        422,
        "unusable_input",
        "readable CSV header",
    ),  # a header the csv module cannot read (found by fuzzing: it was a 500)
    (
        {"data": POSTINGS, "content_type": "text/csv", "query_string": {"txt": "x"}},
        422,
        "invalid_field",
        "text_column",
    ),  # a misspelt parameter
    (
        {"data": _csv(["text"], *([ML] for _ in range(4))), "content_type": "text/csv"},
        413,
        "limit_exceeded",
        "ROLELENS_MAX_BATCH_ROWS",
    ),  # four rows where three are allowed
    (
        {"data": ML, "content_type": "text/plain"},
        415,
        "unsupported_media_type",
        "text/csv",
    ),  # neither JSON nor CSV
]


@pytest.mark.parametrize(("kwargs", "status", "code", "words"), CASES)
def test_unusable_uploads_are_refused_before_any_row_is_sent(
    small_app: Flask, kwargs: dict[str, Any], status: int, code: str, words: str
) -> None:
    response = small_app.test_client().post(BATCH, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == code
    assert words in problem["detail"]
    if status == 413:
        assert problem["setting"] == "ROLELENS_MAX_BATCH_ROWS" and problem["limit"] == 3


def test_three_rows_are_within_a_limit_of_three(small_app: Flask) -> None:
    data = _csv(["text"], *([ML] for _ in range(3)))
    response = small_app.test_client().post(BATCH, data=data, content_type="text/csv")
    assert response.status_code == 200 and len(_rows(response.data)) == 3


@pytest.mark.parametrize(
    ("upload", "name"),
    [
        (None, "rolelens-classified.csv"),  # a CSV body has no file name
        ("postings.csv", "postings-classified.csv"),
        ('C:\\exports\\a"b;c.csv', "a_b_c-classified.csv"),  # a Windows path, quotes
        ("...", "rolelens-classified.csv"),  # nothing usable left
    ],
)
def test_download_names_are_safe_in_a_header(upload: str | None, name: str) -> None:
    assert download_name(upload) == name


def test_json_and_csv_batches_give_the_reasons_of_classify(
    client: FlaskClient, fixture_texts: list[str]
) -> None:
    texts = fixture_texts
    single = [client.post("/api/v1/classify", json={"text": t}).get_json() for t in texts]
    first_five = [[p["text"] for p in answer["key_phrases"][:5]] for answer in single]

    postings = [{"id": str(i), "text": t} for i, t in enumerate(texts)]
    as_json = [  # in requests of at most MAX_BATCH_SIZE (100) postings
        row
        for start in range(0, len(postings), 100)
        for row in client.post(BATCH, json={"postings": postings[start : start + 100]}).get_json()[
            "results"
        ]
    ]
    assert [r["key_phrases"] for r in as_json] == [a["key_phrases"] for a in single]

    upload = _csv(["id", "description"], *([str(i), t] for i, t in enumerate(texts)))
    as_csv = _rows(client.post(BATCH, data=upload, content_type="text/csv").data)
    assert [r["key_phrases"] for r in as_csv] == [
        neutralise(PHRASE_SEPARATOR.join(phrases)) for phrases in first_five
    ]

    csv_as_json = client.post(
        BATCH, data=upload, content_type="text/csv", headers={"Accept": "application/json"}
    ).get_json()["results"]
    assert [r["key_phrases"] for r in csv_as_json] == first_five
