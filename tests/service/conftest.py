"""Fixtures of the service tests: ``app``, ``client`` and a private copy of the registry."""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import create_app
from tests.conftest import REPO
from tests.service.browser import fresh, start_chrome

POSTINGS = REPO / "fixtures" / "postings"
TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(trained_home: Path) -> Flask:
    """The app serving the session's trained model (read-only: do not promote in it)."""
    return create_app({"TESTING": True, "HOME": str(trained_home)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin_app(home: Path) -> Flask:
    """An app over a private registry copy, with writes allowed by :data:`TOKEN`."""
    return create_app({"TESTING": True, "HOME": str(home), "ADMIN_TOKEN": TOKEN})


@pytest.fixture
def admin(admin_app: Flask) -> FlaskClient:
    return admin_app.test_client()


@pytest.fixture
def quick_admin_app(quick_home: Path, quick_fixtures: Path) -> Flask:
    """:func:`admin_app` over a copy of the quick registry, whose retrain jobs train on the
    quick fixtures (for tests of what a job does, not of the model it makes)."""
    config = {"HOME": str(quick_home), "ADMIN_TOKEN": TOKEN, "FIXTURES": str(quick_fixtures)}
    return create_app({"TESTING": True, **config})


@pytest.fixture
def quick_admin(quick_admin_app: Flask) -> FlaskClient:
    return quick_admin_app.test_client()


@pytest.fixture(scope="session")
def posting() -> str:
    """A real ~3 kB ML-engineering posting."""
    return (POSTINGS / "ml_engineer_platform.txt").read_text(encoding="utf-8")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def shared_chrome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless chromium per test process (starting one costs more than most browser
    tests); a skip, or a failure under CI=true, when it is not installed."""
    driver = start_chrome(tmp_path_factory.mktemp("chrome") / "profile")
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def chrome(shared_chrome: Any) -> Callable[..., Any]:
    """``chrome(size="1280,1600")``: the process's chromium on a blank page, sized."""
    return functools.partial(fresh, shared_chrome)
