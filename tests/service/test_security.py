"""Security headers on every response, no compressed bodies, no debug mode, no path escape."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from classifier.artifacts import current_version, models_dir
from service.app import create_app
from service.security import CONTENT_SECURITY_POLICY
from tests.conftest import REPO
from tests.service.conftest import free_port
from tests.service.test_serve import wait_until_ready

TOKEN = "security-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
OK = "Deploy models to production with Kubernetes and Docker."


@pytest.fixture
def admin(home: Path) -> FlaskClient:
    """A client of an app with writes on, over a private copy of the data directory."""
    return create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": TOKEN}).test_client()


RESPONSES = [
    # (method, path, request kwargs, status): the page, API, static files and errors alike
    ("GET", "/", {}, 200),  # the page
    ("GET", "/static/rolelens.js", {}, 200),  # static script
    ("GET", "/static/rolelens.css", {}, 200),  # static style
    ("POST", "/api/v1/classify", {"json": {"text": OK}}, 200),  # the API
    ("GET", "/api/v1/openapi.json", {}, 200),  # the document
    ("GET", "/healthz", {}, 200),  # a probe
    ("GET", "/no/such/page", {}, 404),  # an unknown path
    ("GET", "/static/nothing.js", {}, 404),  # an unknown static file
    ("GET", "/api/v1/classify", {}, 405),  # a wrong method
    ("POST", "/api/v1/classify", {"json": {"text": ""}}, 422),  # a refused body
    ("POST", "/api/v1/phrases", {"json": {}}, 403),  # a write with writes off
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), RESPONSES)
def test_every_response_carries_the_security_headers(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.open(path, method=method, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    response.close()


def test_an_unexpected_error_carries_the_headers_and_no_traceback(app: Flask) -> None:
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", view_func=boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (TESTING would re-raise)
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "secret internals" not in response.get_data(as_text=True)


def _bomb() -> bytes:
    """A ~10 kB gzip body that inflates to 10 MB (5 x the body limit)."""
    return gzip.compress(b"\0" * 10_000_000, compresslevel=9)


@pytest.mark.parametrize(
    ("path", "encoding"),
    [
        ("/api/v1/classify", "gzip"),  # the classic
        ("/api/v1/classify/batch", "deflate"),  # another coding
        ("/api/v1/classify", "GZIP, identity"),  # case and lists do not slip through
        ("/api/v1/phrases", "br"),  # admin writes too, before the token check
    ],
)
def test_a_compressed_body_is_refused_not_inflated(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str, encoding: str
) -> None:
    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("the server tried to inflate a request body")

    bomb = _bomb()
    assert len(bomb) < 20_000
    monkeypatch.setattr(gzip, "decompress", never)
    monkeypatch.setattr(zlib, "decompress", never)
    monkeypatch.setattr(zlib, "decompressobj", never)
    response = client.post(
        path,
        data=bomb,
        headers={"Content-Encoding": encoding, "Content-Type": "application/json"},
    )
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "compressed_body"
    assert "never inflated" in problem["detail"] and "uncompressed" in problem["detail"]


def test_identity_encoding_is_a_plain_body(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/classify", json={"text": OK}, headers={"Content-Encoding": "identity"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"FLASK_DEBUG": "1"},  # Flask's own switch
        {"ROLELENS_DEBUG": "true"},  # the app's prefix, read by from_prefixed_env
        {"FLASK_DEBUG": "1", "ROLELENS_DEBUG": "1"},  # both
    ],
)
def test_debug_mode_cannot_be_turned_on(
    trained_home: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str]
) -> None:
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = create_app({"HOME": str(trained_home)})
    assert app.debug is False
    assert app.config["DEBUG"] is False
    assert create_app({"HOME": str(trained_home), "DEBUG": True}).debug is False


@pytest.mark.slow
def test_make_run_serves_with_gunicorn_not_a_debug_server(home: Path, tmp_path: Path) -> None:
    port = free_port()
    venv = Path(sys.executable).parent.parent  # this venv: `-o` keeps make from reinstalling
    command = [
        "make",
        "--no-print-directory",
        "-o",
        f"{venv}/bin/.run-deps",
        "run",
        f"VENV={venv}",
        f"PORT={port}",
    ]
    env = {
        **os.environ,
        "ROLELENS_HOME": str(home),
        "WEB_CONCURRENCY": "1",
        "FLASK_DEBUG": "1",  # asked for: still no debug server
        "ROLELENS_DEBUG": "1",
    }
    log = tmp_path / "make-run.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(port, process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/no/such/page")
        response = connection.getresponse()
        body = response.read().decode()
        connection.close()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # make and the gunicorn it started
        process.wait(timeout=30)
    assert (response.getheader("Server") or "").startswith("gunicorn"), response.getheaders()
    assert response.status == 404 and response.getheader("Content-Type") == (
        "application/problem+json"
    )
    assert "Traceback" not in body and "debugger" not in body.lower()
    assert "Booting worker" in log.read_text()  # gunicorn's own log line


HOSTILE_VERSIONS = [
    "../../etc/passwd",  # climbs out
    "..",  # the registry's parent
    ".",  # the registry itself
    "/etc/passwd",  # absolute
    "%2e%2e%2fCURRENT",  # URL-encoded dots and slash, taken literally
    "..%2F..%2Fetc",  # encoded slash
    "models/../../x",  # a path that climbs back
    "v1\x00.joblib",  # NUL
    "C:\\Windows",  # a Windows path
    "\u2024\u2024",  # look-alike dots
    ".staging-x",  # a hidden staging folder
    "a" * 101,  # too long
]


@pytest.mark.parametrize("version", HOSTILE_VERSIONS)
def test_rollback_cannot_name_a_path(admin: FlaskClient, home: Path, version: str) -> None:
    before = current_version(home)
    response = admin.post("/api/v1/models/rollback", json={"version": version}, headers=AUTH)
    assert response.status_code == 404
    assert "not a version name" in response.get_json()["detail"]
    assert current_version(home) == before


@pytest.mark.parametrize(
    "path",
    [
        "/static/../service/app.py",  # climbs out of static
        "/static/%2e%2e/app.py",  # encoded dots
        "/static/..%2fapp.py",  # encoded slash
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",  # both
        "/static//etc/passwd",  # absolute (redirected to /static/etc/passwd)
        "/static/rolelens.js%00.html",  # NUL
    ],
)
def test_static_paths_cannot_leave_the_static_folder(client: FlaskClient, path: str) -> None:
    response = client.get(path, follow_redirects=True)
    assert response.status_code in (400, 404)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/phrases/..%2F..%2Fetc",  # a path where an id goes
        "/api/v1/phrases/-1",  # negative
        "/api/v1/phrases/99999999999999999999999999",  # beyond SQLite's integers
        "/api/v1/phrases/1%00",  # NUL
    ],
)
def test_phrase_ids_are_only_numbers(admin: FlaskClient, path: str) -> None:
    response = admin.delete(path, headers=AUTH)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_rollback_refuses_a_version_folder_linked_outside_the_registry(
    admin: FlaskClient, home: Path, tmp_path: Path
) -> None:
    serving = current_version(home)
    outside = tmp_path / "outside"
    shutil.copytree(models_dir(home) / serving, outside)  # whole, every checksum matches
    card = json.loads((outside / "card.json").read_text(encoding="utf-8"))
    (outside / "card.json").write_text(json.dumps({**card, "version": "linked"}))
    (models_dir(home) / "linked").symlink_to(outside)
    listed = admin.get("/api/v1/models").get_json()
    assert "linked" not in [v["version"] for v in listed["versions"]]
    response = admin.post("/api/v1/models/rollback", json={"version": "linked"}, headers=AUTH)
    assert response.status_code == 409
    assert "symbolic link" in response.get_json()["detail"]
    assert current_version(home) == serving


def test_a_damaged_version_is_listed_with_its_problem_not_a_500(
    admin: FlaskClient, home: Path
) -> None:
    (models_dir(home) / current_version(home) / "card.json").unlink()
    response = admin.get("/api/v1/models")
    assert response.status_code == 200
    (damaged,) = response.get_json()["versions"]
    assert "card.json" in damaged["problem"]


class _BoundSocket:
    """Stands in for gunicorn's socket of a connection that came in on 10.1.2.3:8000."""

    def getsockname(self) -> tuple[str, int]:
        return ("10.1.2.3", 8000)


