"""Retrain jobs: a retrain run in a process of its own, its state kept in a file.

``POST /api/v1/retrain`` must not train inside a web worker (a worker has a time limit, and
one worker of several cannot track what another started), so :func:`start` writes
``jobs/<id>.json`` under the data directory and starts ``python -m training.jobs HOME ID``,
a new session that outlives the worker; :func:`run` is that process: it marks the job
``running``, calls :func:`training.retrain.retrain`, and writes how it ended::

    queued ──> running ──> promoted     the new version serves
                     ├──> refused      it scored too low; the serving version stays
                     └──> failed       it could not be trained; ``detail`` says what to fix

Any process can read a job (:func:`get`). A job still ``queued`` or ``running`` whose runner
process is gone (killed, out of memory) is written down as ``failed`` then. One job runs at a
time per data directory: :func:`start` raises :class:`JobBusy` naming the active one.
``jobs/.lock`` (``flock``) serialises starting jobs and writing job files.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from training.errors import JobBusy, JobNotFound, PromotionRefused, RetrainBusy, TrainingError

if TYPE_CHECKING:  # a web worker imports this module to start and read jobs, never to train:
    # training.retrain loads scikit-learn, seconds of CPU that would stall a gevent worker
    from training.retrain import RetrainResult

log = logging.getLogger("rolelens.jobs")

STATUSES = ("queued", "running", "promoted", "refused", "failed")
ACTIVE = frozenset({"queued", "running"})
JOB_ID = re.compile(r"[0-9a-f]{32}")
QUEUED_GRACE = 60.0  # seconds a job may stay queued with no runner process seen


@dataclass(frozen=True)
class Job:
    """One retrain job as its file holds it."""

    id: str
    status: str
    created_at: str
    packs: tuple[str, ...]
    force: bool
    keep: int | None = None
    started_by: dict[str, str] | None = None
    fixtures: str | None = None
    pid: int | None = None
    pid_start: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    detail: str | None = None
    result: dict[str, Any] | None = None
    counted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The job for an API answer (the runner's process details left out)."""
        hidden = ("pid", "pid_start", "counted", "fixtures")
        out = {k: v for k, v in asdict(self).items() if k not in hidden}
        out["packs"] = list(self.packs)
        return out


def jobs_dir(home: Path) -> Path:
    """``<home>/jobs``: one JSON file per job, and the lock file."""
    return Path(home) / "jobs"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@contextmanager
def _locked(home: Path) -> Iterator[None]:
    folder = jobs_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _path(home: Path, job_id: str) -> Path:
    if not JOB_ID.fullmatch(job_id):
        raise JobNotFound(f"no retrain job {job_id!r}: job ids are 32 hexadecimal digits")
    return jobs_dir(home) / f"{job_id}.json"


