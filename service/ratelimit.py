"""An optional per-client rate limit on the API: a fixed window per client address.

Off by default. ``ROLELENS_RATE_LIMIT="60/minute"`` (or ``N/second``, ``N/hour``) turns it
on for every path under ``/api/``; the page, static files and the probes are not limited.
A client over its limit gets a 429 problem with ``Retry-After`` (seconds to the next window).

The count lives in the worker process: with gunicorn's several workers a client can make up
to ``workers x N`` requests in a window, depending on which worker takes each one. The client
is ``REMOTE_ADDR``: behind a reverse proxy every client shares the proxy's address, so limit
at the proxy instead, or have it pass the real address and trust it with a ``ProxyFix``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request

from service.errors import ApiProblem

SETTING = "ROLELENS_RATE_LIMIT"
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)s?\s*$")
EXTENSION = "rolelens.ratelimit"


@dataclass(frozen=True)
class Rule:
    """At most ``count`` requests per ``period`` seconds per client."""

    count: int
    period: float

    @classmethod
    def parse(cls, text: str) -> Rule:
        """Read ``"60/minute"``; raise ``ValueError`` saying the accepted form otherwise."""
        match = _RULE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(
                f"{SETTING}={text!r} is not a rate; write it as N/second, N/minute or N/hour "
                "with N at least 1 (e.g. 60/minute), or leave it unset for no limit"
            )
        return cls(int(match.group(1)), PERIODS[match.group(2)])


class FixedWindowLimiter:
    """Counts requests per client in fixed windows of ``rule.period`` seconds.

    Args:
        rule: the limit.
        clock: monotonic seconds (injected in tests).
    """

    def __init__(self, rule: Rule, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = rule
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, client: str) -> float | None:
        """Count one request of ``client``: None if allowed, else seconds until it may retry."""
        now = self._clock()
        window = math.floor(now / self.rule.period)
        with self._lock:
            if window != self._window:  # a new window: forget every count (bounded memory)
                self._window, self._counts = window, {}
            count = self._counts.get(client, 0) + 1
            self._counts[client] = count
        if count <= self.rule.count:
            return None
        return (window + 1) * self.rule.period - now


def _check() -> None:
    limiter: FixedWindowLimiter | None = current_app.extensions.get(EXTENSION)
    if limiter is None or not request.path.startswith("/api/"):
        return
    wait = limiter.hit(request.remote_addr or "-")
    if wait is not None:
        retry = max(1, math.ceil(wait))
        raise ApiProblem(
            429,
            "rate_limited",
            f"more than {limiter.rule.count} requests in {limiter.rule.period:g} s from "
            f"this client; wait {retry} s and try again (the server sets this with {SETTING})",
            limit=limiter.rule.count,
            setting=SETTING,
            retry_after=retry,
            headers={"Retry-After": str(retry)},
        )


def init_app(app: Flask) -> None:
    """Limit ``app``'s API when ``RATE_LIMIT`` is set (a ``Rule`` text, or a ready limiter)."""
    setting = app.config.get("RATE_LIMIT")
    if not setting:
        return
    if isinstance(setting, FixedWindowLimiter):
        limiter = setting
    else:
        limiter = FixedWindowLimiter(Rule.parse(str(setting)))
    app.extensions[EXTENSION] = limiter
    app.before_request(_check)
