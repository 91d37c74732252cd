"""How log lines look: the human line (default) or one JSON object per line.

``ROLELENS_LOG_FORMAT=json`` makes every line, gunicorn's own included, a JSON object with
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``process``; request lines
add ``method``, ``path``, ``status``, ``duration_ms``, ``model_version`` and ``request_id``,
and any line logged while a request is handled carries that ``request_id``. A traceback
goes in ``exc_info``. :func:`log_config` builds the ``logging.config`` dictionary that
``service.gunicorn_conf`` hands to gunicorn; nothing here configures logging on import.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from flask import g, has_request_context

FORMATS = ("text", "json")
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "model_version", "request_id")
TEXT_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"


# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: any of them in a
# logged value (a request path, a header) could start a forged line or hide part of one.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with each control character written as a visible escape (``\\n``, ``\\x1b``)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class TextFormatter(logging.Formatter):
    """The human line, with control characters in the message escaped (tracebacks kept)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        shown = logging.makeLogRecord(
            {**record.__dict__, "message": escape_controls(record.message)}
        )
        return super().formatMessage(shown)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
            "process": record.process,
        }
        for key in REQUEST_FIELDS:
            if hasattr(record, key):  # null when known to be absent (no model on a 404)
                value = getattr(record, key)
                entry[key] = escape_controls(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Adds the request id to records logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def check_format(value: str | None) -> str:
    """The log format named by ``ROLELENS_LOG_FORMAT`` (``text`` when unset).

    Raises:
        ValueError: the value is neither ``text`` nor ``json``.
    """
    name = (value or "text").strip().lower()
    if name not in FORMATS:
        raise ValueError(f"ROLELENS_LOG_FORMAT must be 'text' or 'json', not {value!r}")
    return name


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def check_level(value: str | None) -> str:
    """The level named by ``ROLELENS_LOG_LEVEL``, in capitals (``INFO`` when unset).

    Raises:
        ValueError: the value is not one of :data:`LEVELS`, in any case.
    """
    name = (value or "INFO").strip().upper()
    if name not in LEVELS:
        raise ValueError(f"ROLELENS_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {value!r}")
    return name


def log_config(log_format: str | None, level: str | None) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` mapping for gunicorn: all lines to stderr.

    Args:
        log_format: ``text`` or ``json`` (None: ``text``).
        level: level of the ``rolelens`` loggers, in any case (None: ``INFO``).

    Raises:
        ValueError: an unknown format or level.
    """
    formatter = (
        {"()": f"{__name__}.JsonFormatter"}
        if check_format(log_format) == "json"
        else {"()": f"{__name__}.TextFormatter", "fmt": TEXT_FORMAT}
    )
    stderr = {
        "class": "logging.StreamHandler",
        "formatter": "main",
        "filters": ["request_id"],
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "handlers": {"stderr": stderr},
        "root": {"level": "WARNING", "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
            "rolelens": {"level": check_level(level), "handlers": ["stderr"], "propagate": False},
        },
    }