@pytest.mark.parametrize(
    ("allowed", "host", "status"),
    [
        (None, "localhost", 200),  # loopback names are always served
        (None, "127.0.0.1:8000", 200),
        (None, "[::1]:8000", 200),
        (None, "10.1.2.3:8000", 200),  # the address the connection came in on
        (None, "evil.example", 400),  # DNS rebinding: another site's name
        (None, "127.0.0.1.evil.example:8000", 400),  # a name that only starts like loopback
        (None, "10.9.9.9:8000", 400),  # another address
        ("rolelens.internal, jobs.example", "rolelens.internal:8000", 200),  # named by the operator
        ("rolelens.internal, jobs.example", "JOBS.example", 200),  # names are case-insensitive
        ("rolelens.internal", "evil.example", 400),
        ("*", "evil.example", 200),  # the operator allows any
    ],
)
def test_only_allowed_hosts_are_served(
    trained_home: Path, allowed: str | None, host: str, status: int
) -> None:
    app = create_app({"HOME": str(trained_home), "ALLOWED_HOSTS": allowed})
    response = app.test_client().get(
        "/healthz", headers={"Host": host}, environ_overrides={"gunicorn.socket": _BoundSocket()}
    )
    assert response.status_code == status
    if status == 400:
        problem = response.get_json()
        assert problem["code"] == "host_not_allowed"
        assert "ROLELENS_ALLOWED_HOSTS" in problem["detail"]


def test_allowed_hosts_come_from_the_environment(
    trained_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLELENS_ALLOWED_HOSTS", "rolelens.internal,jobs.example")
    client = create_app({"HOME": str(trained_home)}).test_client()
    assert client.get("/healthz", headers={"Host": "jobs.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
