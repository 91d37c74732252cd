"""The web page: served with its own files, no inline script, nothing from the internet."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.conftest import REPO


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
    ],
)
def test_static_files_are_served(client: FlaskClient, path: str, mimetype: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    response.close()


def test_the_script_never_puts_posting_text_into_html(client: FlaskClient) -> None:
    response = client.get("/static/rolelens.js")
    script = response.get_data(as_text=True)
    response.close()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script


def test_templates_never_mark_text_as_safe_html() -> None:
    for template in (REPO / "service" / "templates").glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", ""), template.name
        assert "autoescape false" not in source, template.name
        assert "Markup" not in source, template.name


def test_the_page_is_served_with_its_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
