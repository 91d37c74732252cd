"""A real browser uses the /models page: pick two versions, read what changed, see pictures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.app import create_app
from tests.service.test_browser import serving, wait_visible

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("chromium"),
]  # one chromium per worker: keep its tests on one


def test_compare_two_versions_and_see_their_pictures(
    chrome: Callable[..., Any], seed_serving: tuple[Path, str, str], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    home, full, seed_only = seed_serving
    driver = chrome()
    with serving(create_app({"HOME": str(home)})) as url:
        driver.get(url + "/models")
        rows = driver.find_elements(By.CSS_SELECTOR, "#versions tbody tr")
        assert [r.get_attribute("data-version") for r in rows] == [seed_only, full]
        assert "serving" in rows[0].find_element(By.CLASS_NAME, "roles").text
        # Swap the default pair: before = the seed-only model, after = the full one.
        Select(driver.find_element(By.ID, "a")).select_by_value(seed_only)
        Select(driver.find_element(By.ID, "b")).select_by_value(full)
        driver.find_element(By.ID, "compare").click()
        diff = wait_visible(driver, "diff")
        assert (diff.get_attribute("data-a"), diff.get_attribute("data-b")) == (seed_only, full)
        assert driver.find_elements(By.CSS_SELECTOR, "#added li"), "curated phrases came in"
        assert not driver.find_elements(By.CSS_SELECTOR, "#removed li")
        assert len(driver.find_elements(By.CSS_SELECTOR, "#weights tbody tr")) == 20
        moved = driver.find_elements(By.CSS_SELECTOR, "#moved li")
        assert len(moved) == int(driver.find_element(By.ID, "moved-count").text)
        assert all(m.find_elements(By.TAG_NAME, "q") for m in moved)
        pictures = driver.find_elements(By.CSS_SELECTOR, "figure.plot img")
        assert len(pictures) == 2
        loaded = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure.plot img'))"
            ".map(i => i.complete && i.naturalWidth)"
        )
        assert loaded == [1000, 1000], "both pictures loaded under the page's CSP"
        driver.save_screenshot(str(tmp_path / "models.png"))
