"""A real browser (Debian's chromium + chromium-driver, driven by Selenium) uses the page."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from service.app import create_app
from tests.conftest import REPO
from tests.service.browser import _browser_paths, waiting

pytestmark = pytest.mark.xdist_group("chromium")  # one chromium per worker: keep its tests on one


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` on a free 127.0.0.1 port in a thread, shut down on leaving the block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # The loop looks for shutdown every 50 ms: at the default 0.5 s, the stop of each test's
    # server waited 0.3 s on average.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class Seen:
    """One request the app answered, as the browser sent it."""

    path: str
    query: str
    status: str
    authorization: str


def recording(app: Flask) -> list[Seen]:
    """Make ``app`` note every request it answers; returns the list it fills."""
    seen: list[Seen] = []
    inner = app.wsgi_app

    def recorded(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen.append(
                Seen(
                    environ["PATH_INFO"],
                    environ.get("QUERY_STRING", ""),
                    status.split()[0],
                    environ.get("HTTP_AUTHORIZATION", ""),
                )
            )
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = recorded  # type: ignore[method-assign]
    return seen


@pytest.fixture
def live_server(trained_home: Path) -> Iterator[str]:
    """The app serving the session's model, for the length of a test."""
    with serving(create_app({"HOME": str(trained_home)})) as url:
        yield url


