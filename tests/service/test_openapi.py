"""The OpenAPI document is valid 3.1, and real responses match the schemas it promises."""

from __future__ import annotations

import io
import re
import sys
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from classifier.labels import LABELS, SOURCES
from service.batch.endpoint import PARAMETERS
from service.contract import BLANK, schemas

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


def test_the_schemas_are_the_contract_models_with_this_servers_limits(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    found = spec["components"]["schemas"]
    for name, schema in schemas().items():
        assert found[name].keys() >= schema.keys(), name
    config = client.application.config
    assert (
        found["ClassifyRequest"]["properties"]["text"]["maxLength"] == config["MAX_POSTING_CHARS"]
    )
    assert found["BatchItem"]["properties"]["text"]["maxLength"] == config["MAX_POSTING_CHARS"]
    assert found["BatchRequest"]["properties"]["postings"]["maxItems"] == config["MAX_BATCH_SIZE"]
    text = spec["paths"]["/api/v1/classify"]["post"]["requestBody"]["content"]["text/plain"]
    assert text["schema"]["maxLength"] == config["MAX_POSTING_CHARS"]


def test_the_labels_and_packs_of_the_models_are_the_classifiers() -> None:
    found = schemas()
    assert found["Prediction"]["properties"]["label"]["enum"] == list(LABELS)
    assert found["RetrainRequest"]["properties"]["packs"]["items"]["enum"] == list(SOURCES)
    assert list(found["Probability"]["properties"]) == list(LABELS)


@pytest.mark.parametrize(
    ("body", "valid", "status"),
    [
        (f"id,description\n1,{OK}\n", True, 200),
        (f"posting\n{OK}\n2,=1+1\n", True, 200),  # a long row gets a per-row note, not a 4xx
        ("text", True, 200),  # a header alone: no rows to classify
        (f"title, job_description ,id\r\nMLE,{OK},7\r\n", True, 200),
        (f"id,text_\n1,{OK}\n", False, 422),
        ("id\n1\n", False, 422),
        ("", False, 400),
        # Stricter than the server, which also takes other cases, quoting and ; or tab:
        (f'"Description"\n{OK}\n', False, 200),
    ],
)
def test_the_csv_body_schema_asks_for_a_header_row_with_a_posting_column(
    client: FlaskClient, spec: dict[str, Any], body: str, valid: bool, status: int
) -> None:
    content = spec["paths"]["/api/v1/classify/batch"]["post"]["requestBody"]["content"]
    assert (re.search(content["text/csv"]["schema"]["pattern"], body) is not None) == valid
    response = client.post("/api/v1/classify/batch", data=body, content_type="text/csv")
    assert response.status_code == status


def test_the_posting_pattern_sees_white_space_as_the_server_does() -> None:
    """Regex engines differ on ``\\s``; the server strips what ``str.isspace`` calls space."""
    blank = re.compile(f"[{BLANK}]")
    for code in range(sys.maxunicode + 1):
        assert chr(code).isspace() == bool(blank.fullmatch(chr(code))), hex(code)


@pytest.mark.parametrize(
    "text", ["", " ", "\t\n\u3000\x85", "a", "  a", "a  ", " \u2003 x \n", "\u00a0.", "\u200b"]
)
def test_the_posting_pattern_holds_exactly_the_texts_the_server_keeps(
    spec: dict[str, Any], text: str
) -> None:
    pattern = spec["components"]["schemas"]["ClassifyRequest"]["properties"]["text"]["pattern"]
    assert (re.search(pattern, text) is not None) == bool(text.strip())


def test_the_csv_column_parameters_are_the_ones_the_server_reads(spec: dict[str, Any]) -> None:
    params = spec["paths"]["/api/v1/classify/batch"]["post"]["parameters"]
    assert [p["name"] for p in params] == list(PARAMETERS)
    assert all(p["schema"] == {"type": "string"} for p in params)
