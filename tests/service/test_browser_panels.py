"""The page's CSV and Teach panels in a real browser (same chromium set-up as test_browser)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from tests.service.browser import waiting
from tests.service.test_browser import (
    Seen,
    classify_on_page,
    recording,
    serving,
    wait_visible,
)
from training.retrain import open_store

pytestmark = pytest.mark.xdist_group("chromium")  # one chromium per worker: keep its tests on one

TOKEN = "browser-test-token"
ML = "Deploy models to production with Kubernetes and Docker, and monitor model serving."
DS = "Run A/B tests, build dashboards and present statistical insights to stakeholders."
HOSTILE = "write <b>dashboards</b> for <img src=x> stakeholders"


@dataclass(frozen=True)
class AdminServer:
    url: str
    seen: list[Seen]  # every request it answered


@pytest.fixture
def admin_server(quick_home: Path, quick_fixtures: Path) -> Iterator[AdminServer]:
    """The app with an admin token, on a private copy of the quick registry (its retrains
    train on the quick fixtures: the page's part is under test, not the model), in a thread."""
    app = create_app(
        {"HOME": str(quick_home), "ADMIN_TOKEN": TOKEN, "FIXTURES": str(quick_fixtures)}
    )
    seen = recording(app)
    with serving(app) as url:
        yield AdminServer(url, seen)


@pytest.fixture
def driver(chrome: Callable[..., Any]) -> Any:
    """The test process's chromium, on a blank page (see tests/service/conftest.py)."""
    return chrome()


@pytest.mark.slow
def test_upload_a_csv_and_download_the_classified_file(
    admin_server: AdminServer, driver: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    source = tmp_path / "postings.csv"
    source.write_text(f'id,description\n1,"{ML}"\n2,"{DS}"\n3,=SUM(A1)\n', encoding="utf-8")
    driver.get(admin_server.url + "/")
    driver.find_element(By.ID, "csv-file").send_keys(str(source))
    driver.find_element(By.ID, "csv-upload").click()
    link = wait_visible(driver, "csv-download")
    assert link.get_attribute("download") == "postings-classified.csv"
    assert "Done" in driver.find_element(By.ID, "csv-status").text
    assert not driver.find_element(By.ID, "csv-progress").is_displayed()
    assert driver.switch_to.active_element == link, "focus moves to the download link"
    # A real download into a folder of the test's (the page's CSP rightly forbids a script
    # from fetching the blob, so the test reads the file a user would get).
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    link.click()
    saved = downloads / "postings-classified.csv"
    deadline = time.monotonic() + 20
    # Chrome may create the file before it has written it: wait for its last line too.
    while time.monotonic() < deadline and not (
        saved.exists() and saved.read_bytes().count(b"\n") >= 4
    ):
        time.sleep(0.1)
    assert saved.exists(), f"no download; the folder holds {sorted(downloads.iterdir())}"
    text = saved.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["label"] for r in rows[:2]] == ["ml_engineering", "data_science"]
    assert rows[2]["description"] == "'=SUM(A1)", "the formula is neutralised"
    driver.save_screenshot(str(tmp_path / "csv-done.png"))

    # A file without a text column: the problem's detail, in words, with the columns; a
    # column name holding markup is shown as the text it is.
    bad = tmp_path / "bad.csv"
    bad.write_text("id,<b>content</b>\n1,hello\n", encoding="utf-8")
    driver.find_element(By.ID, "csv-file").send_keys(str(bad))
    driver.find_element(By.ID, "csv-upload").click()
    error = wait_visible(driver, "csv-error")
    assert "no text column" in error.text and "id, <b>content</b>" in error.text
    assert not driver.find_elements(By.CSS_SELECTOR, "#csv b"), "text, not HTML"
    assert not link.is_displayed(), "no stale download offered"
    driver.save_screenshot(str(tmp_path / "csv-error.png"))

    # Naming the column, as the detail says, classifies the same file.
    driver.find_element(By.ID, "csv-text-column").send_keys("<b>content</b>")
    driver.find_element(By.ID, "csv-upload").click()
    assert wait_visible(driver, "csv-download").get_attribute("download") == ("bad-classified.csv")
    assert not driver.find_element(By.ID, "csv-error").is_displayed()


@pytest.mark.slow
def test_teach_a_highlighted_phrase_with_the_token_and_retrain(
    admin_server: AdminServer, driver: Any, posting: str, tmp_path: Path, quick_home: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    classify_on_page(driver, admin_server.url, posting)
    mark = driver.find_element(By.CSS_SELECTOR, "#key-phrases mark.hl.ml")
    mark.send_keys(Keys.ENTER)  # keyboard: a phrase is chosen with Enter
    phrase = driver.find_element(By.ID, "teach-text")
    assert phrase.get_attribute("value") == mark.text
    assert driver.find_element(By.CSS_SELECTOR, 'input[value="ml_engineering"]').is_selected()
    assert driver.switch_to.active_element == phrase

    # A typed phrase, first with a wrong token: the 403's detail is shown.
    phrase.clear()
    phrase.send_keys("maintain feature stores for online model serving")
    token = driver.find_element(By.ID, "admin-token")
    token.send_keys("wrong", Keys.ENTER)
    assert "not the admin token" in wait_visible(driver, "teach-error").text
    token.clear()
    token.send_keys(TOKEN, Keys.ENTER)
    status = driver.find_element(By.ID, "teach-status")
    waiting(driver, 15).until(lambda d: "Retrain to use it" in status.text)
    assert "added" in status.text.lower()
    driver.save_screenshot(str(tmp_path / "teach-added.png"))

    # A conflict's detail quotes both phrases: markup in them is shown as text.
    assert open_store(quick_home).add(HOSTILE, "data_science", "alice").status == "added"
    phrase.clear()
    phrase.send_keys(HOSTILE)
    token.send_keys(Keys.ENTER)  # the role chosen is still ML engineering
    waiting(driver, 15).until(lambda d: "conflicts" in d.find_element(By.ID, "teach").text)
    assert HOSTILE in driver.find_element(By.ID, "teach").text
    assert not driver.find_elements(By.CSS_SELECTOR, "#teach b"), "text, not HTML"

    # The token stays in this tab: sent as a bearer header, never in a cookie, a URL or
    # storage that outlives the tab.
    assert driver.get_cookies() == []
    assert driver.execute_script("return window.localStorage.length") == 0
    assert driver.execute_script("return sessionStorage.getItem('rolelens.adminToken')") == TOKEN
    writes = [r for r in admin_server.seen if r.path.startswith("/api/v1/phrases")]
    assert writes and all(r.authorization.startswith("Bearer ") for r in writes)
    assert f"Bearer {TOKEN}" in {r.authorization for r in writes}
    assert not [r for r in admin_server.seen if TOKEN in r.path + r.query]

    driver.find_element(By.ID, "retrain").click()
    error = driver.find_element(By.ID, "teach-error")
    waiting(driver, 180).until(
        lambda d: "Now serving version" in status.text or error.is_displayed()
    )
    shown = status.text if "Now serving" in status.text else error.text
    assert "macro-F1" in shown, "the new version's figures, or the refusal with both"
    driver.save_screenshot(str(tmp_path / "teach-retrained.png"))