def wait_visible(driver: Any, element_id: str, seconds: float = 30) -> Any:
    """The element with ``element_id`` once it is shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    return waiting(driver, seconds).until(ec.visibility_of_element_located((By.ID, element_id)))


def classify_on_page(driver: Any, url: str, text: str) -> Any:
    """Open the page, paste ``text``, press Classify and wait for the answer; the text area.

    The text arrives as a paste does, in one insertion at the caret (typing a 3 kB posting
    key by key took seconds of the browser tests' time); typing is tested on its own."""
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    box = driver.find_element(By.ID, "posting")
    box.click()
    driver.execute_cdp_cmd("Input.insertText", {"text": text})
    assert box.get_attribute("value") == text.replace("\r\n", "\n")
    driver.find_element(By.ID, "classify").click()
    wait_visible(driver, "result")
    return box


@pytest.mark.slow
def test_paste_classify_and_see_the_highlighted_call(
    chrome: Callable[..., Any], live_server: str, posting: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome()
    box = classify_on_page(driver, live_server, posting)
    assert driver.find_element(By.ID, "leaning").text == "ML-engineering-leaning"
    marks = driver.find_elements(By.CSS_SELECTOR, "#highlighted mark.hl.ml")
    assert marks, "at least one phrase is highlighted toward ML engineering"
    assert all(mark.text and mark.text in posting for mark in marks)
    assert "toward ML engineering" in (marks[0].get_attribute("title") or "")
    # The highlighted posting reads exactly like the pasted one.
    shown = driver.find_element(By.ID, "highlighted").get_attribute("textContent")
    assert shown == box.get_attribute("value")
    assert driver.find_elements(By.CSS_SELECTOR, "#key-phrases li")
    assert driver.find_element(By.ID, "model-version").text
    screenshot = tmp_path / "classified.png"
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 0


@pytest.mark.slow
def test_a_posting_of_another_job_is_headlined_as_neither_role(
    chrome: Callable[..., Any], live_server: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    chef = (REPO / "fixtures" / "postings" / "pastry_chef.txt").read_text(encoding="utf-8")
    driver = chrome()
    classify_on_page(driver, live_server, chef)
    heading = driver.find_element(By.ID, "leaning")
    assert heading.text == "Not a data-science or ML-engineering posting"
    beneath = driver.find_element(By.ID, "leaning-small")
    assert beneath.is_displayed() and "lean toward" in beneath.text
    assert driver.save_screenshot(str(tmp_path / "neither.png"))


@pytest.mark.slow
def test_keyboard_only_and_errors_shown_in_words(
    chrome: Callable[..., Any], live_server: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = chrome("375,800")
    driver.get(live_server + "/")
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "posting", "Tab reaches the text area first"
    active.send_keys("Run A/B tests <b>and</b> present statistical insights.")
    active.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_visible(driver, "result")
    assert driver.find_element(By.ID, "leaning").text == "Data-science-leaning"
    assert not driver.find_elements(By.CSS_SELECTOR, "#highlighted b"), "text, not HTML"
    inner, scroll = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert inner <= 500, "a phone-sized window"
    assert scroll <= inner, "no sideways scrolling at phone width"
    driver.save_screenshot(str(tmp_path / "phone.png"))


HOSTILE_POSTING = (
    "<script>window.__xss = 'script'; alert(1)</script>\n"
    "<img src=x onerror=\"window.__xss = 'img'; alert(2)\">\n"
    '<svg onload="window.__xss = \'svg\'"></svg><a href="javascript:alert(3)">apply</a>\n'
    "Deploy models to production with Kubernetes, <b>monitor</b> drift and build "
    "feature pipelines.</textarea><iframe src=//example.invalid></iframe>"
)


@pytest.mark.slow
def test_a_posting_holding_html_shows_as_text_and_runs_nothing(
    chrome: Callable[..., Any], live_server: str, tmp_path: Path
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    driver = chrome()
    box = classify_on_page(driver, live_server, HOSTILE_POSTING)
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert driver.execute_script("return window.__xss === undefined")
    for tag in ("script", "img", "svg", "iframe", "a", "b"):
        found = driver.find_elements(By.CSS_SELECTOR, f"#result {tag}")
        assert not found, f"a <{tag}> element was created from the posting"
    sources = [e.get_attribute("src") for e in driver.find_elements(By.TAG_NAME, "script")]
    assert sources and all("/static/" in (src or "") for src in sources), sources  # own only
    shown = driver.find_element(By.ID, "highlighted").get_attribute("textContent")
    assert shown == box.get_attribute("value")
    assert "<script>" in shown and "onerror" in shown  # shown as the text it is
    blocked = [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]
    assert not blocked, "the page's own script and style obey its policy"


def test_without_chromium_the_browser_test_skips_but_fails_under_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _browser_paths()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _browser_paths()


ICONS = """
const done = arguments[arguments.length - 1];
const icon = document.querySelector("link[rel=icon]").href;
Promise.all([icon, "/favicon.ico"].map((address) => fetch(address, {cache: "no-store"})))
  .then((answers) => done(answers.map((a) => [a.status, a.headers.get("Content-Type")])));
"""
VIEWPORTS = [
    # (width, height, mobile): where the result must come into view after Classify
    (1280, 800, False),  # a laptop
    (390, 844, True),  # a phone (touch, 3x pixels)
]


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height", "mobile"), VIEWPORTS)
def test_after_classify_the_result_heading_is_in_view_and_has_focus(
    chrome: Callable[..., Any],
    trained_home: Path,
    posting: str,
    tmp_path: Path,
    width: int,
    height: int,
    mobile: bool,
) -> None:
    app = create_app({"HOME": str(trained_home)})
    answered = recording(app)
    driver = chrome(f"{width},{height}")
    metrics = {"width": width, "height": height, "deviceScaleFactor": 3 if mobile else 1}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "mobile": mobile})
    with serving(app) as url:
        classify_on_page(driver, url, posting)
        # The page's icon and /favicon.ico are there, no 404. The page fetches them itself:
        # chromium fetches an icon on its own only when it has none for the address, and a
        # test server can get a port an earlier test's server had (it failed once so in CI).
        icons = driver.execute_async_script(ICONS)
    assert [status for status, _ in icons] == [200, 200], icons
    assert all(kind.startswith("image/svg+xml") for _, kind in icons), icons
    assert not [r for r in answered if not r.status.startswith(("2", "3"))], answered

    def answer_in_view(driver: Any) -> bool:
        # The heading is wholly inside the viewport, and the result starts in its top
        # quarter: the answer, not the form, is what the reader sees.
        result, top, bottom, inner = driver.execute_script(
            "const box = document.getElementById('leaning').getBoundingClientRect();"
            "const result = document.getElementById('result').getBoundingClientRect();"
            "return [result.top, box.top, box.bottom, window.innerHeight];"
        )
        # (1 px of slack: boxes sit at fractional pixels once scrolled)
        return bool(top >= -1 and bottom <= inner + 1 and result <= inner / 4)

    waiting(driver, 10).until(answer_in_view)  # a smooth scroll, on a busy machine
    assert driver.switch_to.active_element.get_attribute("id") == "leaning"
    assert driver.save_screenshot(str(tmp_path / f"result-{width}x{height}.png"))


ATTEMPTS = """
const script = document.createElement("script");  // an inline script
script.textContent = "window.__ran = 'inline script'";
document.body.append(script);
const button = document.createElement("button");  // an inline event handler
button.setAttribute("onclick", "window.__ran = 'inline handler'");
document.body.append(button);
button.click();
const frame = document.createElement("iframe");  // the page inside a frame
frame.id = "framed";
frame.addEventListener("load", () => { window.__framed = true; });
frame.src = "/";
document.body.append(frame);
"""


@pytest.mark.slow
def test_the_browser_runs_no_inline_script_and_will_not_frame_the_page(
    chrome: Callable[..., Any], live_server: str, tmp_path: Path
) -> None:
    driver = chrome()
    driver.get(live_server + "/")
    wait_visible(driver, "posting")
    driver.execute_script(ATTEMPTS)  # run by the driver, as if injected into the page
    waiting(driver, 10).until(lambda d: d.execute_script("return window.__framed"))
    assert driver.execute_script("return window.__ran") is None, "injected script ran"
    # A refused frame holds the browser's error page, which the page cannot look into.
    framed = driver.execute_script(
        "const doc = document.getElementById('framed').contentDocument;"
        "return doc !== null && doc.getElementById('posting') !== null;"
    )
    assert not framed, "the page was shown inside a frame"
