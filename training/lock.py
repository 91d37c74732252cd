"""One registry writer at a time, across processes: an exclusive ``flock`` on a lock file.

The kernel drops the lock when its holder dies, even by ``kill -9``, so a crashed retrain
never blocks the next one. The file holds the holder's pid and start time for the message
a second caller gets.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from classifier.artifacts import models_dir
from training.errors import RetrainBusy

LOCK_FILE = ".lock"


@contextmanager
def registry_lock(home: Path, wait: bool = False) -> Iterator[None]:
    """Hold the registry's write lock for the ``with`` block.

    Args:
        home: the data directory.
        wait: block until the lock is free instead of failing at once.

    Raises:
        RetrainBusy: another process holds the lock and ``wait`` is false.
    """
    root = models_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise RetrainBusy(
                f"a retrain or rollback is running ({holder}); try again when it finishes, "
                "or pass --wait"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {datetime.now(UTC):%H:%M:%S} UTC".encode(), 0)
        yield
    finally:
        os.close(fd)
