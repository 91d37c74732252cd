"""The web page: served with its own files, no inline script, nothing from the internet."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient


def test_the_page_has_the_form_and_result_areas(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for element in (
        '<textarea id="posting"',
        'id="classify"',
        'id="highlighted"',
        'id="key-phrases"',
        'id="counter-phrases"',
        'id="similar"',
        'id="bar"',
        'id="csv-file"',  # the CSV panel
        'id="csv-download"',
        'id="teach-text"',  # the Teach panel
        'id="admin-token" type="password"',
        'id="retrain"',
    ):
        assert element in html
    assert 'maxlength="50000"' in html  # the server's posting limit, told to the browser


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script(
    client: FlaskClient,
) -> None:
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "no inline event handlers"
    assert "style=" not in html


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/static/rolelens.js", "text/javascript"),
        ("/static/rolelens.css", "text/css"),
        ("/static/rolelens-csv.js", "text/javascript"),
        ("/static/rolelens-teach.js", "text/javascript"),
        ("/static/favicon.svg", "image/svg+xml"),  # the icon the page links to
        ("/favicon.ico", "image/svg+xml"),  # the same, where browsers look unasked
    ],
)
def test_static_files_are_served(client: FlaskClient, path: str, mimetype: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    response.close()


def test_the_page_is_served_with_its_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
