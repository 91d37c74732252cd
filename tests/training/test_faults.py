"""Faults with real processes: kill -9 mid-retrain, mid-add, and two retrains at once."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest

from classifier.artifacts import load_current, load_version, models_dir
from training.registry import list_versions
from training.retrain import open_store, retrain

pytestmark = pytest.mark.slow

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
HOLDER = """
import sys
from pathlib import Path
from training.lock import registry_lock
with registry_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""
CLI = [sys.executable, "-c", "from service.cli import main; main()"]
# The CLI, saying on its way out whether it imported scikit-learn.
CLI_TELLING_IMPORTS = [
    sys.executable,
    "-c",
    "import atexit, sys; atexit.register(lambda: print('sklearn' in sys.modules, file=sys.stderr))"
    "\nfrom service.cli import main; main()",
]


def _start(
    code: str, home: Path, *args: Path, output: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, str(home), *map(str, args)],
        stdout=output,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _registry_is_consistent(home: Path) -> None:
    load_current(home)  # CURRENT names a complete version that passes every check
    for version in list_versions(home):
        load_version(home, version)  # no half-written folder carries a version name


@pytest.fixture(scope="module")
def forks() -> ForkServerContext:
    """Processes forked from a server that imported scikit-learn once: each retrain process
    starts training at once, so every kill lands in the retrain, not in imports."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["training.retrain"])
    return context


def _retrain_process(forks: ForkServerContext, home: Path, fixtures: Path) -> BaseProcess:
    process = forks.Process(
        target=retrain, args=(home,), kwargs={"force": True, "fixtures": fixtures}
    )
    process.start()
    return process


@pytest.mark.soak
def test_kill_9_during_retrain_never_breaks_the_registry(
    quick_home: Path, quick_fixtures: Path, soak: bool, forks: ForkServerContext
) -> None:
    warm = forks.Process(target=int)  # starts the fork server, which imports scikit-learn
    warm.start()
    warm.join()
    started = time.monotonic()
    whole = _retrain_process(forks, quick_home, quick_fixtures)
    whole.join(timeout=120)
    assert whole.exitcode == 0
    full = time.monotonic() - started
    rng = random.Random(1234)
    for attempt in range(20 if soak else 2):
        # Half the kills land anywhere; half near the end, where files are written and
        # CURRENT moves, so the short write window is really hit.
        delay = rng.uniform(0.05, full) if attempt % 2 else rng.uniform(0.85 * full, 1.05 * full)
        process = _retrain_process(forks, quick_home, quick_fixtures)
        time.sleep(delay)
        process.kill()  # SIGKILL
        process.join(timeout=30)
        _registry_is_consistent(quick_home)
    assert retrain(quick_home, force=True, fixtures=quick_fixtures).promoted, (
        "a later retrain succeeds"
    )
    _registry_is_consistent(quick_home)
    assert not [p for p in models_dir(quick_home).iterdir() if p.name.startswith(".staging")]


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


def test_a_retrain_while_the_lock_is_held_is_told_and_one_with_wait_waits(
    quick_home: Path, quick_fixtures: Path
) -> None:
    env = {
        **os.environ,
        "ROLELENS_HOME": str(quick_home),
        "ROLELENS_FIXTURES": str(quick_fixtures),
    }
    before = list_versions(quick_home)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(quick_home)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        waiting = subprocess.Popen(
            [*CLI, "train", "--force", "--wait"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        told = subprocess.run(
            [*CLI_TELLING_IMPORTS, "train", "--force"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert told.returncode == 1, told.stderr
        assert "is running" in told.stderr and f"pid {holder.pid}" in told.stderr
        assert told.stderr.endswith("False\n"), "told before a second of importing scikit-learn"
        assert waiting.poll() is None, "--wait returned while the lock was held"
        assert list_versions(quick_home) == before
    finally:
        holder.stdin.close()  # the holder returns, and the kernel drops its lock
        holder.wait(timeout=30)
        holder.stdout.close()
    _, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    assert len(list_versions(quick_home)) == len(before) + 1
    _registry_is_consistent(quick_home)


@pytest.mark.soak
def test_two_retrains_with_wait_both_finish(home: Path, soak: bool) -> None:
    if not soak:
        pytest.skip("two real retrains racing: make soak (the lock test above covers --wait)")
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    count = len(list_versions(home))
    processes = [
        subprocess.Popen(
            [*CLI, "train", "--force", "--wait"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    assert [p.wait(timeout=180) for p in processes] == [0, 0]
    assert len(list_versions(home)) == count + 2
    _registry_is_consistent(home)
