"""gunicorn settings for ``make run`` and ``rolelens serve`` (``-c python:service.gunicorn_conf``).

Chosen by measurement with ``bench/http.py`` and ``bench/slow_clients.py`` (figures in
docs/service.md):

- gevent workers: each connection is a greenlet, so a client that sends its request slowly,
  or nothing, holds a few kilobytes, not a worker. With sync workers, 20 connections
  trickling a byte every 0.5 s let 0 of 3 normal classify requests through in 15 s; with
  this worker class, 200 such connections for 60 s left classify at p50 9.8 ms, p99 36.6 ms,
  0 failures. Classify itself is CPU work that holds the GIL, so a greenlet runs it to the end
  and the hub goes on with the other connections between requests;
- one request per connection (``service.serve_worker.Worker``: gunicorn's gevent worker
  answering ``Connection: close``, as the sync workers did): a kept-alive connection stays
  with the worker that took it, and that worker's connections wait for each other while the
  other worker may idle. In three side-by-side runs of ``bench/http.py`` on the shared 2-CPU
  machine, classify p99 at 8 connections was 152, 215 and 181 ms with it; 152, 475 and 168 ms
  with sync workers; 315, 434 and 620 ms with gunicorn's gevent worker as it is. The
  classify/healthz ratio was 0.15, 0.20, 0.24 against sync's 0.21, 0.11, 0.18: load from
  other jobs moves it far more than the setup does (docs/service.md);
- request read time limits: the request line and headers must arrive within ``keepalive``
  seconds (the gevent worker reads them under that timeout); a body must arrive whole within
  ``ROLELENS_BODY_TIMEOUT`` (``service.bodies``); at most ``worker_connections`` connections
  per worker;
- one worker per CPU (two at least): more processes than CPUs only time-slice the same
  CPUs (4 workers on 2 CPUs gave the same throughput, within noise, and a worse tail in
  half the runs);
- preload: the code is imported once in the master and shared by the forked workers (two
  workers serving 3.0-4.4 s after start, against 3.7-5.6 s without). The model is loaded
  after the fork, in each worker (``post_worker_init``), because each worker's holder
  follows ``models/CURRENT`` itself;
- a worker whose master is gone stops within about a second (gevent workers check their
  parent every second) and gives in-flight requests ``graceful_timeout`` to finish.

``WEB_CONCURRENCY`` or ``--workers`` change the worker count; ``GUNICORN_CMD_ARGS`` adds flags.
``ROLELENS_LOG_FORMAT`` (``text`` or ``json``) and ``ROLELENS_LOG_LEVEL`` shape the logs;
``PROMETHEUS_MULTIPROC_DIR`` (default: a private temporary folder) holds the workers' metrics.
"""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType
from typing import Any

from service import multiproc
from service.logformat import log_config

bind = "127.0.0.1:8000"
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))
worker_class = "service.serve_worker.Worker"  # gevent, one request per connection
worker_connections = 1000
# Seconds for a request's line and headers to arrive, and for what is left of a refused body
# to be read and dropped. The gevent worker reads headers under this time limit only when it
# is above 0, so it stays set though no connection is kept alive after its answer.
keepalive = 2
preload_app = True
timeout = 30
graceful_timeout = 5
# gunicorn 24+ opens a control socket at one fixed path in $HOME; several servers (tests,
# benchmark) would fight over it and nothing here uses it. Older versions ignore the name.
control_socket_disable = True

# Logs: the human line, or one JSON object per line with ROLELENS_LOG_FORMAT=json.
logconfig_dict = log_config(
    os.environ.get("ROLELENS_LOG_FORMAT"), os.environ.get("ROLELENS_LOG_LEVEL")
)

# Metrics: gunicorn evaluates this module before it loads (preloads) the app, and
# prometheus-client picks multiprocess mode when it is imported, so the shared folder is set
# here, before the app imports it (``rolelens serve`` has usually set it already).
multiproc_dir = multiproc.prepare()


def when_ready(server: Any) -> None:
    """Say where the page is once the socket listens."""
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        server.log.info("rolelens page: http://%s:%s/", host, port)
    server.log.info("metrics of all workers at /metrics (files in %s)", multiproc_dir)


# Stop signals that reach a worker before gunicorn has set its own handlers.
EARLY_STOPS = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)


def post_fork(server: Any, worker: Any) -> None:
    """Act on a stop signal that comes while the worker boots, rather than lose it.

    A forked worker holds the master's handlers until gevent is patched in and gunicorn sets
    its own, some 100 ms later. A Ctrl+C (SIGINT, passed on as SIGQUIT) in that window went to
    the master's copied queue and was lost: the master then waited ``graceful_timeout`` and
    killed the worker, logging "Perhaps out of memory?". Here it ends the worker's loop before
    it starts: the worker finishes booting, then exits.
    """

    def stop(number: int, frame: FrameType | None) -> None:
        worker.alive = False

    for number in EARLY_STOPS:
        signal.signal(number, stop)


def post_worker_init(worker: Any) -> None:
    """Load the model before the worker takes its first request, so no client waits for it."""
    holder = worker.wsgi.extensions["rolelens"]
    try:
        holder.get()
    except Exception as exc:  # the worker still serves /healthz; /readyz says 503 and why
        logging.getLogger("rolelens.model").error("no model loaded at start-up: %s", exc)


def child_exit(server: Any, worker: Any) -> None:
    """Tell prometheus-client a worker is gone, so its live gauges stop counting."""
    # Imported here: at the top it would load prometheus-client before multiproc.prepare().
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    """Delete the metrics folder if it was made for this run (never one the operator named)."""
    multiproc.remove_if_private()
