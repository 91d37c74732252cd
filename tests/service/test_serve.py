"""The real server, started as `make run` starts it: gunicorn via `rolelens serve`."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from service.cli import cli, gunicorn_command
from tests.service.conftest import free_port

ROLELENS = Path(sys.executable).parent / "rolelens"


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def wait_until_ready(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Poll /readyz until it answers 200; fail if the server exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            if _get(port, "/readyz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready on port {port} within {seconds} s")


def stop(process: subprocess.Popen[bytes], group: bool = False) -> None:
    """SIGINT, then SIGKILL if it lingers. Every request of the test has had its answer, so
    gunicorn's quick stop will do: its graceful one (SIGTERM) waits for the workers' next
    one-second tick, and for the test that waiting is all it adds. ``group``: to the
    process's whole group, as a terminal's Ctrl+C does (start it with a session of its own)."""
    if process.poll() is None:
        if group:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_rolelens_serve_runs_gunicorn_that_classifies_over_http(
    home: Path, tmp_path: Path, posting: str
) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    # Debug asked for every way there is: the server must still not run in debug mode.
    env = {**os.environ, "ROLELENS_HOME": str(home), "FLASK_DEBUG": "1", "ROLELENS_DEBUG": "1"}
    command = [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with open(log, "wb") as sink:  # a session of its own: stopped as Ctrl+C stops it
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_ready(port, process)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps({"text": posting})
        connection.request("POST", "/api/v1/classify", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200
        assert answer["label"] == "ml_engineering"
        assert "frame-ancestors 'none'" in (response.getheader("Content-Security-Policy") or "")
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        # One request per connection, so the next one goes to a worker free to take it.
        assert response.getheader("Connection") == "close"
        connection.request(
            "POST",
            "/api/v1/classify",
            gzip.compress(body.encode()),
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        refused = connection.getresponse()
        assert refused.status == 415 and b"compressed_body" in refused.read()
        connection.close()
        assert _get(port, "/") == 200
    finally:
        stop(process, group=True)
    output = log.read_text()
    assert "gunicorn" in output.lower() and f"http://127.0.0.1:{port}/" in output
    assert "POST /api/v1/classify 200" in output  # the request log line
    assert f"model={answer['model_version']}" in output
    # The second worker is often still booting when the test stops the server: its stop
    # signal is kept (gunicorn_conf.post_fork), not lost until the master kills it 5 s later.
    assert "SIGKILL" not in output
    # Ctrl+C reaches master and workers: a quiet stop (serve_worker.Worker.handle_quit).
    assert "Traceback" not in output and "failed with SystemExit" not in output
    assert process.returncode == 0


def test_a_stop_signal_while_a_worker_boots_ends_its_loop_before_it_starts() -> None:
    from service import gunicorn_conf

    worker = SimpleNamespace(alive=True)  # gunicorn's run loop goes on while this is true
    kept = {number: signal.getsignal(number) for number in gunicorn_conf.EARLY_STOPS}
    try:
        gunicorn_conf.post_fork(None, worker)
        os.kill(os.getpid(), signal.SIGQUIT)  # the master's Ctrl+C, as it reaches a worker
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)
    assert worker.alive is False


def test_serve_trains_the_default_model_when_none_exists_then_runs_gunicorn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained: list[Path] = []
    executed: list[list[str]] = []

    def fake_retrain(home: Path, fixtures: Path | None = None) -> object:
        trained.append(home)
        (home / "models").mkdir(parents=True)
        (home / "models" / "CURRENT").write_text("v-new\n")
        return type("Result", (), {"version": "v-new"})()

    monkeypatch.setenv("ROLELENS_HOME", str(tmp_path))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setattr("training.retrain.retrain", fake_retrain)  # imported when needed
    monkeypatch.setattr("service.cli.os.execv", lambda path, args: executed.append(args))
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert trained == [tmp_path]
    assert "training the default one" in result.output
    assert "serving model v-new" in result.output
    assert executed == [gunicorn_command("127.0.0.1", 8123, None)]


def test_the_gunicorn_command_uses_the_config_module_and_the_app_factory() -> None:
    command = gunicorn_command("127.0.0.1", 8123, 3)
    assert command[:3] == [sys.executable, "-m", "gunicorn"]
    assert "python:service.gunicorn_conf" in command
    assert command[command.index("--bind") + 1] == "127.0.0.1:8123"
    assert command[command.index("--workers") + 1] == "3"
    assert command[-1] == "service.app:create_app()"
