"""Request bodies are read whole, within a size limit and a time limit, before any view runs.

:class:`WholeBody` is WSGI middleware. For every request that has a body (a
``Content-Length`` or ``Transfer-Encoding: chunked``) it reads the body into memory before the
Flask app sees the request, and hands the app a complete, terminated body with its
``Content-Length``. So:

- a chunked body over ``MAX_CONTENT_LENGTH`` gets 413 before any byte of an answer is sent;
  it is never cut to the limit and parsed as if it were whole;
- a malformed chunk (a size that is not hexadecimal, a missing CRLF) gets 400;
- a body that does not arrive within ``BODY_TIMEOUT`` seconds gets 408, so a client that
  trickles a body holds a connection (a cheap greenlet under gevent) only that long.

A body with a ``Content-Length`` over the limit is not read at all: Flask answers 413 from the
header. When the middleware refuses a body it notes the problem in the WSGI environ, and
:func:`raise_body_problem`, a ``before_request`` hook, raises it as problem+json, so
the refusal is logged and shaped like every other error. After a 413 or 408 gunicorn reads and
drops what is left of the body (within its keep-alive time) before the next request; after a
malformed chunk the connection is closed once the 400 is sent.
"""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

from flask import Flask, request

from service.config import LIMIT_NAMES
from service.errors import ApiProblem

PROBLEM_KEY = "rolelens.body_problem"
CHUNK = 64 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


def _deadline(seconds: float) -> AbstractContextManager[Any]:
    """A time limit on the reads inside it: gevent's, when gevent serves (else none)."""
    gevent = sys.modules.get("gevent")
    if gevent is not None and gevent.monkey.is_module_patched("socket"):
        timeout: AbstractContextManager[Any] = gevent.Timeout(seconds, _TooSlow)
        return timeout
    return nullcontext()


def _read(stream: Any, limit: int, seconds: float, length: int | None) -> bytes:
    """The body: ``length`` bytes, or up to the end of a chunked (terminated) stream."""
    parts: list[bytes] = []
    size = 0
    want = limit + 1 if length is None else length
    with _deadline(seconds):
        while size < want:
            piece = stream.read(min(CHUNK, want - size))
            if not piece:
                return b"".join(parts)
            parts.append(piece)
            size += len(piece)
            if size > limit:
                raise _TooLarge
    return b"".join(parts)


class WholeBody:
    """Read each request body whole before ``app`` runs (see the module docstring).

    Args:
        app: the WSGI app to call.
        settings: returns ``(MAX_CONTENT_LENGTH, BODY_TIMEOUT)`` when a request comes.
    """

    def __init__(self, app: WsgiApp, settings: Callable[[], tuple[int, float]]) -> None:
        self.app = app
        self.settings = settings

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        length = environ.get("CONTENT_LENGTH") or ""
        limit, seconds = self.settings()
        if chunked:
            self._buffer(environ, limit, seconds, None)
        elif length.isdigit() and 0 < int(length) <= limit:
            self._buffer(environ, limit, seconds, int(length))
        return self.app(environ, start_response)

    def _buffer(
        self, environ: dict[str, Any], limit: int, seconds: float, length: int | None
    ) -> None:
        problem: tuple[int, str, str] | None = None
        data = b""
        try:
            data = _read(environ["wsgi.input"], limit, seconds, length)
        except _TooLarge:
            setting = LIMIT_NAMES["MAX_CONTENT_LENGTH"]
            problem = (
                413,
                "limit_exceeded",
                f"the request body is larger than {limit} bytes; send less (a batch in several "
                f"requests) or raise {setting}",
            )
        except _TooSlow:
            problem = (
                408,
                "body_timeout",
                f"the request body did not arrive within {seconds:g} s; send it at once "
                "(ROLELENS_BODY_TIMEOUT sets the time)",
            )
        except Exception as exc:  # gunicorn's InvalidChunkSize, ChunkMissingTerminator, ...
            problem = (
                400,
                "malformed_body",
                f"the request body could not be read ({type(exc).__name__}); send a "
                "Content-Length, or well-formed chunks",
            )
            # What follows on the connection cannot be framed: read no more of it, so the
            # server closes it after this answer instead of parsing the rest as a request.
            _stop_reading(environ)
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        if problem is not None:
            environ[PROBLEM_KEY] = problem


def _stop_reading(environ: dict[str, Any]) -> None:
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RD)


def raise_body_problem() -> None:
    """Raise the problem :class:`WholeBody` found with this request's body, if any."""
    found = request.environ.get(PROBLEM_KEY)
    if found is not None:
        status, code, detail = found
        extra: dict[str, Any] = {}
        if status == 413:
            extra = {"limit": int(request.max_content_length or 0)}
            extra["setting"] = LIMIT_NAMES["MAX_CONTENT_LENGTH"]
        raise ApiProblem(status, code, detail, **extra)


def init_app(app: Flask) -> None:
    """Wrap ``app``'s WSGI callable in :class:`WholeBody` and install the problem check."""

    def settings() -> tuple[int, float]:
        return int(app.config["MAX_CONTENT_LENGTH"]), float(app.config["BODY_TIMEOUT"])

    app.wsgi_app = WholeBody(app.wsgi_app, settings)  # type: ignore[method-assign]
    app.before_request(raise_body_problem)
