"""Settings read from ``ROLELENS_*`` environment variables, each with a working default."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_HOME = "var"


def data_home() -> Path:
    """The data directory (phrase store and models): ``ROLELENS_HOME``, default ``./var``."""
    return Path(os.environ.get("ROLELENS_HOME") or DEFAULT_HOME)
