"""Shared fixtures: a clean environment, and one small model trained from fixtures/."""

from __future__ import annotations

import copy
import csv
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from classifier.labels import TrainingPhrase
from classifier.model import RoleClassifier
from training import jobs
from training.registry import list_versions

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak",
        action="store_true",
        help="run the fault and load loops at full length (make soak), not the quick default",
    )


def _retrain(home: Path, **options: Any) -> None:
    """``training.retrain.retrain``, imported when a fixture first trains: pytest's main
    process loads this file too, and under xdist it never trains (scikit-learn is 1.5 s)."""
    from training.retrain import retrain

    retrain(home, **options)


def forked_runner(home: Path, job_id: str) -> int:
    """A retrain job's runner as a fork of this test process: the same ``jobs.main``, its
    output in the job's log, its own session; reaped when it ends.

    ``jobs.spawn_runner`` starts ``python -m training.jobs``, which spends two seconds
    importing scikit-learn and matplotlib before it trains; the test process has them.
    """
    log = os.open(jobs.jobs_dir(home) / f"{job_id}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    pid = os.fork()
    if pid == 0:  # the runner: never back into pytest
        code = 1
        try:
            os.setsid()
            os.dup2(log, 1)
            os.dup2(log, 2)
            code = jobs.main([str(home), job_id])
        finally:
            os._exit(code)
    os.close(log)
    threading.Thread(target=os.waitpid, args=(pid, 0), daemon=True).start()
    return pid


@pytest.fixture(autouse=True)
def runners_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retrain jobs of the apps that tests run in their own process get forked runners.

    Servers the tests start as processes (``rolelens serve``) spawn real ones, and
    tests/service/test_retrain_job.py and the README's HTTP test go through them."""
    monkeypatch.setattr(jobs, "spawn_runner", forked_runner)


# What ``retrain`` trained and drew in this test process, by their inputs (see below).
_TRAINED: dict[str, Any] = {}
_DRAWN: dict[str, bytes] = {}


@pytest.fixture(autouse=True)
def trainings_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a test, ``retrain`` trains on a given set of inputs once per test process, and
    draws a given validation picture once.

    Tests of the registry (versions, their order, pruning, rollback, who asked, promotion
    under load) retrain on the same quick packs over and over to make versions: in one run
    of ``make test``, 27 of the 34 retrains that tests ran in their own process reused a
    model. Training is deterministic for the same phrases, parameters and neutral pack
    (``test_training_is_repeatable`` checks it, bit for bit), so the second time the same
    inputs come, ``retrain`` gets a deep copy of the model it trained the first time; the
    same model gives the same validation answers, and the picture of the same answers is the
    PNG drawn the first time. The rest goes on as always: the gate, writing, verifying and
    promoting the version. Other inputs train and draw for real, and so do processes started
    afresh (``rolelens serve``'s retrain jobs, the kill -9 loop's forks). A test that
    replaces ``training.plots.plot`` replaces this.
    """
    import training.plots
    import training.retrain

    train, plot = training.retrain.train, training.plots.plot

    def remembered(
        phrases: Sequence[TrainingPhrase], params: Any = None, neutral: Sequence[str] = ()
    ) -> Any:
        key = repr((tuple(phrases), params, tuple(neutral)))
        if key not in _TRAINED:
            _TRAINED[key] = train(phrases, params, neutral)
        return copy.deepcopy(_TRAINED[key])

    def drawn(path: Path, labels: Sequence[str], p_ml: Sequence[float]) -> None:
        key = repr((tuple(labels), tuple(p_ml)))
        if key not in _DRAWN:
            plot(path, labels, p_ml)
            _DRAWN[key] = path.read_bytes()
        path.write_bytes(_DRAWN[key])

    monkeypatch.setattr(training.retrain, "train", remembered)
    monkeypatch.setattr(training.plots, "plot", drawn)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under ``--dist loadgroup`` (``make test``), fail a test whose ``xdist_group`` mark
    xdist lost: it then spreads a group's tests, and each worker builds the group's costly
    fixture (a chromium, a Dask cluster) again, silently (pytest 9.2 with xdist 3.8 does)."""
    lost = "@" not in item.nodeid and item.get_closest_marker("xdist_group")
    if lost and getattr(item.config.option, "loadgroup", False):  # set in xdist's workers
        pytest.fail(
            "--dist loadgroup ignored this test's xdist_group mark: "
            "use the pytest and pytest-xdist versions pyproject.toml names",
            pytrace=False,
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
    _retrain(home)
    return home


@pytest.fixture(scope="session")
def quick_fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``fixtures/`` with a quarter of its rows: every fourth phrase and neutral sentence, and
    every fourth validation posting of each label.

    For tests of what retraining does to the registry (versions, their order, pruning,
    rollback, who asked), not of how good the model is: a retrain on it takes about half
    the CPU of one on the whole packs.
    """
    root = tmp_path_factory.mktemp("quick") / "fixtures"
    shutil.copytree(REPO / "fixtures", root)
    for name in ("seed", "curated", "neutral"):
        _keep_every_fourth(root / "phrases" / f"{name}.csv")
    _keep_every_fourth(root / "postings" / "validation.csv")
    return root


def _keep_every_fourth(path: Path) -> None:
    """Rewrite a CSV with every fourth row of each label (of all rows, without labels)."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    column = header.index("label") if "label" in header else None
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        label = "" if column is None else row[column]
        seen[label] = seen.get(label, -1) + 1
        if seen[label] % 4 == 0:
            kept.append(row)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *kept])


@pytest.fixture(scope="session")
def quick_trained_home(tmp_path_factory: pytest.TempPathFactory, quick_fixtures: Path) -> Path:
    """A data directory holding a model trained on :func:`quick_fixtures`."""
    home = tmp_path_factory.mktemp("quick-home")
    _retrain(home, fixtures=quick_fixtures)
    return home


@pytest.fixture
def quick_home(quick_trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`quick_trained_home`: retrain it with ``fixtures=quick_fixtures``."""
    copy = tmp_path / "quick-home"
    shutil.copytree(quick_trained_home, copy)
    return copy


@pytest.fixture
def home(trained_home: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`trained_home`, free to retrain, roll back or damage."""
    copy = tmp_path / "home"
    shutil.copytree(trained_home, copy)
    return copy


@pytest.fixture(scope="session")
def seed_serving_home(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """:func:`trained_home` plus a seed-only version forced to serve: the default model is
    now its previous version (for tests of comparing, shadowing and listing two versions)."""
    home = tmp_path_factory.mktemp("seed-serving") / "home"
    shutil.copytree(trained_home, home)
    _retrain(home, packs=("seed",), force=True)
    return home


@pytest.fixture
def seed_serving(seed_serving_home: Path, tmp_path: Path) -> tuple[Path, str, str]:
    """A private copy of :func:`seed_serving_home`: ``(home, default version, seed-only one)``."""
    copy = tmp_path / "seed-serving"
    shutil.copytree(seed_serving_home, copy)
    full, seed_only = list_versions(copy)
    return copy, full, seed_only


@pytest.fixture(scope="session")
def classifier(trained_home: Path) -> RoleClassifier:
    """The serving classifier of :func:`trained_home`."""
    return RoleClassifier.from_registry(trained_home)


@pytest.fixture(scope="session")
def pipeline(classifier: RoleClassifier) -> Pipeline:
    """The scikit-learn pipeline rebuilt from the serving classifier's arrays."""
    from training.pipeline import rebuild_pipeline

    return rebuild_pipeline(classifier.model)
