"""Shadow and drift under real gunicorn with two workers: figures shared by every worker."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import free_port
from tests.service.test_serve import ROLELENS, stop, wait_until_ready
from tests.service.test_watch import forget_monitoring, in_domain_postings, other_postings

pytestmark = pytest.mark.slow

TOKEN = "live-watch-token"
WINDOW = 60  # ROLELENS_DRIFT_WINDOW: the drift figures cover the latest 60 postings


def _call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    try:
        connection.request(method, path, None if body is None else json.dumps(body), headers)
        response = connection.getresponse()
        payload = response.read()
        is_json = "json" in (response.getheader("Content-Type") or "")
        return response.status, json.loads(payload) if is_json else payload.decode()
    finally:
        connection.close()


def _classify(port: int, texts: list[str]) -> set[str]:
    """Classify each text on its own connection, four at a time; the versions that answered."""
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda t: _call(port, "POST", "/api/v1/classify", {"text": t}), texts)
        )
    assert {status for status, _ in answers} == {200}
    return {answer["model_version"] for _, answer in answers}


def _settle(port: int, path: str, key: str, expected: int, seconds: float = 10) -> Any:
    """GET ``path`` until ``key`` reaches ``expected``: the watch runs after each answer."""
    deadline = time.monotonic() + seconds
    while True:
        status, report = _call(port, "GET", path)
        assert status == 200
        if report[key] >= expected or time.monotonic() > deadline:
            return report
        time.sleep(0.1)


def test_shadow_and_drift_are_shared_by_two_gunicorn_workers(
    seed_serving: tuple[Path, str, str], tmp_path: Path
) -> None:
    home, full, serving = seed_serving
    forget_monitoring(home)
    port = free_port()
    env = {
        **os.environ,
        "ROLELENS_HOME": str(home),
        "ROLELENS_ADMIN_TOKEN": TOKEN,
        "ROLELENS_DRIFT_WINDOW": str(WINDOW),
        "ROLELENS_LOG_LEVEL": "WARNING",
    }
    command = [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with open(tmp_path / "server.log", "wb") as sink:
        server = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(port, server)
        status, started = _call(port, "POST", "/api/v1/models/shadow", {"version": full})
        assert status == 200, started
        time.sleep(1.5)  # every worker looks at models/SHADOW at least once a second

        # The last 90 validation postings: enough for both workers to answer many, and the
        # drift window (the latest 60) holds about the postings it holds after all 268.
        in_domain = in_domain_postings()[-90:]
        assert _classify(port, in_domain) == {serving}, "answers stay the serving model's"
        shadow = _settle(port, "/api/v1/models/shadow", "n", len(in_domain))
        assert shadow["version"] == full and shadow["n"] == len(in_domain)
        assert 0.0 <= shadow["agreement"] <= 1.0
        drift = _settle(port, "/api/v1/drift", "n", WINDOW)
        assert drift["status"] == "ok", drift

        _classify(port, other_postings(WINDOW))
        time.sleep(1.0)
        reports = [_call(port, "GET", "/api/v1/drift")[1] for _ in range(6)]
        assert {r["status"] for r in reports} == {"drifting"}, "whichever worker answers"
        assert {r["n"] for r in reports} == {WINDOW}
        totals = {_call(port, "GET", "/api/v1/models/shadow")[1]["n"] for _ in range(6)}
        assert totals == {len(in_domain) + WINDOW}

        scrape = _call(port, "GET", "/metrics")[1]
        requests = re.search(r"^rolelens_shadow_requests_total (\S+)$", scrape, re.M)
        assert requests and float(requests.group(1)) == len(in_domain) + WINDOW
        assert re.search(r"^rolelens_shadow_disagreements_total \S+$", scrape, re.M)
        psi = re.search(r"^rolelens_drift_psi (\S+)$", scrape, re.M)
        assert psi and float(psi.group(1)) == pytest.approx(reports[0]["psi"], abs=1e-3)
    finally:
        stop(server)
