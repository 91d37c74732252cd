"""Load benchmark: a bounded mixed load on loopback, steady, then across a retrain and a rollback.

Starts the server as `make run` does (``rolelens serve``: gunicorn, default workers, request
log on) on a free 127.0.0.1 port, serving a *copy* of the model folder (``ROLELENS_HOME`` or
./var if a model serves there, else one trained for the run), so the retrain and rollback
never touch your registry. 32 client threads then send, each over its own connection, a mix
of 70 % ``POST /api/v1/classify`` with a ~3 kB posting, 15 % ``POST /api/v1/classify/batch``
with 5 postings and 15 % ``GET /healthz``, in three phases:

1. steady: ``--seconds`` (default 60);
2. retrain: ``--change-seconds`` (default 20, longer if the retrain takes longer), during
   which ``rolelens train --force`` trains and promotes a new version;
3. rollback: the same, with ``rolelens models rollback`` back to the first version.

The retrain and rollback run as ``rolelens`` subprocesses on the served folder (the same
library calls as ``training.retrain``), so their CPU work does not hold this process's GIL
and slow the clients. Each phase also stops at ``--max-requests``. Prints requests/s,
p50/p95/p99 latency, non-2xx answers and connection errors per phase (all of which must be
zero; printed, never asserted), the model versions that answered, and the request count the
server's ``/metrics`` added up across its workers. Default run: about 2 minutes.

    python bench/load.py
    python bench/load.py --seconds 10 --change-seconds 15 --connections 16
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

# Run as `python bench/load.py`, Python puts bench/ first on the path, where bench/http.py
# would hide the standard library's `http`: put the repository root there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http.client

from prometheus_client.parser import text_string_to_metric_families

from bench._server import POSTINGS, ROLELENS, free_port, model_home, posting_3kb, start, stop

MIX = ("classify",) * 14 + ("batch",) * 3 + ("healthz",) * 3  # 70 / 15 / 15 %


def batch_body() -> bytes:
    """Five ~1 kB postings from fixtures/postings, as a JSON batch."""
    texts = [p.read_text(encoding="utf-8")[:1000] for p in sorted(POSTINGS.glob("*.txt"))]
    postings = [{"id": n, "text": texts[n % len(texts)]} for n in range(5)]
    return json.dumps({"postings": postings}).encode()


REQUESTS = {
    "classify": ("POST", "/api/v1/classify", posting_3kb()),
    "batch": ("POST", "/api/v1/classify/batch", batch_body()),
    "healthz": ("GET", "/healthz", None),
}


@dataclass
class Phase:
    """What the clients saw in one phase."""

    name: str
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in REQUESTS})
    non_2xx: Counter[int] = field(default_factory=Counter)
    connection_errors: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    action: str = ""

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.connection_errors.values())

    @property
    def failures(self) -> int:
        return sum(self.non_2xx.values()) + sum(self.connection_errors.values())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if values else 0.0


def _one(connection: http.client.HTTPConnection, kind: str) -> tuple[int, bytes]:
    method, path, body = REQUESTS[kind]
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    payload = response.read()
    if response.will_close:
        connection.close()  # gunicorn's sync workers close; http.client reconnects
    return response.status, payload


def run_phase(
    phase: Phase,
    port: int,
    connections: int,
    seconds: float,
    max_requests: int,
    action: Callable[[], str] | None = None,
) -> Phase:
    """Drive the mix for ``seconds`` (and 5 s past ``action``, run 3 s in) or ``max_requests``."""
    lock, done = threading.Lock(), threading.Event()
    sent = [0]

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        step = n
        while not done.is_set():
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            kind = MIX[step % len(MIX)]
            step += 1
            began = time.perf_counter()
            try:
                status, payload = _one(connection, kind)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                with lock:
                    phase.connection_errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - began
            version = json.loads(payload).get("model_version") if kind != "healthz" else None
            with lock:
                phase.latencies[kind].append(elapsed)
                if not 200 <= status < 300:
                    phase.non_2xx[status] += 1
                if version:
                    phase.versions[version] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    until = began + seconds
    if action is not None:
        time.sleep(3.0)
        phase.action = action()
        until = max(until, time.perf_counter() + 5.0)
    while time.perf_counter() < until and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    done.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - began
    return phase


def rolelens(home: Path, *args: str) -> str:
    """Run a ``rolelens`` command on ``home``; its output and how long it took, in one line."""
    began = time.perf_counter()
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    done = subprocess.run(
        [str(ROLELENS), *args], env=env, capture_output=True, text=True, timeout=300
    )
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()
    outcome = said[0] if said else "(no output)"
    took = time.perf_counter() - began
    return f"`rolelens {' '.join(args)}` exit {done.returncode} in {took:.1f} s: {outcome}"


def counted_requests(port: int) -> float:
    """Requests to the load's endpoints that /metrics added up across the server's workers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    paths = {path for _, path, _ in REQUESTS.values()}
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "rolelens_http_requests_total" and s.labels["endpoint"] in paths
    )


