"""One log line per request: method, path, status, duration in ms and the model version."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

log = logging.getLogger("rolelens.request")


def _start() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else float("nan")
    log.info(
        "%s %s %s %.1fms model=%s",
        request.method,
        request.path,
        response.status_code,
        duration,
        g.get("model_version", "-"),
    )
    return response


def init_app(app: Flask) -> None:
    """Time every request of ``app`` and log it when its response is ready."""
    app.before_request(_start)
    app.after_request(_finish)
