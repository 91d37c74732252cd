"""Shared fixtures: a clean environment, and one small model trained from fixtures/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sklearn.pipeline import Pipeline

from classifier.model import RoleClassifier
from training.pipeline import rebuild_pipeline
from training.retrain import retrain

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        help="run the fault and load loops at full length (make soak), not the quick default",
    )


@pytest.fixture(scope="session")
def soak(request: pytest.FixtureRequest) -> bool:
    """True under ``--soak``: loops marked ``soak`` run at full length (20+ kills, long loads)."""
    return bool(request.config.getoption("--soak"))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's ROLELENS_* settings or a metrics folder of theirs."""
    for name in list(os.environ):
        if name.startswith("ROLELENS_") or name == "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the default model (seed + curated), trained once."""
    home = tmp_path_factory.mktemp("home")
    retrain(home)
    return home


@pytest.fixture
def home(trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`trained_home`, free to retrain, roll back or damage."""
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    return copy


@pytest.fixture(scope="session")
def classifier(trained_home: Path) -> RoleClassifier:
    """The serving classifier of :func:`trained_home`."""
    return RoleClassifier.from_registry(trained_home)


@pytest.fixture(scope="session")
def pipeline(classifier: RoleClassifier) -> Pipeline:
    """The scikit-learn pipeline rebuilt from the serving classifier's arrays."""
    return rebuild_pipeline(classifier.model)
