"""Retrain jobs: their states, one at a time, and a runner that dies is reported failed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from training import jobs
from training.errors import PromotionRefused, RetrainBusy, TrainingError
from training.retrain import RetrainResult

RESULT = RetrainResult("v2", True, "v1", {"macro_f1": 0.9}, {"macro_f1": 0.8})


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process that stands in for a runner."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def _queued(home: Path, runner: subprocess.Popen[bytes]) -> jobs.Job:
    return jobs.start(home, ["seed", "curated"], spawn=lambda _home, _id: runner.pid)


def test_a_started_job_is_queued_and_a_second_one_is_refused(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    job = _queued(tmp_path, sleeper)
    assert job.status == "queued" and jobs.get(tmp_path, job.id).packs == ("seed", "curated")
    with pytest.raises(jobs.JobBusy) as busy:
        _queued(tmp_path, sleeper)
    assert busy.value.job_id == job.id


def test_a_job_whose_runner_died_is_failed_and_frees_the_way(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    job = _queued(tmp_path, sleeper)
    sleeper.kill()
    sleeper.wait()
    dead = jobs.get(tmp_path, job.id)
    assert dead.status == "failed" and "stopped without a result" in (dead.detail or "")
    other = subprocess.Popen(["sleep", "60"])
    try:
        assert _queued(tmp_path, other).id != job.id
    finally:
        other.kill()
        other.wait()


def _fails(exc: BaseException) -> Any:
    def retrain(*_: Any, **__: Any) -> RetrainResult:
        raise exc

    return retrain


@pytest.mark.parametrize(
    ("retrain_fn", "status", "detail"),
    [
        (lambda *_, **__: RESULT, "promoted", None),  # the new version serves
        (_fails(PromotionRefused("scored 0.5, below the serving")), "refused", "below the serving"),
        (_fails(TrainingError("need at least 2 phrases")), "failed", "need at least 2"),
        (_fails(RetrainBusy("locked")), "failed", "try again"),
        (_fails(OSError(28, "No space left on device")), "failed", "No space left"),
    ],
)
def test_the_runner_writes_how_the_retrain_ended(
    tmp_path: Path,
    sleeper: subprocess.Popen[bytes],
    retrain_fn: Any,
    status: str,
    detail: str | None,
) -> None:
    job = _queued(tmp_path, sleeper)
    ended = jobs.run(tmp_path, job.id, retrain_fn)
    assert ended == jobs.get(tmp_path, job.id)  # what it returns is what it wrote
    assert ended.status == status and ended.finished_at
    if detail is None:
        assert ended.result == RESULT.to_dict() and ended.detail is None
    else:
        assert detail in (ended.detail or "") and ended.result is None


@pytest.mark.parametrize("job_id", ["0" * 32, "../x", ""])
def test_an_unknown_job_is_not_found(tmp_path: Path, job_id: str) -> None:
    with pytest.raises(jobs.JobNotFound):
        jobs.get(tmp_path, job_id)
