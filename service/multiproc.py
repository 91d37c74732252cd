"""The folder prometheus-client's multiprocess mode shares between gunicorn workers.

With several worker processes, each keeps its counters in memory-mapped files under
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up the files of every worker. The library
decides on multiprocess mode when it is *imported*, so the variable must be set before the
app (and with it prometheus-client) is loaded: ``rolelens serve`` and ``service.gunicorn_conf``
call :func:`prepare` first. This module itself must not import prometheus-client.

When the variable is unset, a fresh private folder is made (mode 0700) and marked as ours,
so :func:`remove_if_private` deletes it when gunicorn exits; a folder the operator named is
used as given and never deleted (empty it between runs, or old counts add up).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
MARKER = ".rolelens-private"


class MetricsDirError(RuntimeError):
    """``PROMETHEUS_MULTIPROC_DIR`` names something that cannot hold the metric files."""


def prepare(environ: MutableMapping[str, str] = os.environ) -> Path:
    """Return the multiprocess folder, making a private one and setting ``ENV`` if unset.

    Args:
        environ: the environment to read and update (the process's own by default).

    Returns:
        The folder, which exists afterwards.

    Raises:
        MetricsDirError: the variable names a file, or a folder that cannot be created.
    """
    given = environ.get(ENV)
    if not given:
        folder = Path(tempfile.mkdtemp(prefix="rolelens-metrics-"))
        (folder / MARKER).touch()
        environ[ENV] = str(folder)
        return folder
    folder = Path(given)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MetricsDirError(
            f"{ENV}={given} cannot be used for the metric files ({exc.strerror}); point it "
            "at a writable, empty folder, or unset it to let rolelens make a private one"
        ) from None
    return folder


def remove_if_private(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Delete the folder named by ``ENV`` if :func:`prepare` made it; True if deleted."""
    given = environ.get(ENV)
    if not given or not (Path(given) / MARKER).is_file():
        return False
    shutil.rmtree(given, ignore_errors=True)
    return True
