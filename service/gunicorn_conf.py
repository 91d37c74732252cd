"""gunicorn settings for ``make run`` and ``rolelens serve`` (``-c python:service.gunicorn_conf``).

Chosen by measurement with ``bench/http.py`` (figures in docs/service.md). Classifying is CPU
work that holds the GIL, so:

- sync workers, one thread each: threads in one process queue behind the GIL, and with
  ``gthread`` (2 or 4 threads) classify's p99 at 8 connections was 3.8-5.4 x its p50
  against 1.3-1.7 x with sync workers, for no more throughput;
- one worker per CPU (two at least): more processes than CPUs only time-slice the same
  CPUs (4 workers on 2 CPUs gave the same throughput, within noise, and a worse tail in
  half the runs);
- preload: the code is imported once in the master and shared by the forked workers (two
  workers serving 3.0-4.4 s after start, against 3.7-5.6 s without). The model is loaded
  after the fork, in each worker (``post_worker_init``), because each worker's holder
  follows ``models/CURRENT`` itself.

``WEB_CONCURRENCY`` or ``--workers`` change the worker count; ``GUNICORN_CMD_ARGS`` adds flags.
"""

from __future__ import annotations

import logging
import os
from typing import Any

bind = "127.0.0.1:8000"
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))
worker_class = "sync"
threads = 1
preload_app = True
timeout = 30
graceful_timeout = 10
# gunicorn 24+ opens a control socket at one fixed path in $HOME; several servers (tests,
# benchmark) would fight over it and nothing here uses it. Older versions ignore the name.
control_socket_disable = True

_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
_STDERR = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": _FORMAT}},
    "handlers": {"stderr": _STDERR},
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        "rolelens": {
            "level": os.environ.get("ROLELENS_LOG_LEVEL", "INFO"),
            "handlers": ["stderr"],
            "propagate": False,
        },
    },
}


def when_ready(server: Any) -> None:
    """Say where the page is once the socket listens."""
    for listener in server.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        server.log.info("rolelens page: http://%s:%s/", host, port)


def post_worker_init(worker: Any) -> None:
    """Load the model before the worker takes its first request, so no client waits for it."""
    holder = worker.wsgi.extensions["rolelens"]
    try:
        holder.get()
    except Exception as exc:  # the worker still serves /healthz; /readyz says 503 and why
        logging.getLogger("rolelens.model").error("no model loaded at start-up: %s", exc)
