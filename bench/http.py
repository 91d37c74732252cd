"""HTTP benchmark: the server as `make run` starts it, classify against a trivial endpoint.

Starts ``rolelens serve`` (gunicorn) on a free loopback port, then for a bounded time and
request count per phase measures requests/s and p50/p99 latency of ``POST /api/v1/classify``
with a ~3 kB posting and of ``GET /healthz``, at 8 connections, and the single-connection
latency of classify. Prints figures, with the server's and this client's CPU time per
request; never asserts on time.

    python bench/http.py                       # the configured setup
    python bench/http.py --setup "--worker-class sync" --setup ""

Each ``--setup`` is passed to gunicorn through ``GUNICORN_CMD_ARGS``; leading ``NAME=value``
words set the server's environment instead (``--setup "WEB_CONCURRENCY=3"``). All setups are
served at once and measured in turns, round after round, so that load from other programs
meets each of them alike. The model comes from ``ROLELENS_HOME`` when one serves there,
otherwise one is trained into a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Run as `python bench/http.py`, Python puts bench/ first on the path, where this file would
# hide the standard library's `http`: put the repository root there instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http.client

from bench._server import free_port, model_home, posting_3kb, request, start, stop


def server_cpu_seconds(master: int) -> float | None:
    """CPU time used so far by the gunicorn master and its workers (Linux /proc), or None.

    Per request, it is the cost of an endpoint that other load on the machine cannot inflate
    the way it inflates wall-clock latency.
    """
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        total = 0
        for pid in [str(master), *children]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
        return total / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class Phase:
    """What clients saw in one or more measuring windows of one endpoint."""

    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0
    cpu_seconds: float | None = 0.0
    client_cpu_seconds: float = 0.0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.failures += other.failures
        self.seconds += other.seconds
        self.client_cpu_seconds += other.client_cpu_seconds
        if self.cpu_seconds is None or other.cpu_seconds is None:
            self.cpu_seconds = None
        else:
            self.cpu_seconds += other.cpu_seconds

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def figures(self) -> dict[str, float]:
        every = sorted(self.latencies)
        count = len(every)
        return {
            "requests": count,
            "failures": self.failures,
            "rps": self.rps,
            "p50_ms": every[count // 2] * 1000 if count else float("nan"),
            "p99_ms": every[min(count - 1, int(count * 0.99))] * 1000 if count else float("nan"),
            "cpu_ms": self.cpu_seconds * 1000 / count
            if count and self.cpu_seconds is not None
            else float("nan"),
            "client_cpu_ms": self.client_cpu_seconds * 1000 / count if count else float("nan"),
        }


def load(
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    connections: int,
    seconds: float,
    max_requests: int,
    master: int,
) -> Phase:
    """Drive ``connections`` client threads for ``seconds`` or ``max_requests`` in all."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    stop_at = time.perf_counter() + seconds
    share = max(1, max_requests // connections)

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[n]
        while len(mine) < share:
            started = time.perf_counter()
            if started >= stop_at:
                break
            if request(connection, method, path, body) != 200:
                failures[n] += 1
            mine.append(time.perf_counter() - started)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    cpu_before = server_cpu_seconds(master)
    client_before = time.process_time()
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu_after = server_cpu_seconds(master)
    client_cpu = time.process_time() - client_before
    return Phase(
        [x for part in latencies for x in part],
        sum(failures),
        elapsed,
        cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None,
        client_cpu,
    )


def line(name: str, figures: dict[str, float]) -> str:
    return (
        f"  {name:<28} {figures['rps']:8.1f} req/s   p50 {figures['p50_ms']:7.2f} ms   "
        f"p99 {figures['p99_ms']:7.2f} ms   p99/p50 "
        f"{figures['p99_ms'] / figures['p50_ms']:4.2f}   server CPU "
        f"{figures['cpu_ms']:5.2f} ms/req   client CPU {figures['client_cpu_ms']:4.2f} ms/req   "
        f"n={figures['requests']:.0f}"
        + (f"   FAILED {figures['failures']:.0f}" if figures["failures"] else "")
    )


@dataclass
class Setup:
    """One server under test and what its clients saw."""

    setup: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    trivial: Phase = field(default_factory=Phase)
    classify: Phase = field(default_factory=Phase)
    ratios: list[float] = field(default_factory=list)


def report(served: Setup, single: Phase, body: bytes, connections: int, rounds: int) -> None:
    print(
        f"setup: {served.setup or '(service/gunicorn_conf.py as is)'}  "
        f"[{os.cpu_count()} CPUs, {len(body)} byte body, {rounds} alternating rounds]"
    )
    trivial, classify, ratios = served.trivial, served.classify, served.ratios
    trivial_figures, classify_figures = trivial.figures(), classify.figures()
    print(line(f"GET /healthz x{connections}", trivial_figures))
    print(line(f"POST /classify x{connections}", classify_figures))
    print(line("POST /classify x1", single.figures()))
    nan = float("nan")
    print(
        f"  classify/healthz throughput ratio "
        f"{classify.rps / trivial.rps if trivial.latencies else nan:.2f} "
        f"(target >= 0.35; per round min {min(ratios, default=nan):.2f}, median "
        f"{statistics.median(ratios) if ratios else nan:.2f}, "
        f"max {max(ratios, default=nan):.2f}); classify p99/p50 at "
        f"{connections} connections "
        f"{classify_figures['p99_ms'] / classify_figures['p50_ms']:.2f} (target <= 3)"
    )
    print(
        "  server CPU per request, healthz/classify "
        f"{trivial_figures['cpu_ms'] / classify_figures['cpu_ms']:.2f} "
        "(the ratio a machine with no other load would approach)"
    )


def bench(home: Path, setups: list[str], seconds: float, connections: int, rounds: int) -> None:
    """Serve every setup at once and measure them in turn, round after round.

    Other work on a shared machine comes and goes: every round gives each setup one short
    window per endpoint (classify first in even rounds, healthz first in odd ones, and the
    setups in a rotating order), so all setups and both endpoints meet the same conditions.
    Idle servers wait on their sockets and cost nothing meanwhile.
    """
    body = posting_3kb()
    servers: list[Setup] = []
    try:
        for setup in setups:
            port = free_port()
            with tempfile.NamedTemporaryFile(
                prefix="rolelens-bench-", suffix=".log", delete=False
            ) as log:
                log_path = Path(log.name)
            servers.append(Setup(setup, start(home, port, log_path, setup), port, log_path))
        for served in servers:  # warm-up
            load(served.port, "POST", "/api/v1/classify", body, connections, 1.0, 10**6, 0)
        window = seconds / rounds
        runs = {
            "classify": ("POST", "/api/v1/classify", body, 50_000 // rounds),
            "healthz": ("GET", "/healthz", None, 200_000 // rounds),
        }
        for n in range(rounds):
            for served in servers[n % len(servers) :] + servers[: n % len(servers)]:
                now = {}
                for name in list(runs)[:: 1 if n % 2 == 0 else -1]:
                    method, path, payload, most = runs[name]
                    pid = served.process.pid
                    now[name] = load(
                        served.port, method, path, payload, connections, window, most, pid
                    )
                served.trivial.add(now["healthz"])
                served.classify.add(now["classify"])
                if now["healthz"].latencies and now["classify"].latencies:
                    served.ratios.append(now["classify"].rps / now["healthz"].rps)
        for served in servers:
            pid = served.process.pid
            single = load(
                served.port, "POST", "/api/v1/classify", body, 1, seconds / 2, 10_000, pid
            )
            report(served, single, body, connections, rounds)
    finally:
        for served in servers:
            stop(served.process)
            served.log.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--setup", action="append", default=[], help="gunicorn arguments for one setup (repeatable)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase (default 10)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating healthz/classify windows (default 5)"
    )
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1, --seconds above 0")
    temporary: list[tempfile.TemporaryDirectory[str]] = []
    try:
        home = model_home(temporary)
        bench(home, args.setup or [""], args.seconds, args.connections, args.rounds)
    finally:
        for folder in temporary:
            folder.cleanup()


if __name__ == "__main__":
    main()
