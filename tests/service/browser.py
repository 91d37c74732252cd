"""Headless chromium for the page's tests (Debian's chromium + chromium-driver, via Selenium).

Starting a browser costs more than most browser tests, so each test process starts one
(:func:`tests.service.conftest.chrome`) and every test gets it back on a blank page.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # One renderer process for the tests' one tab, whatever origin (each test's server has
    # its own port): the three browser files ran 17.5-18.2 s with these, 19.3-19.4 s without.
    "--disable-extensions",
    "--disable-site-isolation-trials",
    "--renderer-process-limit=1",
)


def _browser_paths() -> tuple[str, str]:
    """chromium and chromedriver, or skip (fail under CI=true, where they must be present)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    reason = (
        "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def start_chrome(profile: Path) -> Any:
    """A headless chromium on a fresh profile in ``profile``, keeping the page's console
    lines; skips (fails under CI=true) when chromium is absent."""
    browser, driver_path = _browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


def fresh(driver: Any, size: str = "1280,1600") -> Any:
    """``driver`` as a new test wants it: a blank page in a ``size`` ("width,height")
    window, no device emulation, no alert open, and an empty console log."""
    from selenium.common.exceptions import NoAlertPresentException

    with contextlib.suppress(NoAlertPresentException):
        driver.switch_to.alert.dismiss()
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get("about:blank")
    width, height = (int(n) for n in size.split(","))
    driver.set_window_size(width, height)
    driver.get_log("browser")  # reading the log empties it
    return driver


def waiting(driver: Any, seconds: float) -> Any:
    """A ``WebDriverWait`` that looks every 50 ms: with Selenium's default of 0.5 s, a wait
    could go on for up to half a second after the page was ready."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05)
