"""Worker processes for batch scoring: each holds the model once and scores whole chunks.

Kept apart from :mod:`service.batch.run` because what runs here runs in other processes.
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor

from service.batch.score import ScoredRow, Scorer

_WORKER_SCORER: Scorer | None = None  # in worker processes only, set by install


def install(scorer: Scorer) -> None:
    """Worker initializer: hold the model once; leave Ctrl-C to the parent, which cleans up."""
    global _WORKER_SCORER  # one per worker process: the pool's initializer sets it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_SCORER = scorer


def score_in_worker(texts: list[str]) -> list[ScoredRow]:
    """Score a chunk in a worker process with the scorer its initializer installed."""
    assert _WORKER_SCORER is not None, "worker started without its initializer"
    return _WORKER_SCORER.score(texts)


def worker_pool(scorer: Scorer, jobs: int) -> Executor:
    """A pool of ``jobs`` processes, each holding ``scorer``; submit :func:`score_in_worker`."""
    # fork starts workers in milliseconds with the loaded model already in memory; where
    # fork is not offered, spawn sends each worker the scorer's registry folder and version
    # (see Scorer.__reduce__) and the worker loads and verifies that version once.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(jobs, context, initializer=install, initargs=(scorer,))
