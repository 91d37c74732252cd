"""The OpenAPI document is valid 3.1, and real responses match the schemas it promises."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

OK = "Deploy models to production with Kubernetes and Docker."
CSV = f"id,description\n1,{OK}\n2,=1+1\n"


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    validate(spec)
    assert spec["openapi"].startswith("3.1")


# Pages for people (HTML and their pictures), not part of the JSON API.
PAGES = {"static", "web.index", "web.favicon", "models_page.page", "models_page.picture"}


def test_every_route_of_the_app_is_documented(client: FlaskClient, spec: dict[str, Any]) -> None:
    app = client.application
    routes = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"} and rule.endpoint not in PAGES
    }
    documented = {
        (path, method)
        for path, ops in spec["paths"].items()
        for method in ops
        if method != "parameters"
    }
    assert routes == documented


CALLS = [
    # (method, path, request kwargs): every documented status that a test can reach
    ("POST", "/api/v1/classify", {"json": {"text": OK}}),  # 200
    ("POST", "/api/v1/classify", {"json": {"text": OK, "title": "MLE"}}),  # 200 with title
    ("POST", "/api/v1/classify", {"data": OK, "content_type": "text/plain"}),  # 200 plain
    ("POST", "/api/v1/classify", {"data": "{", "content_type": "application/json"}),  # 400
    ("POST", "/api/v1/classify", {"json": {"text": "x" * 60_000}}),  # 413
    ("POST", "/api/v1/classify", {"data": "x", "content_type": "image/png"}),  # 415
    ("POST", "/api/v1/classify", {"json": {"text": ""}}),  # 422
    ("POST", "/api/v1/classify/batch", {"json": {"postings": [{"id": "a", "text": OK}]}}),
    ("POST", "/api/v1/classify/batch", {"json": {"postings": [{"text": OK}] * 101}}),  # 413
    ("POST", "/api/v1/classify/batch", {"json": {"postings": 3}}),  # 422
    ("POST", "/api/v1/classify/batch", {"data": CSV, "content_type": "text/csv"}),  # 200 CSV
    (
        "POST",
        "/api/v1/classify/batch",
        {"data": CSV, "content_type": "text/csv", "headers": {"Accept": "application/json"}},
    ),  # 200: the CSV's rows as JSON
    (
        "POST",
        "/api/v1/classify/batch",
        {
            "data": {"file": (io.BytesIO(CSV.encode()), "a.csv")},
            "content_type": "multipart/form-data",
        },
    ),  # 200: a multipart upload
    ("POST", "/api/v1/classify/batch", {"data": b"", "content_type": "text/csv"}),  # 400
    ("POST", "/api/v1/classify/batch", {"data": "id\n1\n", "content_type": "text/csv"}),  # 422
    ("GET", "/api/v1/model", {}),
    ("GET", "/healthz", {}),
    ("GET", "/readyz", {}),
    ("GET", "/api/v1/classify", {}),  # 405: the default problem response
    ("PUT", "/healthz", {}),  # 405 on a probe
]


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize(("method", "path", "kwargs"), CALLS)
def test_real_responses_match_the_documented_schema(
    client: FlaskClient, spec: dict[str, Any], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = client.open(path, method=method, **kwargs)
    operations = spec["paths"][path]
    operation = operations.get(method.lower()) or next(iter(operations.values()))
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented or status[0] in "45", f"{status} not documented"
    content = documented.get(status, documented["default"])["content"]
    assert response.mimetype in content
    schema = content[response.mimetype]["schema"]
    body = response.get_json() if response.is_json else response.get_data(as_text=True)
    errors = list(_validator(spec, schema).iter_errors(body))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/classify", {"text": OK, "title": None}),
        ("/api/v1/classify/batch", {"postings": [{"id": 1, "text": OK}]}),
    ],
)
def test_documented_request_examples_are_accepted(
    client: FlaskClient, spec: dict[str, Any], path: str, body: dict[str, Any]
) -> None:
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    _validator(spec, schema).validate(body)
    assert client.post(path, json=body).status_code == 200
