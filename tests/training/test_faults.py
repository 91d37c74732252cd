"""Faults with real processes: kill -9 mid-retrain, mid-add, and two retrains at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from classifier.artifacts import load_current, load_version, models_dir
from training.registry import list_versions
from training.retrain import open_store, retrain

pytestmark = pytest.mark.slow

RETRAIN = (
    "import sys; from pathlib import Path; from training.retrain import retrain; "
    "retrain(Path(sys.argv[1]), force=True)"
)
ADDER = """
import sys
from pathlib import Path
from training.store import PhraseStore
store = PhraseStore(Path(sys.argv[1]))
for i in range(1000):
    result = store.add(f"synthetic skill phrase number {i}", "data_science", "tester")
    assert result.status == "added", result
    print(i, flush=True)
"""


def _start(code: str, home: Path, output: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, str(home)], stdout=output, stderr=subprocess.DEVNULL, text=True
    )


def _registry_is_consistent(home: Path) -> None:
    load_current(home)  # CURRENT names a complete version that passes every check
    for version in list_versions(home):
        load_version(home, version)  # no half-written folder carries a version name


def test_kill_9_during_retrain_never_breaks_the_registry(home: Path) -> None:
    started = time.monotonic()
    assert _start(RETRAIN, home).wait(timeout=120) == 0
    full = time.monotonic() - started
    rng = random.Random(1234)
    for attempt in range(20):
        # Half the kills land anywhere; half near the end, where files are written and
        # CURRENT moves, so the short write window is really hit.
        delay = rng.uniform(0.2, full) if attempt % 2 else rng.uniform(0.85 * full, 1.05 * full)
        process = _start(RETRAIN, home)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        _registry_is_consistent(home)
    assert retrain(home, force=True).promoted, "a later retrain succeeds"
    _registry_is_consistent(home)
    assert not [p for p in models_dir(home).iterdir() if p.name.startswith(".staging")]


def test_kill_9_while_adding_phrases_loses_no_acknowledged_phrase(tmp_path: Path) -> None:
    acknowledged = []
    stop_after = random.Random(99).randint(150, 400)
    with _start(ADDER, tmp_path, output=subprocess.PIPE) as process:
        assert process.stdout is not None
        for line in process.stdout:
            acknowledged.append(int(line))
            if len(acknowledged) >= stop_after:
                process.send_signal(signal.SIGKILL)
                break
        acknowledged += [int(line) for line in process.stdout]  # printed before the kill
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    stored = {p.text for p in open_store(tmp_path).list_phrases()}
    missing = [i for i in acknowledged if f"synthetic skill phrase number {i}" not in stored]
    assert not missing
    assert len(stored) >= len(acknowledged)


def test_two_retrains_at_once_one_runs_the_other_is_told(home: Path) -> None:
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    rolelens = [sys.executable, "-c", "from service.cli import main; main()"]
    processes = [
        subprocess.Popen(
            [*rolelens, "train", "--force"],
            env=env,
            text=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outcomes = sorted(
        (p.returncode, err) for p in processes for _, err in [p.communicate(timeout=120)]
    )
    codes = [code for code, _ in outcomes]
    assert codes in ([0, 0], [0, 1])
    if codes == [0, 1]:
        assert "is running" in outcomes[1][1]
    _registry_is_consistent(home)


def test_two_retrains_with_wait_both_finish(home: Path) -> None:
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    rolelens = [sys.executable, "-c", "from service.cli import main; main()"]
    count = len(list_versions(home))
    processes = [
        subprocess.Popen(
            [*rolelens, "train", "--force", "--wait"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    assert [p.wait(timeout=180) for p in processes] == [0, 0]
    assert len(list_versions(home)) == count + 2
    _registry_is_consistent(home)
