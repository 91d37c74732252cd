"""Settings read from ``ROLELENS_*`` environment variables, each with a working default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DEFAULT_HOME = "var"

#: Defaults of the web app; every key can be set as ``ROLELENS_<KEY>`` (values are parsed as
#: JSON when they can be, so ``ROLELENS_MAX_BATCH_SIZE=500`` is a number).
APP_DEFAULTS: dict[str, Any] = {
    "HOME": None,  # None: ``data_home()``, i.e. ROLELENS_HOME or ./var
    "FIXTURES": None,  # phrase packs and validation postings; None: the project's fixtures/
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,  # request body, bytes
    "MAX_POSTING_CHARS": 50_000,  # one posting (title included), characters
    "MAX_BATCH_SIZE": 100,  # postings in one batch request
    "MAX_BATCH_ROWS": 10_000,  # rows of one CSV sent to the batch endpoint
    "MAX_FORM_PARTS": 1_000,  # parts of one multipart body
    "BODY_TIMEOUT": 10.0,  # seconds for a request body to arrive whole (else 408)
    "RELOAD_INTERVAL": 1.0,  # seconds between looks at models/CURRENT, per worker
    "ADMIN_TOKEN": None,  # bearer token for writes over HTTP; None: writes are refused
    "ALLOWED_HOSTS": None,  # Host names besides loopback and the bound address ("a,b"; "*": any)
    "RATE_LIMIT": None,  # e.g. "60/minute": requests per client address to /api/, per worker
    "SHADOW_KEEP_TEXT": False,  # keep the text of postings the shadow disagreed on
    "DRIFT_WINDOW": 500,  # recent postings drift is measured on (shared by all workers)
    "KEEP_VERSIONS": 20,  # model versions kept after a retrain (serving, previous, shadow stay)
}

KEEP_VERSIONS_ENV = "ROLELENS_KEEP_VERSIONS"

#: The limits a client can run into, as named in error messages.
LIMIT_NAMES = {
    "MAX_CONTENT_LENGTH": "ROLELENS_MAX_CONTENT_LENGTH",
    "MAX_POSTING_CHARS": "ROLELENS_MAX_POSTING_CHARS",
    "MAX_BATCH_SIZE": "ROLELENS_MAX_BATCH_SIZE",
    "MAX_BATCH_ROWS": "ROLELENS_MAX_BATCH_ROWS",
    "MAX_FORM_PARTS": "ROLELENS_MAX_FORM_PARTS",
}


def data_home() -> Path:
    """The data directory (phrase store and models): ``ROLELENS_HOME``, default ``./var``."""
    return Path(os.environ.get("ROLELENS_HOME") or DEFAULT_HOME)


def fixtures_home() -> Path | None:
    """``ROLELENS_FIXTURES``: another folder of phrase packs and validation postings, if set."""
    given = os.environ.get("ROLELENS_FIXTURES")
    return Path(given) if given else None


def keep_versions(value: object = None) -> int:
    """How many model versions a retrain keeps: ``value``, else ``ROLELENS_KEEP_VERSIONS``, else 20.

    Raises:
        ValueError: not a whole number of at least 1 (the message names the variable).
    """
    raw = value if value is not None else os.environ.get(KEEP_VERSIONS_ENV) or 20
    try:
        keep = int(str(raw))
    except ValueError:
        keep = 0
    if keep < 1:
        raise ValueError(f"{KEEP_VERSIONS_ENV}={raw!r}: use a whole number of at least 1")
    return keep
