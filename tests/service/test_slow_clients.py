"""The real server against clients that send slowly, send nothing, or send broken bodies.

One gunicorn server (as `rolelens serve` starts it) with a small body limit and a 1 s body
time limit serves the whole module; the crashed-master test starts its own.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.slow_clients import Attack, classify_while
from service.cli import cli
from tests.service.conftest import free_port
from tests.service.test_serve import ROLELENS, stop, wait_until_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("slow_clients"),
]  # one gunicorn server for the module
LIMIT = 20_000


def _serve(home: Path, port: int, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environ = {**os.environ, "ROLELENS_HOME": str(home), **env}
    command = [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, env=environ, stdout=sink, stderr=subprocess.STDOUT)
    wait_until_ready(port, process)
    return process


@pytest.fixture(scope="module")
def port(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    chosen = free_port()
    log = tmp_path_factory.mktemp("slow") / "server.log"
    limits = {"ROLELENS_MAX_CONTENT_LENGTH": str(LIMIT), "ROLELENS_BODY_TIMEOUT": "1"}
    process = _serve(trained_home, chosen, log, **limits)
    yield chosen
    stop(process)


def _raw(port: int, data: bytes, wait: float = 10) -> tuple[int, dict[str, object]]:
    """Send ``data`` as is on a new connection; the status and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        reader = sock.makefile("rb")
        response = http.client.HTTPResponse(sock)
        response.fp = reader
        response.begin()
        return response.status, json.loads(response.read())


def _chunked(body: bytes, piece: int = 4096) -> bytes:
    out = b""
    for start in range(0, len(body), piece):
        part = body[start : start + piece]
        out += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    return out + b"0\r\n\r\n"


def _head(path: str, content_type: str, extra: str = "Transfer-Encoding: chunked") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"{extra}\r\n\r\n"
    ).encode()


def test_slow_and_idle_connections_do_not_hold_the_server(port: int) -> None:
    # 21 connections (headers a byte at a time, a body a byte at a time, nothing at all):
    # with sync workers this was enough to leave every normal request unanswered.
    latencies: list[float] = []
    failures = 0
    with Attack(port, 21, interval=0.2) as attack:
        time.sleep(0.5)
        # Until the server has closed enough slow ones to judge, for at most 8 s.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and (len(latencies) < 10 or attack.reconnects < 7):
            answered, failed = classify_while(port, 0.5, 200)
            latencies += answered
            failures += failed
    assert failures == 0
    assert len(latencies) >= 10  # normal requests kept being answered meanwhile
    assert attack.reconnects >= 7  # the server closed the slow ones (header/body time limits)


def test_a_body_that_stops_arriving_gets_408(port: int) -> None:
    started = time.monotonic()
    status, body = _raw(
        port, _head("/api/v1/classify", "application/json", "Content-Length: 100") + b'{"te'
    )
    assert status == 408 and body["code"] == "body_timeout"
    assert "ROLELENS_BODY_TIMEOUT" in str(body["detail"])
    assert time.monotonic() - started < 8


CSV_ROWS = 2_000  # about 60 kB, three times the limit


def test_a_chunked_body_over_the_limit_gets_413_never_a_truncated_answer(port: int) -> None:
    rows = "".join(
        f"job-{n},We deploy models with Kubernetes and monitor them\n" for n in range(CSV_ROWS)
    )
    body = ("id,text\n" + rows).encode()
    status, answer = _raw(port, _head("/api/v1/classify/batch", "text/csv") + _chunked(body))
    assert status == 413 and answer["code"] == "limit_exceeded"
    assert answer["limit"] == LIMIT and answer["setting"] == "ROLELENS_MAX_CONTENT_LENGTH"
    text = json.dumps({"text": "x" * LIMIT}).encode()
    status, answer = _raw(port, _head("/api/v1/classify", "application/json") + _chunked(text))
    assert status == 413 and answer["code"] == "limit_exceeded"  # not "Unterminated string"


def test_a_chunked_body_within_the_limit_is_read_whole(port: int) -> None:
    rows = "".join(f"job-{n},We deploy models with Kubernetes\n" for n in range(200))
    body = ("id,text\n" + rows).encode()
    request = _head(
        "/api/v1/classify/batch",
        "text/csv",
        "Transfer-Encoding: chunked\r\nAccept: application/json",
    )
    status, answer = _raw(port, request + _chunked(body, piece=1000))
    assert status == 200 and answer["count"] == 200


def test_a_client_still_sending_a_refused_body_gets_the_413_not_a_reset(port: int) -> None:
    # Flask refuses the body from its Content-Length, unread; the server reads and drops the
    # rest before it closes the connection, so a client that sends the whole body before it
    # reads the answer (as http.client and requests do) sees the 413. Closed with the body
    # unread, the connection was reset under such a sender every time at 5-6 MB.
    body = json.dumps({"text": "x" * 6_000_000}).encode()
    for _ in range(3):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request(
                "POST", "/api/v1/classify", body, {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            assert response.status == 413
            assert response.getheader("Connection") == "close"
            assert json.loads(response.read())["code"] == "limit_exceeded"
        finally:
            connection.close()


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # a chunk size that is not hexadecimal
        b"2\r\n{}XX0\r\n\r\n",  # a chunk not followed by CRLF
    ],
)
def test_a_malformed_chunk_gets_400(port: int, chunks: bytes) -> None:
    status, body = _raw(port, _head("/api/v1/classify", "application/json") + chunks)
    assert status == 400 and body["code"] == "malformed_body"


def _running(pids: list[str]) -> list[str]:
    """Those of ``pids`` still running: one that is gone, or a zombie (stopped, its parent yet
    to reap it), is not."""
    running = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            if "zombie" not in Path(f"/proc/{pid}/status").read_text():
                running.append(pid)
    return running


def test_workers_stop_soon_after_their_master_is_killed(trained_home: Path, tmp_path: Path) -> None:
    chosen = free_port()
    process = _serve(trained_home, chosen, tmp_path / "server.log")
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert children  # the workers
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and _running(children):
        time.sleep(0.1)
    assert _running(children) == [], "workers still running 8 s after their master was killed"
    with socket.socket() as sock:  # and the port is free again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", chosen))


def test_serve_on_a_held_port_names_the_process_that_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--port", str(taken)], env={"ROLELENS_HOME": str(tmp_path)}
        )
    assert result.exit_code == 1
    assert f"127.0.0.1:{taken} is already in use by pid {os.getpid()}" in result.output
    assert "another --port" in result.output
