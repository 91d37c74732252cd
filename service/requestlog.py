"""One log line per request, and a request id on every request and response.

The line says method, path, status, duration in ms, the model version and the request id
(as fields too, for the JSON format of ``service.logformat``). The id is the client's
``X-Request-ID`` when it is a sane token (1-128 visible ASCII characters), else a fresh
uuid4 hex; it is sent back in ``X-Request-ID`` on every response, errors included.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("rolelens.request")
HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[\x21-\x7e]{1,128}")


def request_id() -> str:
    """This request's id: the client's if sane, else a new one (fixed on first use)."""
    found: str | None = g.get("request_id")
    if found is None:
        given = request.headers.get(HEADER, "")
        found = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_id = found
    return found


def _start() -> None:
    g.started = time.perf_counter()
    request_id()


def _finish(response: Response) -> Response:
    started = g.get("started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else float("nan")
    rid = request_id()
    response.headers[HEADER] = rid
    model = g.get("model_version", "-")
    log.info(
        "%s %s %s %.1fms model=%s id=%s",
        request.method,
        request.path,
        response.status_code,
        duration,
        model,
        rid,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(duration, 2) if started is not None else None,
            "model_version": None if model == "-" else model,
            "request_id": rid,
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Give every request of ``app`` an id, time it, and log it when its response is ready."""
    app.before_request(_start)
    app.after_request(_finish)
