"""Who may write over HTTP: a bearer token equal to ``ROLELENS_ADMIN_TOKEN``.

No token configured means writes are off: every write answers 403 saying how to turn them
on. A missing ``Authorization`` header is 401, a wrong token 403. Tokens are compared in
constant time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, request

from service.errors import ApiProblem

P = ParamSpec("P")
R = TypeVar("R")


def check_admin() -> None:
    """Raise the right problem unless the request carries the admin token."""
    expected = str(current_app.config.get("ADMIN_TOKEN") or "")
    if not expected:
        raise ApiProblem(
            403,
            "writes_disabled",
            "writes over HTTP are turned off on this server; start it with "
            "ROLELENS_ADMIN_TOKEN=<a long random secret> to enable them, then send "
            "Authorization: Bearer <that secret>",
        )
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiProblem(
            401,
            "unauthorized",
            "this endpoint changes data: send Authorization: Bearer <ROLELENS_ADMIN_TOKEN>",
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise ApiProblem(403, "forbidden", "the bearer token is not the admin token")


def admin_only(view: Callable[P, R]) -> Callable[P, R]:
    """Decorate a view so it runs only for requests carrying the admin token."""

    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        check_admin()
        return view(*args, **kwargs)

    guarded.admin_only = True  # type: ignore[attr-defined]
    return guarded
