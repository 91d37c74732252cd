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
    ],
)
def test_static_files_are_served(client: FlaskClient, path: str, mimetype: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    response.close()


@pytest.mark.parametrize("name", ["rolelens.js", "rolelens-csv.js", "rolelens-teach.js"])
def test_the_scripts_never_put_text_into_html(client: FlaskClient, name: str) -> None:
    response = client.get(f"/static/{name}")
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


def test_the_admin_token_never_goes_into_a_cookie_or_a_url(client: FlaskClient) -> None:
    response = client.get("/static/rolelens-teach.js")
    script = response.get_data(as_text=True)
    response.close()
    assert "document.cookie" not in script and "localStorage" not in script
    assert "sessionStorage" in script and '"Authorization": "Bearer "' in script
