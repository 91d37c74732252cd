"""The optional per-client rate limit: off by default, one setting, 429 with Retry-After."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from jsonschema import Draft202012Validator

from service.app import create_app
from service.config import APP_DEFAULTS
from service.openapi import document
from service.ratelimit import FixedWindowLimiter, Rule

OK = "Deploy models to production with Kubernetes and Docker."


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _limited(home: Path, clock: Clock, rule: str = "3/minute") -> Flask:
    limiter = FixedWindowLimiter(Rule.parse(rule), clock)
    return create_app({"TESTING": True, "HOME": str(home), "RATE_LIMIT": limiter})


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [
        ("60/minute", 60, 60.0),  # the documented example
        ("5/second", 5, 1.0),  # per second
        ("1000/hour", 1000, 3600.0),  # per hour
        (" 10 / minutes ", 10, 60.0),  # spaces and a plural
    ],
)
def test_rules_are_read(text: str, count: int, period: float) -> None:
    assert Rule.parse(text) == Rule(count, period)


@pytest.mark.parametrize("text", ["60", "0/minute", "-1/minute", "60/day", "lots", "60/min"])
def test_a_bad_rule_says_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match=r"ROLELENS_RATE_LIMIT=.*N/minute"):
        Rule.parse(text)


def test_a_bad_setting_stops_the_app_from_starting(
    trained_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_RATE_LIMIT", "sixty")
    with pytest.raises(ValueError, match="N/minute"):
        create_app({"HOME": str(trained_home)})


def test_off_by_default(app: Flask) -> None:
    client = app.test_client()
    statuses = {client.get("/api/v1/model").status_code for _ in range(50)}
    assert statuses == {200}


def test_one_environment_variable_turns_it_on(
    trained_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_RATE_LIMIT", "2/minute")
    client = create_app({"HOME": str(trained_home)}).test_client()
    assert [client.get("/api/v1/model").status_code for _ in range(3)] == [200, 200, 429]


def test_over_the_limit_is_a_429_problem_with_retry_after(trained_home: Path) -> None:
    clock = Clock(1000.0)  # 1000 s: 40 s into a minute window
    client = _limited(trained_home, clock).test_client()
    for _ in range(3):
        assert client.post("/api/v1/classify", json={"text": OK}).status_code == 200
    refused = client.post("/api/v1/classify", json={"text": OK})
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "20"
    problem = refused.get_json()
    assert problem["code"] == "rate_limited" and problem["retry_after"] == 20
    assert "ROLELENS_RATE_LIMIT" in problem["detail"] and "wait 20 s" in problem["detail"]
    assert refused.headers["Content-Security-Policy"]  # errors keep the security headers
    spec = document(APP_DEFAULTS)
    documented = spec["paths"]["/api/v1/classify"]["post"]["responses"]["429"]
    schema = documented["content"]["application/problem+json"]["schema"]
    assert "Retry-After" in documented["headers"]
    Draft202012Validator({**schema, "components": spec["components"]}).validate(problem)
    clock.now = 1020.0  # the next window
    assert client.post("/api/v1/classify", json={"text": OK}).status_code == 200


def test_each_client_address_has_its_own_count(trained_home: Path) -> None:
    client = _limited(trained_home, Clock(), "1/minute").test_client()
    first = {"REMOTE_ADDR": "192.0.2.1"}
    second = {"REMOTE_ADDR": "192.0.2.2"}
    assert client.get("/api/v1/model", environ_base=first).status_code == 200
    assert client.get("/api/v1/model", environ_base=first).status_code == 429
    assert client.get("/api/v1/model", environ_base=second).status_code == 200


def test_only_the_api_is_limited(trained_home: Path) -> None:
    client = _limited(trained_home, Clock(), "1/minute").test_client()
    client.get("/api/v1/model")
    assert client.get("/api/v1/model").status_code == 429
    for path in ("/", "/healthz", "/readyz", "/static/rolelens.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_a_new_window_forgets_old_clients() -> None:
    clock = Clock(0.0)
    limiter = FixedWindowLimiter(Rule(1, 1.0), clock)
    for n in range(1000):
        limiter.hit(f"client-{n}")
    clock.now = 1.5
    assert limiter.hit("client-0") is None
    assert len(limiter._counts) == 1  # memory stays bounded by one window's clients
