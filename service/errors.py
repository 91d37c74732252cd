"""Every error as ``application/problem+json`` (RFC 9457), with a ``detail`` saying what to fix.

::

    ApiProblem (Exception)          raised by views: a status, a short code and a detail
    werkzeug HTTPException          404, 405, 413 (body over MAX_CONTENT_LENGTH), ...
    ModelUnavailable                no model could be loaded: 503
    any other exception             500, logged with its traceback, detail kept generic

A problem has ``type`` (``about:blank``: the status says what kind), ``title`` (the status
phrase), ``status``, ``detail``, ``instance`` (the request path) and ``code``, a stable
machine-readable name; problems about a limit also carry ``limit`` and ``setting``. An
``ApiProblem`` may add response headers: the rate limit's 429 sends ``Retry-After``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from service.config import LIMIT_NAMES
from service.model_holder import ModelUnavailable

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("rolelens.errors")

# What to do about the common HTTP errors, when the view did not say more.
ADVICE = {
    400: "the request could not be read; check the body and headers",
    404: "no such resource; the API lives under /api/v1 (see /api/v1/openapi.json)",
    405: "this path does not accept that method",
    413: "the request body is too large",
    415: "send the body as application/json",
}


class ApiProblem(Exception):
    """An error a view reports to the client; ``extra`` members are added to the problem."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def limit_problem(setting: str, limit: int, detail: str) -> ApiProblem:
    """A 413 naming the limit that was passed and the variable that sets it."""
    return ApiProblem(413, "limit_exceeded", detail, limit=limit, setting=setting)


def problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    """A ``problem+json`` response."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "code": code,
        **extra,
    }
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        limit = int(current_app.config["MAX_CONTENT_LENGTH"])
        if request.content_length is not None and request.content_length <= limit:
            parts = int(current_app.config["MAX_FORM_PARTS"])
            return problem(  # the body fits: werkzeug refused the number of form parts
                413,
                "limit_exceeded",
                f"the multipart body has more than {parts} parts; send the CSV as one file "
                f"part (curl -F file=@postings.csv), or raise {LIMIT_NAMES['MAX_FORM_PARTS']}",
                limit=parts,
                setting=LIMIT_NAMES["MAX_FORM_PARTS"],
            )
        return problem(
            413,
            "limit_exceeded",
            f"the request body is larger than {limit} bytes; send less (a batch in several "
            f"requests) or raise {LIMIT_NAMES['MAX_CONTENT_LENGTH']}",
            limit=limit,
            setting=LIMIT_NAMES["MAX_CONTENT_LENGTH"],
        )
    detail = ADVICE.get(status, exc.description or HTTPStatus(status).description)
    extra: dict[str, Any] = {}
    if status == 404:
        detail = f"{request.path} does not exist; {detail}"
    if status == 405:
        allowed = sorted(exc.valid_methods or []) if hasattr(exc, "valid_methods") else []
        detail = f"{request.path} does not accept {request.method}; use {', '.join(allowed)}"
        extra["allowed"] = allowed
    response = problem(status, HTTPStatus(status).phrase.lower().replace(" ", "_"), detail, **extra)
    if status == 405 and extra["allowed"]:
        response.headers["Allow"] = ", ".join(extra["allowed"])
    return response


def _api_problem(exc: ApiProblem) -> Response:
    response = problem(exc.status, exc.code, exc.detail, **exc.extra)
    response.headers.update(exc.headers)
    return response


def _unavailable(exc: ModelUnavailable) -> Response:
    response = problem(503, "model_unavailable", str(exc))
    response.headers["Retry-After"] = "5"
    return response


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(
        500,
        "internal_error",
        "the server failed on this request; it was logged. Try again, and report it "
        "if it keeps happening",
    )


def init_app(app: Flask) -> None:
    """Register the problem+json handlers on ``app``."""
    app.register_error_handler(ApiProblem, _api_problem)
    app.register_error_handler(ModelUnavailable, _unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