def report(phases: list[Phase], connections: int, counted: float) -> None:
    """Print one line per phase, the latency per kind of request, and the versions seen."""
    print(
        f"load: {connections} connections, mix 70% classify (3 kB) / 15% batch of 5 / "
        f"15% healthz, {os.cpu_count()} CPUs, server: rolelens serve (service/gunicorn_conf.py)"
    )
    print(
        f"  {'phase':<9} {'seconds':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'p99 ms':>8} {'non-2xx':>7} {'conn err':>8}"
    )
    for phase in phases:
        every = [x for values in phase.latencies.values() for x in values]
        print(
            f"  {phase.name:<9} {phase.seconds:7.1f} {phase.requests:8d} "
            f"{phase.requests / phase.seconds:7.1f} {_percentile(every, 0.50):8.1f} "
            f"{_percentile(every, 0.95):8.1f} {_percentile(every, 0.99):8.1f} "
            f"{sum(phase.non_2xx.values()):7d} {sum(phase.connection_errors.values()):8d}"
        )
    for kind, values in phases[0].latencies.items():
        print(
            f"    {phases[0].name} {kind:<9} n={len(values):<6} p50 "
            f"{_percentile(values, 0.5):7.1f} ms  p95 {_percentile(values, 0.95):7.1f} ms  "
            f"p99 {_percentile(values, 0.99):7.1f} ms"
        )
    for phase in phases[1:]:
        print(f"  {phase.name}: {phase.action}")
        print(f"    answers by model version: {dict(phase.versions)}")
    for phase in phases:
        if phase.failures:
            print(
                f"  FAILED in {phase.name}: non-2xx {dict(phase.non_2xx)}, "
                f"connection errors {dict(phase.connection_errors)}"
            )
    sent = sum(phase.requests for phase in phases)
    print(f"  server /metrics counted {counted:.0f} of the {sent} requests sent (all workers)")
    print("  failures per phase: " + ", ".join(f"{p.name} {p.failures}" for p in phases))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="steady phase (default 60)")
    parser.add_argument(
        "--change-seconds", type=float, default=20.0, help="retrain and rollback phases (20)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=50_000, help="per phase")
    args = parser.parse_args()
    temporary: list[tempfile.TemporaryDirectory[str]] = []
    work = tempfile.TemporaryDirectory(prefix="rolelens-load-")
    try:
        home = Path(work.name) / "home"
        shutil.copytree(model_home(temporary), home)
        log = Path(work.name) / "server.log"
        port = free_port()
        server = start(home, port, log)
        try:
            phases = [
                run_phase(Phase("steady"), port, args.connections, args.seconds, args.max_requests)
            ]
            for name, command in (
                ("retrain", ("train", "--force")),
                ("rollback", ("models", "rollback")),
            ):
                phases.append(
                    run_phase(
                        Phase(name),
                        port,
                        args.connections,
                        args.change_seconds,
                        args.max_requests,
                        partial(rolelens, home, *command),
                    )
                )
            counted = counted_requests(port)
        finally:
            stop(server)
        report(phases, args.connections, counted)
        if any(phase.failures for phase in phases):
            tail = log.read_text(errors="replace").splitlines()[-20:]
            print("  server log, last lines:\n    " + "\n    ".join(tail))
    finally:
        for folder in temporary:
            folder.cleanup()
        work.cleanup()


if __name__ == "__main__":
    main()
