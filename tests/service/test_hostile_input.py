"""Hostile bodies for classify and batch: any of them gets a 200 or a 4xx problem, never a 5xx.

Hypothesis sends arbitrary Unicode (control characters, every plane, no lone surrogates in
the text itself, but escaped ones in JSON), arbitrary bytes as text/plain, empty and
oversized postings, wrongly typed and deeply nested JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from service.app import create_app

CLASSIFY = "/api/v1/classify"
BATCH = "/api/v1/classify/batch"
JSON = "application/json"
MAX_CHARS = 400
MAX_BATCH = 5
LIMITS = {"MAX_POSTING_CHARS": MAX_CHARS, "MAX_BATCH_SIZE": MAX_BATCH, "MAX_CONTENT_LENGTH": 64_000}
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
POSTING_TEXT = st.text(max_size=MAX_CHARS + 50)  # every code point but lone surrogates


@pytest.fixture(scope="module")
def client(trained_home: Path) -> FlaskClient:
    """An app with small limits, so that passing them is cheap."""
    app: Flask = create_app({"HOME": str(trained_home), **LIMITS})
    return app.test_client()


def _answered(response: TestResponse, *allowed: int) -> dict[str, Any]:
    """The body of a 200 or of an allowed 4xx, which must be a problem saying what to fix."""
    assert response.status_code in (200, *allowed), response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json(force=True)
    if response.status_code != 200:
        assert response.mimetype == "application/problem+json"
        assert body["status"] == response.status_code and body["detail"]
    return body


@FUZZ
@given(text=POSTING_TEXT, title=st.none() | st.text(max_size=30))
def test_classify_any_text(client: FlaskClient, text: str, title: str | None) -> None:
    response = client.post(CLASSIFY, json={"text": text, "title": title})
    body = _answered(response, 413, 422)
    whole = f"{title.strip()}\n\n{text}" if title and title.strip() else text
    if not text.strip():
        assert response.status_code == 422
    elif len(text) > MAX_CHARS or len(whole) > MAX_CHARS:
        assert response.status_code == 413
    else:
        assert response.status_code == 200
        assert body["label"] in ("data_science", "ml_engineering")
        for phrase in body["key_phrases"]:  # spans index the classified text
            assert all(0 <= s < e <= len(whole) for s, e in phrase["spans"])


@FUZZ
@given(data=st.binary(max_size=600), charset=st.sampled_from(["", "utf-8", "latin-1", "utf-16"]))
def test_classify_any_bytes_as_plain_text(client: FlaskClient, data: bytes, charset: str) -> None:
    content_type = f"text/plain; charset={charset}" if charset else "text/plain"
    response = client.post(CLASSIFY, data=data, content_type=content_type)
    _answered(response, 400, 413, 422)


@FUZZ
@given(body=JSON_VALUES)
def test_classify_any_json(client: FlaskClient, body: Any) -> None:
    _answered(client.post(CLASSIFY, data=json.dumps(body), content_type=JSON), 413, 422)


@FUZZ
@given(body=JSON_VALUES)
def test_batch_any_json(client: FlaskClient, body: Any) -> None:
    _answered(client.post(BATCH, data=json.dumps(body), content_type=JSON), 413, 422)


@FUZZ
@given(
    postings=st.lists(
        st.fixed_dictionaries(
            {"text": POSTING_TEXT},
            optional={"id": st.none() | st.integers() | st.text(max_size=10) | JSON_VALUES},
        ),
        max_size=MAX_BATCH + 2,
    )
)
def test_batch_any_postings(client: FlaskClient, postings: list[dict[str, Any]]) -> None:
    response = client.post(BATCH, json={"postings": postings})
    body = _answered(response, 413, 422)
    if response.status_code == 200:
        assert [r["id"] for r in body["results"]] == [
            p["id"] if p.get("id") is not None else n for n, p in enumerate(postings)
        ]


@FUZZ
@given(raw=st.text(max_size=300))
def test_any_characters_as_a_json_body(client: FlaskClient, raw: str) -> None:
    response = client.post(CLASSIFY, data=raw.encode(), content_type="application/json")
    _answered(response, 400, 413, 422)


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\ufffe"])
def test_escaped_lone_surrogates_and_nul_are_read(client: FlaskClient, escape: str) -> None:
    raw = f'{{"text": "Deploy models {escape} with Kubernetes"}}'
    response = client.post(CLASSIFY, data=raw, content_type="application/json")
    assert _answered(response)["label"] == "ml_engineering"


def _nested(depth: int, opener: str) -> str:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + "1" + closer * depth


@pytest.mark.parametrize("path", [CLASSIFY, BATCH])
@pytest.mark.parametrize("depth", [100, 10_000, 30_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_a_4xx(
    client: FlaskClient, path: str, depth: int, opener: str
) -> None:
    response = client.post(path, data=_nested(depth, opener), content_type="application/json")
    assert response.status_code in (400, 413, 422)
    assert response.mimetype == "application/problem+json"
    if response.status_code == 400:
        assert "nests" in response.get_json()["detail"]


@pytest.mark.parametrize("depth", [10_000])
def test_deep_nesting_inside_a_posting_is_a_4xx(client: FlaskClient, depth: int) -> None:
    raw = '{"postings": [{"id": ' + _nested(depth, "[") + ', "text": "x"}]}'
    response = client.post(BATCH, data=raw, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        (CLASSIFY, {"data": b"", "content_type": "application/json"}, 400),  # empty JSON body
        (CLASSIFY, {"data": b"", "content_type": "text/plain"}, 422),  # empty text
        (CLASSIFY, {"json": {"text": "\u200b" * 10}}, 200),  # zero-width spaces: not blank
        (CLASSIFY, {"json": {"text": "\x00\x01\x02 data \x7f"}}, 200),  # control characters
        (CLASSIFY, {"json": {"text": "x" * (MAX_CHARS + 1)}}, 413),  # one over
        (CLASSIFY, {"data": b"x" * 70_000, "content_type": "text/plain"}, 413),  # body over
        (BATCH, {"json": {"postings": [{"text": "ok"}] * (MAX_BATCH + 1)}}, 413),  # batch over
        (BATCH, {"json": {"postings": [{"text": "\u00a0\u3000"}]}}, 422),  # Unicode spaces
        (BATCH, {"json": {"postings": [{"id": 1.5, "text": "ok"}]}}, 422),  # float id
        (BATCH, {"json": {"postings": [{"id": True, "text": "ok"}]}}, 422),  # bool id
        (BATCH, {"json": {"postings": {"0": {"text": "ok"}}}}, 422),  # object, not array
        (BATCH, {"data": json.dumps({"postings": [{"text": "\U0010ffff" * 50}]})}, 415),  # no type
    ],
)
def test_edge_cases(client: FlaskClient, path: str, kwargs: dict[str, Any], status: int) -> None:
    assert client.post(path, **kwargs).status_code == status