def _read(home: Path, job_id: str) -> Job:
    try:
        raw = json.loads(_path(home, job_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JobNotFound(f"no retrain job {job_id} in {jobs_dir(home)}") from None
    return Job(**{**raw, "packs": tuple(raw["packs"])})


def _write(home: Path, job: Job) -> None:
    path = _path(home, job.id)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(job.to_dict() | _private(job)), encoding="utf-8")
    os.replace(temporary, path)


def _private(job: Job) -> dict[str, Any]:
    return {
        "pid": job.pid,
        "pid_start": job.pid_start,
        "counted": job.counted,
        "fixtures": job.fixtures,
    }


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, Linux), or None if unknown."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(job: Job) -> bool:
    if job.pid is None:  # not started yet: alive while young
        created = datetime.fromisoformat(job.created_at.replace("Z", "+00:00"))
        return (datetime.now(UTC) - created).total_seconds() < QUEUED_GRACE
    if Path("/proc/self/stat").exists():  # Linux: a zombie or a reused pid is no runner
        try:
            fields = Path(f"/proc/{job.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return fields[0] != "Z" and (job.pid_start is None or fields[19] == job.pid_start)
    try:
        os.kill(job.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _checked(home: Path, job: Job) -> Job:
    """``job``, written down as failed if it is active but its runner is gone."""
    if job.status in ACTIVE and not _alive(job):
        job = replace(
            job,
            status="failed",
            finished_at=_now(),
            detail="the retrain process stopped without a result (killed, or out of memory?); "
            f"see {jobs_dir(home) / (job.id + '.log')} and start the retrain again",
        )
        _write(home, job)
    return job


def get(home: Path, job_id: str) -> Job:
    """The job named ``job_id``, its runner checked.

    Raises:
        JobNotFound: no such job.
    """
    with _locked(home):
        return _checked(home, _read(home, job_id))


def mark_counted(home: Path, job_id: str) -> Job | None:
    """The finished job, the first time this is asked for it; else None (to count it once)."""
    with _locked(home):
        job = _checked(home, _read(home, job_id))
        if job.status in ACTIVE or job.counted:
            return None
        _write(home, replace(job, counted=True))
        return job


Spawn = Callable[[Path, str], int]


def spawn_runner(home: Path, job_id: str) -> int:
    """Start ``python -m training.jobs HOME ID`` in a session of its own; its pid."""
    log_path = jobs_dir(home) / f"{job_id}.log"
    with open(log_path, "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "training.jobs", str(Path(home).resolve()), job_id],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _CHILDREN.append(process)
    return process.pid


_CHILDREN: list[subprocess.Popen[bytes]] = []  # reaped as new jobs start (no zombies kept)


def start(
    home: Path,
    packs: Sequence[str],
    force: bool = False,
    spawn: Spawn | None = None,
    *,
    keep: int | None = None,
    started_by: dict[str, str] | None = None,
    fixtures: Path | None = None,
) -> Job:
    """Queue a retrain job and start its runner process (with ``spawn``, by default
    :func:`spawn_runner`).

    ``keep``, ``started_by`` and ``fixtures`` are handed to :func:`training.retrain.retrain`.

    Raises:
        JobBusy: a job is queued or running already.
        OSError: the job file could not be written (a full disk, for one).
    """
    _CHILDREN[:] = [child for child in _CHILDREN if child.poll() is None]
    with _locked(home):
        for path in sorted(jobs_dir(home).glob("*.json")):
            job = _checked(home, _read(home, path.stem))
            if job.status in ACTIVE:
                raise JobBusy(job.id)
        job = Job(
            uuid.uuid4().hex,
            "queued",
            _now(),
            tuple(packs),
            force,
            keep=keep,
            started_by=started_by,
            fixtures=None if fixtures is None else str(fixtures),
        )
        _write(home, job)
        pid = (spawn or spawn_runner)(home, job.id)
        job = replace(job, pid=pid, pid_start=_process_start(pid))
        _write(home, job)
    return job


def _finish(home: Path, job_id: str, **changes: Any) -> Job:
    with _locked(home):
        job = replace(_read(home, job_id), finished_at=_now(), **changes)
        _write(home, job)
        return job


def run(home: Path, job_id: str, retrain_fn: Callable[..., RetrainResult] | None = None) -> Job:
    """Run the retrain of job ``job_id`` in this process and write how it ended.

    ``retrain_fn`` stands in for :func:`training.retrain.retrain` (tests).
    """
    if retrain_fn is None:
        from training.retrain import retrain

        retrain_fn = retrain
    with _locked(home):
        pid = os.getpid()
        job = replace(
            _read(home, job_id),
            status="running",
            pid=pid,
            pid_start=_process_start(pid),
            started_at=_now(),
        )
        _write(home, job)
    try:
        result = retrain_fn(
            home,
            job.packs,
            force=job.force,
            keep=job.keep,
            started_by=job.started_by,
            fixtures=None if job.fixtures is None else Path(job.fixtures),
        )
    except PromotionRefused as exc:
        return _finish(home, job_id, status="refused", detail=str(exc))
    except RetrainBusy:
        detail = "another retrain or rollback was running (from the command line?); try again"
        return _finish(home, job_id, status="failed", detail=detail)
    except TrainingError as exc:
        return _finish(home, job_id, status="failed", detail=str(exc))
    except OSError as exc:  # a full disk, for one: the data directory needs room
        detail = f"{exc} (data directory {home}); the serving version stays"
        return _finish(home, job_id, status="failed", detail=detail)
    return _finish(home, job_id, status="promoted", result=result.to_dict())


def main(argv: Sequence[str] = sys.argv[1:]) -> int:
    """``python -m training.jobs HOME ID``: the runner process of one job."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    home, job_id = Path(argv[0]), argv[1]
    started = time.monotonic()
    try:
        job = run(home, job_id)
    except Exception as exc:  # a bug: the job says so, the traceback goes to the job's log
        log.exception("retrain job %s failed", job_id)
        _finish(home, job_id, status="failed", detail=f"the retrain failed: {exc!r}")
        return 1
    log.info("retrain job %s %s in %.1f s", job_id, job.status, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
