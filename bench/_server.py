"""What the benchmarks share: a model to serve, the server as `make run` starts it, requests.

Imported as ``bench._server`` by the scripts in this folder, which put the repository root
first on ``sys.path`` (so ``http`` stays the standard library, not ``bench/http.py``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROLELENS = Path(sys.executable).parent / "rolelens"
POSTINGS = REPO / "fixtures" / "postings"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def posting_text(chars: int = 3000) -> str:
    """A real posting of about ``chars`` characters (ML engineering, then data science)."""
    text = (POSTINGS / "ml_engineer_platform.txt").read_text(encoding="utf-8")
    text += "\n" + (POSTINGS / "data_scientist_retail.txt").read_text(encoding="utf-8")
    return text[:chars]


def posting_3kb() -> bytes:
    """The JSON body of ``POST /api/v1/classify`` with a ~3 kB posting."""
    return json.dumps({"text": posting_text()}).encode()


def model_home(stack: list[tempfile.TemporaryDirectory[str]]) -> Path:
    """``ROLELENS_HOME`` (or ./var) if a model serves there, else a fresh one in a temp folder.

    The temporary folder is appended to ``stack`` for the caller to clean up.
    """
    home = Path(os.environ.get("ROLELENS_HOME") or "var")
    if (home / "models" / "CURRENT").is_file():
        return home
    from training.retrain import retrain

    folder = tempfile.TemporaryDirectory(prefix="rolelens-bench-")
    stack.append(folder)
    print(f"no model in {home}; training one into {folder.name}", file=sys.stderr)
    retrain(Path(folder.name))
    return Path(folder.name)


def request(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None
) -> int:
    """Send one request, read the whole answer, return its status."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    response.read()
    if response.will_close:
        connection.close()  # http.client reconnects on the next request
    return response.status


ASSIGNMENT = re.compile(r"[A-Z_][A-Z0-9_]*=.*")


def split_setup(setup: str) -> tuple[dict[str, str], str]:
    """A benchmark setup's leading ``NAME=value`` words (as a shell has them) and the rest.

    ``"ROLELENS_KEEPALIVE=0 --workers 3"`` serves with that variable set and passes
    ``--workers 3`` to gunicorn.
    """
    words = shlex.split(setup)
    variables: dict[str, str] = {}
    while words and ASSIGNMENT.fullmatch(words[0]):
        name, value = words.pop(0).split("=", 1)
        variables[name] = value
    return variables, shlex.join(words)


def start(
    home: Path,
    port: int,
    log: Path,
    setup: str = "",
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``rolelens serve`` on 127.0.0.1:``port`` and wait until /readyz answers 200.

    Args:
        home: the data directory to serve.
        port: the loopback port.
        log: file for the server's output (request log on, as `make run` has it).
        setup: gunicorn arguments, passed through ``GUNICORN_CMD_ARGS``, after any
            ``NAME=value`` words, which set the server's environment (see :func:`split_setup`).
        env: further environment variables for the server.
    """
    variables, arguments = split_setup(setup)
    environ = {**os.environ, "ROLELENS_HOME": str(home), **variables, **(env or {})}
    if arguments:
        environ["GUNICORN_CMD_ARGS"] = arguments
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(ROLELENS), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environ,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}; see {log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            if request(connection, "GET", "/readyz", None) == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"server not ready within 60 s; see {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server gracefully (SIGTERM), killing it if it lingers."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
