"""Slow-client benchmark: can connections that trickle bytes, or send none, hold the server?

Starts ``rolelens serve`` (gunicorn) on a free loopback port and opens ``--connections``
hostile connections, in equal thirds: ones that send a request's headers one byte at a time,
ones that send complete headers announcing a body and then the body one byte at a time, and
ones that connect and send nothing. Each sends its next byte every ``--interval`` seconds and
reconnects as soon as the server closes it, for ``--seconds``. Meanwhile one normal client
classifies a ~3 kB posting on a fresh connection after another. Prints that client's
p50/p99/max latency and failures (an answer other than 200, or none within 5 s), and how
often the server closed the hostile connections. Never asserts on time.

    python bench/slow_clients.py                          # 200 connections, 60 s
    python bench/slow_clients.py --setup "--worker-class sync"   # the setup before gevent

Each ``--setup`` is passed to gunicorn through ``GUNICORN_CMD_ARGS``, after any leading
``NAME=value`` words, which set the server's environment.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Run as `python bench/slow_clients.py`: put the repository root first instead of bench/.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http.client

from bench._server import free_port, model_home, posting_3kb, request, start, stop

KINDS = ("headers", "body", "idle")


def _script(kind: str) -> bytes:
    """The bytes a hostile connection of ``kind`` trickles (idle ones send none)."""
    if kind == "idle":
        return b""
    head = b"POST /api/v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += b"Content-Type: application/json\r\n"
    if kind == "headers":
        return head + b"X-Padding: " + b"a" * 100_000
    return head + b"Content-Length: 100000\r\n\r\n" + b"x" * 100_000


@dataclass
class Attack:
    """``connections`` hostile connections to ``port``, driven by one thread until stopped."""

    port: int
    connections: int
    interval: float = 0.5
    reconnects: int = 0
    stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Attack:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _connect(self, selector: selectors.BaseSelector, kind: str) -> None:
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, [kind, 0])

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for n in range(self.connections):
            self._connect(selector, KINDS[n % len(KINDS)])
        next_byte = time.monotonic()
        while not self.stopped.is_set():
            for key, _ in selector.select(timeout=0.05):  # the server closed (or answered)
                self._replace(selector, key)
            if time.monotonic() < next_byte:
                continue
            next_byte += self.interval
            for key in list(selector.get_map().values()):
                kind, sent = key.data
                script = _script(kind)
                if sent >= len(script):
                    continue
                try:
                    key.fileobj.send(script[sent : sent + 1])  # type: ignore[union-attr]
                    key.data[1] = sent + 1
                except OSError:
                    self._replace(selector, key)
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()

    def _replace(self, selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        selector.unregister(key.fileobj)
        key.fileobj.close()  # type: ignore[union-attr]
        self.reconnects += 1
        if not self.stopped.is_set():
            self._connect(selector, key.data[0])


def classify_while(port: int, seconds: float, max_requests: int) -> tuple[list[float], int]:
    """Classify on fresh connections for ``seconds``: latencies (s) and the failure count."""
    body = posting_3kb()
    latencies: list[float] = []
    failures = 0
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at and len(latencies) + failures < max_requests:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            status = request(connection, "POST", "/api/v1/classify", body)
        except OSError:
            status = 0
        finally:
            connection.close()
        if status == 200:
            latencies.append(time.perf_counter() - started)
        else:
            failures += 1
        time.sleep(0.02)
    return latencies, failures


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank), or NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def bench(home: Path, setup: str, connections: int, seconds: float, interval: float) -> None:
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="rolelens-bench-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
    process = start(home, port, log_path, setup)
    try:
        classify_while(port, 1.0, 50)  # warm-up
        with Attack(port, connections, interval) as attack:
            time.sleep(min(2.0, seconds / 10))  # let the connections open
            latencies, failures = classify_while(port, seconds, 100_000)
        reconnects = attack.reconnects
    finally:
        stop(process)
        log_path.unlink()
    print(
        f"setup: {setup or '(service/gunicorn_conf.py as is)'}  [{connections} slow "
        f"connections (headers, body, idle), a byte each every {interval} s, {seconds:.0f} s]"
    )
    print(
        f"  normal classify: n={len(latencies)}  failures={failures}  "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms  "
        f"max {max(latencies, default=float('nan')) * 1000:.1f} ms   (target: p99 <= 50 ms, "
        "0 failures)"
    )
    print(f"  hostile connections closed by the server and reopened: {reconnects}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--setup", action="append", default=[], help="gunicorn arguments for one setup (repeatable)"
    )
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between bytes")
    args = parser.parse_args()
    if args.connections < 1 or args.seconds <= 0 or args.interval <= 0:
        parser.error("--connections must be at least 1, --seconds and --interval above 0")
    temporary: list[tempfile.TemporaryDirectory[str]] = []
    try:
        home = model_home(temporary)
        for setup in args.setup or [""]:
            bench(home, setup, args.connections, args.seconds, args.interval)
    finally:
        for folder in temporary:
            folder.cleanup()


if __name__ == "__main__":
    main()
