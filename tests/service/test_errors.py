"""Every error is application/problem+json with a detail that says what to fix."""

from __future__ import annotations

import errno
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from service.cli import Group
from service.errors import TABLE, StorageFull
from training.errors import JobBusy

CLASSIFY = "/api/v1/classify"
BATCH = "/api/v1/classify/batch"
OK = "Deploy models to production with Kubernetes."


@pytest.fixture
def small_app(trained_home: Any) -> Flask:
    """Small limits, so the tests can pass them cheaply."""
    return create_app(
        {
            "HOME": str(trained_home),
            "MAX_CONTENT_LENGTH": 4000,
            "MAX_POSTING_CHARS": 300,
            "MAX_BATCH_SIZE": 3,
        }
    )


CASES = [
    # (method, path, request kwargs, status, code, words the detail must hold)
    ("GET", "/no/such/page", {}, 404, "not_found", "/api/v1"),  # unknown path
    ("GET", CLASSIFY, {}, 405, "method_not_allowed", "use OPTIONS, POST"),  # wrong method
    ("DELETE", "/healthz", {}, 405, "method_not_allowed", "GET"),  # wrong method, probe
    (
        "POST",
        CLASSIFY,
        {"data": "<x/>", "content_type": "application/xml"},
        415,
        "unsupported_media_type",
        "application/json",
    ),  # wrong content type
    ("POST", CLASSIFY, {"data": "text=hi"}, 415, "unsupported_media_type", "(none)"),  # no type
    (
        "POST",
        BATCH,
        {"data": OK, "content_type": "text/plain"},
        415,
        "unsupported_media_type",
        "application/json",
    ),  # batch takes JSON or CSV, not plain text
    (
        "POST",
        CLASSIFY,
        {"data": "{bad", "content_type": "application/json"},
        400,
        "malformed_json",
        "line 1 column 2",
    ),  # malformed JSON
    (
        "POST",
        CLASSIFY,
        {"data": b'{"text": "caf\xe9"}', "content_type": "application/json"},
        400,
        "malformed_json",
        "UTF-8",
    ),  # not UTF-8
    (
        "POST",
        CLASSIFY,
        {"data": b"caf\xe9", "content_type": "text/plain"},
        400,
        "undecodable_text",
        "charset",
    ),  # plain text that is not UTF-8
    ("POST", CLASSIFY, {"json": {"text": "  \n "}}, 422, "invalid_field", "text is empty"),
    (
        "POST",
        CLASSIFY,
        {"data": " ", "content_type": "text/plain"},
        422,
        "invalid_field",
        "text is empty",
    ),  # blank plain text
    ("POST", CLASSIFY, {"json": {}}, 422, "invalid_field", "text is missing"),
    ("POST", CLASSIFY, {"json": {"text": 42}}, 422, "invalid_field", "must be a string"),
    (
        "POST",
        CLASSIFY,
        {"json": {"text": OK, "title": ["x"]}},
        422,
        "invalid_field",
        "title is array",
    ),  # mistyped optional field
    ("POST", CLASSIFY, {"json": {"txt": OK}}, 422, "invalid_field", "fields are: text, title"),
    ("POST", CLASSIFY, {"json": [OK]}, 422, "invalid_field", "not an object"),
    (
        "POST",
        CLASSIFY,
        {"json": {"text": "x" * 301}},
        413,
        "limit_exceeded",
        "ROLELENS_MAX_POSTING_CHARS",
    ),  # one posting too long
    (
        "POST",
        CLASSIFY,
        {"json": {"text": "x" * 290, "title": "y" * 20}},
        413,
        "limit_exceeded",
        "title + text",
    ),  # title and text together too long
    (
        "POST",
        CLASSIFY,
        {"data": "x" * 5000, "content_type": "text/plain"},
        413,
        "limit_exceeded",
        "ROLELENS_MAX_CONTENT_LENGTH",
    ),  # body too large
    (
        "POST",
        BATCH,
        {"json": {"postings": [{"text": OK}] * 4}},
        413,
        "limit_exceeded",
        "ROLELENS_MAX_BATCH_SIZE",
    ),  # too many postings
    ("POST", BATCH, {"json": {"postings": []}}, 422, "invalid_field", "at least one"),
    ("POST", BATCH, {"json": {"items": []}}, 422, "invalid_field", "fields are: postings"),
    ("POST", BATCH, {"json": {"postings": {"text": OK}}}, 422, "invalid_field", "is object"),
    (
        "POST",
        BATCH,
        {"json": {"postings": [{"text": OK}, {"text": ""}]}},
        422,
        "invalid_field",
        "postings[1].text is empty",
    ),  # the bad item is named
    (
        "POST",
        BATCH,
        {"json": {"postings": [{"id": True, "text": OK}]}},
        422,
        "invalid_field",
        "postings[0].id is boolean",
    ),
    (
        "POST",
        BATCH,
        {"json": {"postings": [{"id": 1, "body": OK}]}},
        422,
        "invalid_field",
        "unknown field(s) body",
    ),
    (
        "POST",
        BATCH,
        {"json": {"postings": ["just text"]}},
        422,
        "invalid_field",
        "postings[0] is string",
    ),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status", "code", "hint"), CASES)
def test_errors_are_problems_that_say_what_to_fix(
    small_app: Flask,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
    hint: str,
) -> None:
    response = small_app.test_client().open(path, method=method, **kwargs)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == "about:blank"
    assert problem["title"]
    assert problem["instance"] == path
    assert hint in problem["detail"]


@pytest.mark.parametrize(
    ("kwargs", "limit", "setting"),
    [
        ({"json": {"text": "x" * 301}}, 300, "ROLELENS_MAX_POSTING_CHARS"),
        ({"data": "x" * 5000, "content_type": "text/plain"}, 4000, "ROLELENS_MAX_CONTENT_LENGTH"),
    ],
)
def test_a_413_names_the_limit_and_its_setting(
    small_app: Flask, kwargs: dict[str, Any], limit: int, setting: str
) -> None:
    problem = small_app.test_client().post(CLASSIFY, **kwargs).get_json()
    assert (problem["limit"], problem["setting"]) == (limit, setting)
    assert str(limit) in problem["detail"]


def test_405_lists_the_allowed_methods_in_the_allow_header(client: FlaskClient) -> None:
    response = client.get(CLASSIFY)
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_an_unexpected_failure_is_a_500_problem_without_internals(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(self: object, text: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("classifier.model.RoleClassifier.classify", explode)
    app.config["TESTING"] = False  # let the error handler answer instead of raising
    response = app.test_client().post(CLASSIFY, json={"text": OK})
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # but the log has it


def _example(rule: Any) -> BaseException:
    """An instance of the rule's kind (a full disk is any OSError with ENOSPC)."""
    if rule.kind is StorageFull:
        return OSError(errno.ENOSPC, "No space left on device")
    if rule.kind is JobBusy:
        return JobBusy("0" * 32)
    exc: BaseException = rule.kind("what went wrong, and what to do")
    return exc


@pytest.mark.parametrize("rule", TABLE, ids=lambda rule: rule.kind.__name__)
def test_one_table_gives_the_http_status_and_the_cli_exit_code(
    rule: Any, trained_home: Any
) -> None:
    exc = _example(rule)
    app = create_app({"HOME": str(trained_home)})

    @app.get("/raise")
    def raising() -> str:
        raise exc

    answer = app.test_client().get("/raise")
    assert answer.status_code == rule.status
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["code"] == rule.code

    @click.group(cls=Group)
    def group() -> None:
        pass

    @group.command()
    def fail() -> None:
        raise exc

    result = CliRunner().invoke(group, ["fail"])
    assert result.exit_code == rule.exit_code
    assert len(result.output.strip().splitlines()) == 1  # one line, no traceback
