"""Structured logs (ROLELENS_LOG_FORMAT=json) and the request id of every request."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, g
from flask.testing import FlaskClient

from classifier.artifacts import current_version
from service.cli import cli
from service.logformat import (
    TEXT_FORMAT,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    check_format,
    log_config,
)

HEX32 = re.compile(r"[0-9a-f]{32}")
REQUEST_KEYS = {"method", "path", "status", "duration_ms", "model_version", "request_id"}


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the ``rolelens`` loggers write, formatted as under ROLELENS_LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("rolelens")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_request_lines_are_json_objects_with_the_documented_keys(
    client: FlaskClient, json_lines: io.StringIO, trained_home: Path
) -> None:
    client.post("/api/v1/classify", json={"text": "deploy models"}, headers={"X-Request-ID": "r1"})
    client.get("/nope")
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    requests = [line for line in lines if line["logger"] == "rolelens.request"]
    assert len(requests) == 2
    first, second = requests
    assert {"time", "level", "logger", "message"} | REQUEST_KEYS <= set(first)
    assert first["time"].endswith("Z") and first["level"] == "INFO"
    assert (first["method"], first["path"], first["status"]) == ("POST", "/api/v1/classify", 200)
    assert first["model_version"] == current_version(trained_home)
    assert first["request_id"] == "r1" and first["duration_ms"] >= 0
    assert second["status"] == 404 and second["model_version"] is None
    assert HEX32.fullmatch(second["request_id"])


def test_lines_logged_during_a_request_carry_its_id(app: Flask, json_lines: io.StringIO) -> None:
    with app.test_request_context("/"):
        g.request_id = "abc"
        logging.getLogger("rolelens.model").warning("inside")
    logging.getLogger("rolelens.model").warning("outside")
    inside, outside = (json.loads(line) for line in json_lines.getvalue().splitlines())
    assert inside["request_id"] == "abc" and inside["message"] == "inside"
    assert "request_id" not in outside


def test_a_traceback_stays_inside_its_json_line(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("rolelens.errors").exception("failed")
    (line,) = json_lines.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exc_info"]


@pytest.mark.parametrize(
    ("given", "echoed"),
    [
        ("req-42", True),  # a plain token
        ("a" * 128, True),  # the longest allowed
        ("!~#%/:=?@[]", True),  # any visible ASCII
        ("a" * 129, False),  # too long
        ("has space", False),  # a space is not visible
        ("tab\there", False),  # nor a control character
        ("", False),  # empty
    ],
)
def test_request_id_is_echoed_when_sane_else_replaced(
    client: FlaskClient, given: str, echoed: bool
) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": given})
    rid = answer.headers["X-Request-ID"]
    assert rid == given if echoed else HEX32.fullmatch(rid)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/nope", 404),  # a problem from routing
        ("PUT", "/healthz", 405),  # a problem from the method
        ("POST", "/api/v1/classify", 415),  # a problem raised by a view
    ],
)
def test_every_problem_response_carries_the_request_id(
    client: FlaskClient, method: str, path: str, status: int
) -> None:
    answer = client.open(path, method=method, headers={"X-Request-ID": "trace-me"})
    assert answer.status_code == status
    assert answer.mimetype == "application/problem+json"
    assert answer.headers["X-Request-ID"] == "trace-me"


def test_each_request_without_an_id_gets_its_own(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "text"), ("", "text"), ("JSON", "json"), (" text ", "text")],
)
def test_log_format_names(value: str | None, expected: str) -> None:
    assert check_format(value) == expected


def test_log_config_picks_the_formatter() -> None:
    as_json = log_config("json", None)
    assert as_json["formatters"]["main"]["()"].endswith("JsonFormatter")
    assert log_config(None, None)["formatters"]["main"]["()"].endswith("TextFormatter")
    assert log_config("text", "WARNING")["loggers"]["rolelens"]["level"] == "WARNING"
    assert log_config("text", " debug ")["loggers"]["rolelens"]["level"] == "DEBUG"


def test_serve_refuses_an_unknown_log_level_naming_the_levels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROLELENS_LOG_LEVEL", "loud")
    monkeypatch.setattr("service.cli.os.execv", lambda *_: pytest.fail("gunicorn started"))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert (
        "ROLELENS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.output
    )


def test_serve_refuses_an_unknown_log_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLELENS_LOG_FORMAT", "xml")
    monkeypatch.setattr("service.cli.os.execv", lambda *_: pytest.fail("gunicorn started"))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "ROLELENS_LOG_FORMAT must be 'text' or 'json', not 'xml'" in result.output


FORGED = "/nope%0Arolelens.request:%20POST%20/api/v1/retrain%20200%20FORGED%1b[2J%E2%80%A8x"


@pytest.mark.parametrize(
    "formatter",
    [
        TextFormatter(fmt=TEXT_FORMAT),  # the human line
        JsonFormatter(),  # one JSON object per line
    ],
)
def test_control_characters_in_a_request_cannot_forge_log_lines(
    client: FlaskClient, formatter: logging.Formatter
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger("rolelens")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        assert client.get(FORGED).status_code == 404
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    written = stream.getvalue()
    lines = written.splitlines()  # splitlines() breaks at \n, U+2028 and other separators
    assert len(lines) == 1, written
    assert "\\x1b" in written and "\x1b" not in written  # ESC shown, not sent to a terminal
    assert "GET /nope\\nrolelens.request: POST" in lines[0].replace("\\\\", "\\")
