"""A fast ``rolelens`` for the README test: one interpreter imports the CLI once, then forks.

Each ``rolelens`` process spends a second or more importing scikit-learn, Flask and the rest
before it does anything, and the README runs a few dozen of them. Here a server process
imports ``service.cli`` once and listens on a Unix socket; the ``rolelens`` shim the README
calls sends it its arguments, working folder, environment and its stdin, stdout and stderr
(the file descriptors themselves), and the server forks a child that runs the same
``main()`` as the console script with those as its own, and sends back the exit code.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import traceback

SHIM = """#!{python} -S
import json, os, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect({address!r})
socket.send_fds(sock, [b"r"], [0, 1, 2])
request = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}
sock.sendall(json.dumps(request).encode())
sock.shutdown(socket.SHUT_WR)
answer = sock.recv(16)
sys.exit(int(answer) if answer else 1)
"""


def _child(connection: socket.socket) -> None:
    _, fds, _, _ = socket.recv_fds(connection, 1, 3)
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    request = json.loads(data)
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["rolelens", *request["argv"]]
    code = 1
    try:
        from service.cli import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    connection.sendall(str(code).encode())
    os._exit(0)


def serve(address: str) -> None:
    """Import the CLI, listen on ``address`` and run each request in a forked child.

    What the README's train and evaluate commands import is imported here too, once:
    scikit-learn with scipy, and matplotlib for the pictures (two seconds per command)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    import service.cli  # noqa: F401 - the point: imported once, before the forks
    import training.retrain  # noqa: F401

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    listener.listen()
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _child(connection)
        connection.close()
        while True:  # reap the children that finished
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


if __name__ == "__main__":
    serve(sys.argv[1])
