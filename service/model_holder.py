"""The serving model of one worker: loaded lazily, re-read when ``models/CURRENT`` moves.

Every request asks :meth:`ModelHolder.get` for the classifier. At most once per
``interval`` seconds that call also looks at ``models/CURRENT`` (one ``stat``, and a read
only when the file changed). A newly named version is loaded through the registry's
checks and self-tested *before* it replaces the serving one, in one reference assignment,
so a request sees either the old model or the new one, never half of each. A version that
fails to load or to pass its self-test is logged and the serving one kept; it is tried again
only when ``CURRENT`` changes again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from classifier.artifacts import CURRENT_FILE, current_version, models_dir
from classifier.errors import RolelensError
from classifier.model import RoleClassifier
from service.errors import ModelUnavailable

log = logging.getLogger("rolelens.model")

Loader = Callable[[Path, str], RoleClassifier]
Stamp = tuple[int, int, int]


def load_and_check(home: Path, version: str) -> RoleClassifier:
    """Load ``version`` from the registry and self-test it; raise if either step fails."""
    classifier = RoleClassifier.from_registry(home, version)
    classifier.smoke_test()
    return classifier


class ModelHolder:
    """Holds the classifier a worker serves and keeps it in step with ``models/CURRENT``.

    Args:
        home: the data directory.
        interval: seconds between looks at ``CURRENT``.
        loader: loads and self-tests a version (injected in tests).
        clock: a monotonic clock in seconds (injected in tests).
    """

    def __init__(
        self,
        home: Path,
        interval: float = 1.0,
        loader: Loader = load_and_check,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home = Path(home)
        self.interval = interval
        self._loader = loader
        self._clock = clock
        self._lock = threading.Lock()
        self._classifier: RoleClassifier | None = None
        self._stamp: Stamp | None = None
        self._next_check = float("-inf")
        self.last_error: str | None = None

    @property
    def current(self) -> RoleClassifier | None:
        """The serving classifier, or None before the first successful load."""
        return self._classifier

    def get(self) -> RoleClassifier:
        """The classifier to use for this request, after a look at ``CURRENT`` if one is due.

        Raises:
            ModelUnavailable: no version could be loaded yet.
        """
        # One thread refreshes; the others go on with the serving model, or wait for the
        # first one when there is nothing to serve yet.
        if self._clock() >= self._next_check and self._lock.acquire(
            blocking=self._classifier is None
        ):
            try:
                if self._clock() >= self._next_check:
                    self._refresh()
            finally:
                self._lock.release()
        classifier = self._classifier
        if classifier is None:
            raise ModelUnavailable(
                f"no model is loaded ({self.last_error}); "
                "train one with `rolelens train` (or `make model`)"
            )
        return classifier

    def _refresh(self) -> None:
        self._next_check = self._clock() + self.interval
        path = models_dir(self.home) / CURRENT_FILE
        try:
            info = os.stat(path)
        except FileNotFoundError:
            self.last_error = f"{path} does not exist"
            return
        stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        serving = self._classifier
        was = serving.version if serving else "none"
        try:
            version = current_version(self.home)
            if serving is not None and serving.version == version:
                return
            started = time.perf_counter()
            fresh = self._loader(self.home, version)
        except Exception as exc:  # whatever went wrong, the serving model stays
            self.last_error = f"the version named in {path} was refused: {exc}"
            log.error(
                "model not swapped, still serving %s: %s",
                was,
                self.last_error,
                exc_info=not isinstance(exc, RolelensError),
            )
            return
        self._classifier = fresh
        self.last_error = None
        log.info(
            "serving model %s (was %s; loaded and self-tested in %.0f ms)",
            fresh.version,
            was,
            (time.perf_counter() - started) * 1000,
        )
