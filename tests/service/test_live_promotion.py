"""Real gunicorn, 3 workers, a steady request stream while a retrain and a rollback promote."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.service.conftest import free_port
from tests.service.test_serve import ROLELENS, stop, wait_until_ready
from training.registry import rollback
from training.retrain import retrain

pytestmark = pytest.mark.slow

BODY = json.dumps({"text": "Deploy models to production with Kubernetes; run A/B tests."})
# The stream is bounded by time, whatever the machine's speed: each client sends at most
# ``rate`` requests a second (PER_CLIENT_RATE under --soak, a third of it by default), so
# every phase gets a share in proportion to its length (a fast machine can no longer spend a
# global budget before the rollback), and no client sends after STREAM_SECONDS.
PER_CLIENT_RATE = 25.0
STREAM_SECONDS = 120.0
SWITCH_WITHIN = 2.0  # seconds after promotion by which every worker must answer anew


class Stream:
    """Clients posting classifications until stopped; records (finished at, outcome)."""

    def __init__(self, port: int, clients: int = 6, rate: float = PER_CLIENT_RATE) -> None:
        self.port = port
        self.rate = rate
        self.results: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _one(self) -> str:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST", "/api/v1/classify", BODY, {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200:
                return f"error: HTTP {response.status} {payload[:200]!r}"
            return str(json.loads(payload)["model_version"])
        except (OSError, ValueError, KeyError) as exc:
            return f"error: {exc!r}"
        finally:
            connection.close()

    def _run(self) -> None:
        deadline = time.monotonic() + STREAM_SECONDS
        pause = 1.0 / self.rate
        while not self.done.is_set() and time.monotonic() < deadline:
            sent = time.monotonic()
            outcome = self._one()
            with self.lock:
                self.results.append((time.monotonic(), outcome))
            self.done.wait(max(0.0, pause - (time.monotonic() - sent)))

    def __enter__(self) -> Stream:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=15)

    def after(self, moment: float) -> list[str]:
        with self.lock:
            return [outcome for at, outcome in self.results if at >= moment]


def _answers_after(stream: Stream, moment: float, count: int = 20) -> list[str]:
    """The answers finished after ``moment``, once there are ``count`` of them (or 10 s on)."""
    time.sleep(max(0.0, moment - time.monotonic()))
    deadline = moment + 10
    while len(stream.after(moment)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return stream.after(moment)


def _switches(stream: Stream, promote: object, expected: str | None = None) -> None:
    started = time.monotonic()
    version = promote() if callable(promote) else None
    promoted = time.monotonic()
    late = _answers_after(stream, promoted + SWITCH_WITHIN)
    assert len(late) >= 20, "too few requests to judge; the stream stalled"
    assert set(late) == {expected or version}, f"stale or failed answers: {set(late)}"
    assert not [o for o in stream.after(started) if o.startswith("error")]


@pytest.mark.soak
def test_retrain_and_rollback_under_load_fail_no_request(
    quick_home: Path, quick_fixtures: Path, tmp_path: Path, soak: bool
) -> None:
    home = quick_home  # what a retrain does to serving, not how good its model is
    port = free_port()
    env = {**os.environ, "ROLELENS_HOME": str(home), "ROLELENS_LOG_LEVEL": "WARNING"}
    command = [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "3"]
    with open(tmp_path / "server.log", "wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(port, server)
        with Stream(port, rate=PER_CLIENT_RATE if soak else PER_CLIENT_RATE / 3) as stream:
            first = _answers_after(stream, time.monotonic(), count=6)[-1]
            for _ in range(5 if soak else 1):
                _switches(
                    stream, lambda: retrain(home, force=True, fixtures=quick_fixtures).version
                )
                _switches(stream, lambda: rollback(home), expected=first)
        errors = [o for _, o in stream.results if o.startswith("error")]
        assert not errors, errors[:5]
    finally:
        stop(server)
