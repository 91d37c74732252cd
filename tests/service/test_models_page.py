"""The /models page: versions, pictures, and what changed between two versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from classifier.artifacts import read_card
from service.app import create_app
from training import plots
from training.errors import TrainingError
from training.retrain import retrain


@pytest.fixture
def two(seed_serving: tuple[Path, str, str]) -> tuple[Path, str, str]:
    """The default model, then a seed-only one serving."""
    return seed_serving


def _app(home: Path) -> Flask:
    return create_app({"TESTING": True, "HOME": str(home)})


def test_the_page_compares_the_previous_and_the_serving_version(two: tuple[Path, str, str]) -> None:
    home, before, after = two
    client = _app(home).test_client()
    page = client.get("/models").get_data(as_text=True)
    assert f'data-a="{before}" data-b="{after}"' in page, "previous vs serving by default"
    assert re.search(r"Phrases removed \(\d+\)", page) and "Phrases added (0)" in page
    assert 'id="moved-count"' in page and "moved by <q>" in page
    for name in (before, after):
        assert f'src="/models/{name}/validation.png"' in page
        with client.get(f"/models/{name}/validation.png") as picture:
            assert picture.status_code == 200 and picture.mimetype == "image/png"
            assert picture.data.startswith(b"\x89PNG")


def test_two_versions_can_be_picked(two: tuple[Path, str, str]) -> None:
    home, before, after = two
    client = _app(home).test_client()
    page = client.get(f"/models?a={after}&b={before}").get_data(as_text=True)
    assert f'data-a="{after}" data-b="{before}"' in page
    assert "Phrases removed (0)" in page
    missing = client.get(f"/models?a={after}&b=20990101T000000Z-000099").get_data(as_text=True)
    assert "no model version" in missing and 'role="alert"' in missing


@pytest.mark.parametrize(
    "path",
    [
        "/models/..%2F..%2Fetc/validation.png",  # no way out of the registry
        "/models/20990101T000000Z-000099/validation.png",  # no such version
    ],
)
def test_pictures_of_unknown_versions_are_404(trained_home: Path, path: str) -> None:
    assert _app(trained_home).test_client().get(path).status_code == 404


def test_without_matplotlib_the_page_says_so(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_matplotlib(*_: object) -> None:
        raise TrainingError("--plot needs matplotlib")

    monkeypatch.setattr(plots, "plot", no_matplotlib)
    version = retrain(home, force=True).version
    assert read_card(home, version)["plots"]["validation"] is None
    page = _app(home).test_client().get("/models").get_data(as_text=True)
    assert f"No picture for {version}: matplotlib was not installed" in page
