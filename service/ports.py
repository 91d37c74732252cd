"""Before ``rolelens serve`` starts gunicorn: is the port free, and if not, who holds it?

gunicorn alone retries a busy port for a while and then says "Connection in use", which does
not say what to do. :func:`check_free` binds the address once, and when that fails names the
process that listens there (Linux ``/proc``; elsewhere only the port is named).
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from service.errors import PortUnavailable


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            listening = len(fields) > 9 and fields[3] == "0A"  # state LISTEN
            if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def holder(port: int) -> str | None:
    """``pid N (command line)`` of a process listening on TCP ``port``, if one can be seen."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(_link(fd) in wanted for fd in (proc / "fd").iterdir()):
                raw = (proc / "cmdline").read_bytes().replace(b"\0", b" ").strip()
                return f"pid {proc.name} ({raw.decode(errors='replace')[:200]})"
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return None


def _link(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:  # closed meanwhile (the listing's own descriptor, for one)
        return ""


def check_free(host: str, port: int) -> None:
    """Return if ``host:port`` can be bound now.

    Raises:
        PortUnavailable: the port is in use (naming the holder when it can be found) or
            may not be bound by this user.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                who = holder(port) or "another process"
                raise PortUnavailable(
                    f"{host}:{port} is already in use by {who}; stop that process or serve "
                    "on another --port"
                ) from None
            raise PortUnavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --host or "
                "--port (ports below 1024 need root)"
            ) from None
