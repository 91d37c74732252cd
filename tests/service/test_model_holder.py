"""Hot reload: every worker serves a promoted version within a second, and never a bad one."""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from pathlib import Path

import pytest

from classifier.artifacts import CARD_FILE, MODEL_FILE, current_version, models_dir
from classifier.model import RoleClassifier
from service.app import create_app
from service.model_holder import ModelHolder, ModelUnavailable
from training.errors import TrainingError
from training.registry import promote


def clone_version(home: Path, new: str, source_version: str | None = None) -> str:
    """Copy a version (default: the serving one) under a new name, with its own card."""
    source = models_dir(home) / (source_version or current_version(home))
    target = models_dir(home) / new
    shutil.copytree(source, target)
    card = json.loads((target / CARD_FILE).read_text())
    card["version"] = new
    (target / CARD_FILE).write_text(json.dumps(card))
    return new


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_promoted_version_serves_over_http_at_the_next_look(home: Path) -> None:
    app = create_app({"HOME": str(home)})
    assert app.extensions["rolelens"].interval == 1.0  # by default: within a second
    clock = FakeClock()
    app.extensions["rolelens"] = ModelHolder(home, interval=1.0, clock=clock)
    client = app.test_client()

    def served() -> str:
        answer = client.post("/api/v1/classify", json={"text": "deploy models"}).get_json()
        assert client.get("/api/v1/model").get_json()["version"] == answer["model_version"]
        return str(answer["model_version"])

    before = served()
    promote(home, clone_version(home, "v-promoted"))
    clock.now = 0.9
    assert served() == before  # not looked at again yet
    clock.now = 1.0
    assert served() == "v-promoted"


def test_current_is_looked_at_no_more_than_once_per_interval(home: Path) -> None:
    clock = FakeClock()
    holder = ModelHolder(home, interval=1.0, clock=clock)
    first = holder.get().version
    promote(home, clone_version(home, "v-next"))
    clock.now = 0.5
    assert holder.get().version == first  # too soon to look again
    clock.now = 1.0
    assert holder.get().version == "v-next"


def test_a_corrupt_new_version_is_refused_and_the_old_one_keeps_serving(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    holder = ModelHolder(home, interval=1.0, clock=clock)
    serving = holder.get().version
    bad = clone_version(home, "v-corrupt")
    with open(models_dir(home) / bad / MODEL_FILE, "r+b") as handle:
        handle.seek(100)
        handle.write(b"garbage")
    promote(home, bad)
    clock.now = 1.0
    with caplog.at_level(logging.ERROR, logger="rolelens.model"):
        assert holder.get().version == serving
    assert "v-corrupt" in caplog.text and "does not match its card" in caplog.text
    assert holder.last_error is not None
    # Fixed by promoting a good version: served at the next look.
    promote(home, clone_version(home, "v-good", serving))
    clock.now = 2.0
    assert holder.get().version == "v-good"
    assert holder.last_error is None


def test_a_version_failing_its_self_test_is_not_swapped_in(home: Path) -> None:
    clock = FakeClock()
    calls: list[str] = []

    def loader(where: Path, version: str) -> RoleClassifier:
        calls.append(version)
        if version == "v-fails":
            raise TrainingError("smoke test failed for version v-fails")
        return RoleClassifier.from_registry(where, version)

    holder = ModelHolder(home, interval=1.0, loader=loader, clock=clock)
    serving = holder.get().version
    promote(home, clone_version(home, "v-fails"))
    for second in (1.0, 2.0, 3.0):
        clock.now = second
        assert holder.get().version == serving
    assert calls.count("v-fails") == 1, "a refused version is not retried until CURRENT moves"


def test_without_a_model_get_says_how_to_train_and_a_later_model_is_picked_up(
    tmp_path: Path, trained_home: Path
) -> None:
    clock = FakeClock()
    holder = ModelHolder(tmp_path, interval=1.0, clock=clock)
    with pytest.raises(ModelUnavailable, match="rolelens train"):
        holder.get()
    shutil.copytree(models_dir(trained_home), models_dir(tmp_path))
    clock.now = 1.0
    assert holder.get().version == current_version(trained_home)


def test_requests_racing_a_swap_always_get_a_whole_model(home: Path) -> None:
    first = current_version(home)
    second = clone_version(home, "v-second")
    holder = ModelHolder(home, interval=0.0)  # look at CURRENT on every call
    holder.get()
    seen: set[str] = set()
    failures: list[Exception] = []
    stop = threading.Event()

    def request() -> None:
        while not stop.is_set():
            try:
                classifier = holder.get()
                classifier.classify("deploy models")
                seen.add(classifier.version)
            except Exception as exc:  # any failure fails the test
                failures.append(exc)
                return

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for version in (second, first, second):
        promote(home, version)
        time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert not failures
    assert seen == {first, second}
    assert holder.get().version == second
