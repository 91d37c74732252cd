"""The errors of the service, and the one table that says how each is reported.

::

    ApiProblem (Exception)              raised by views: a status, a short code and a detail
    ModelUnavailable (RolelensError)    no model could be loaded
    PortUnavailable (RolelensError)     ``rolelens serve``: the address is taken
    Failed, BadInput (ClickException)   the CLI's one-line errors, exit codes 1 and 2

:data:`TABLE` maps each exception rolelens raises on purpose, and a full disk (``ENOSPC``,
SQLite's "database or disk is full"), to an HTTP status, a problem ``code`` and a CLI exit
code; :func:`rule_for` looks one up. The Flask handlers below and the ``rolelens`` command
group both answer from it, so a refused promotion is a 409 over HTTP and exit code 1 in a
shell, wherever it is raised. Werkzeug's own HTTP errors (404, 405, 413, ...) are problems
too; anything else is a 500, logged with its traceback, its detail kept generic.

A problem (RFC 9457) has ``type`` (``about:blank``: the status says what kind), ``title``
(the status phrase), ``status``, ``detail``, ``instance`` (the request path) and ``code``, a
stable machine-readable name; problems about a limit also carry ``limit`` and ``setting``. An
``ApiProblem`` may add response headers: the rate limit's 429 sends ``Retry-After``.
"""

from __future__ import annotations

import errno
import importlib
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from classifier.errors import RolelensError
from service.config import LIMIT_NAMES

if TYPE_CHECKING:  # Flask itself is imported by the handlers: the CLI reads the table only
    from flask import Flask, Response

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


class ModelUnavailable(RolelensError, RuntimeError):
    """No model could be loaded; the message says why and what to do."""


class PortUnavailable(RolelensError, OSError):
    """The address cannot be bound; the message says who holds it and what to do."""


class Failed(click.ClickException):
    """The command could not do its work (exit code 1)."""

    exit_code = 1


class BadInput(click.ClickException):
    """The input or the request was at fault (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Rule:
    """How one kind of error is reported: HTTP status, problem code, CLI exit code.

    The kind is named ``"module:Class"`` rather than imported, so that the server need not
    load the training library to know how to report its errors: an error of a module that
    was never loaded cannot have been raised.
    """

    name: str
    status: int
    code: str
    exit_code: int

    @property
    def kind(self) -> type[BaseException]:
        """The exception class, imported."""
        module, _, name = self.name.partition(":")
        kind: type[BaseException] = getattr(importlib.import_module(module), name)
        return kind

    def covers(self, exc: BaseException) -> bool:
        """Whether ``exc`` is of this kind (or a subclass of it)."""
        return any(f"{c.__module__}:{c.__qualname__}" == self.name for c in type(exc).__mro__)


class StorageFull(RolelensError, OSError):
    """The data directory's disk (or SQLite file) is full; raised by no one, used as a key."""


#: First match wins, so a subclass comes before its base.
TABLE = (
    Rule("service.errors:StorageFull", 507, "storage_full", 1),
    Rule("training.errors:PromotionRefused", 409, "promotion_refused", 1),
    Rule("training.errors:PhraseNotFound", 404, "not_found", 2),
    Rule("training.errors:JobNotFound", 404, "not_found", 2),
    Rule("classifier.errors:InvalidPosting", 422, "invalid_field", 2),
    Rule("service.batch.errors:UnusableInput", 422, "unusable_input", 2),
    Rule("service.batch.errors:MissingExtra", 501, "missing_extra", 2),
    Rule("training.errors:TrainingError", 422, "training_failed", 2),
    Rule("training.errors:RetrainBusy", 409, "retrain_running", 1),
    Rule("training.errors:JobBusy", 409, "retrain_running", 1),
    Rule("service.errors:ModelUnavailable", 503, "model_unavailable", 1),
    Rule("classifier.errors:ModelNotFound", 404, "not_found", 2),
    Rule("classifier.errors:ArtifactError", 409, "version_unusable", 1),
    Rule("service.errors:PortUnavailable", 503, "port_unavailable", 1),
    Rule("classifier.errors:RolelensError", 500, "internal_error", 1),
)


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says that the disk (or the SQLite database) is full."""
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def rule_for(exc: BaseException) -> Rule | None:
    """The rule of :data:`TABLE` for ``exc``, or None for an error no rule covers."""
    if disk_full(exc):
        return TABLE[0]
    return next((rule for rule in TABLE[1:] if rule.covers(exc)), None)


def describe(exc: BaseException, home: Path) -> str:
    """The one-line message for ``exc``; a full disk names the data directory ``home``."""
    if disk_full(exc):
        return (
            f"the data directory {home} is full ({exc}); free space there, or set "
            "ROLELENS_HOME to a directory with room, then try again"
        )
    return str(exc)


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
    from flask import Response, json, request

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
    from flask import current_app, request

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


def _unexpected(exc: Exception) -> Response:
    from flask import current_app, request

    if isinstance(exc, HTTPException):
        return _http_error(exc)
    rule = rule_for(exc)
    if rule is not None and rule.status != 500:
        if rule.status == 507:
            log.error("%s %s: %s", request.method, request.path, exc)
        response = problem(rule.status, rule.code, describe(exc, Path(current_app.config["HOME"])))
        if rule.status == 503:
            response.headers["Retry-After"] = "5"
        return response
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
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
