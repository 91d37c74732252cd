"""The gunicorn worker class of ``rolelens serve``: gevent, one request per connection.

gunicorn's gevent worker serves a kept-alive connection in the worker that accepted it, and
a worker serves its connections' requests one after another (classifying holds the CPU). So
8 clients on kept-alive connections settle, say, 5 on one worker and 3 on the other, and the
5 wait for each other while the other worker idles: classify p99 at 8 connections was 2-3
times that of sync workers (docs/service.md). This worker answers every request with
``Connection: close``, as the sync workers did; the client's next connection is accepted by
a worker that is free to accept it.

Everything else is gunicorn's gevent worker: a connection is a greenlet, the request line and
headers must arrive within ``keepalive`` seconds, and a worker whose master is gone stops.

Before the connection is closed, what the app left unread of the body (a body refused with
413 from its ``Content-Length``) is read and dropped, for at most ``keepalive`` seconds, so
that a client still sending it gets the answer, not a reset connection.
"""

from __future__ import annotations

from typing import Any

import gevent  # type: ignore[import-untyped]
from gunicorn.workers.ggevent import GeventWorker  # type: ignore[import-untyped]

DRAIN_PIECE = 64 * 1024


def drain(body: Any, seconds: float) -> None:
    """Read ``body`` to its end and drop it, for at most ``seconds``; never raise."""
    with gevent.Timeout(seconds, False):
        try:
            while body.read(DRAIN_PIECE):
                pass
        except Exception:  # a malformed chunk, a reset connection: there is nothing to save
            return


class Worker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, answering one request per connection (module docstring)."""

    quitting = False

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
        req.must_close = True  # gunicorn then answers "Connection: close" and closes
        try:
            super().handle_request(listener_name, req, sock, addr)
        except StopIteration:  # the answer is sent and the connection is to be closed
            if req.body is not None:
                drain(req.body, self.cfg.keepalive)
            raise

    def handle_quit(self, sig: Any, frame: Any) -> None:
        """Stop at once (Ctrl+C, SIGQUIT from the master) with nothing in the log but the exit.

        gunicorn's gevent worker runs the base ``handle_quit`` in a greenlet, and gevent hands
        that greenlet's ``sys.exit(0)`` on to the main greenlet only later, as the worker is
        already exiting: each Ctrl+C printed two tracebacks ending "failed with SystemExit"
        (gunicorn issue 3239). Here the greenlet raises the exit in the main greenlet itself.
        """
        if not self.quitting:  # a terminal's Ctrl+C reaches the worker too, then the master's
            self.quitting = True
            gevent.spawn(self._quit)

    def _quit(self) -> None:
        self.alive = False
        self.cfg.worker_int(self)
        gevent.sleep(0.1)  # as gunicorn's base worker does, before it exits
        gevent.get_hub().parent.throw(SystemExit(0))
