"""Errors raised by the training package.

::

    RolelensError (classifier.errors)
    ├── TrainingError (ValueError)      the phrases or labeled postings cannot be used as given
    │   ├── PromotionRefused            a new version scored too far below the serving one
    │   └── PhraseNotFound (LookupError) no phrase with that id in the store
    ├── RetrainBusy (RuntimeError)      another process is retraining right now
    ├── JobNotFound (LookupError)       no retrain job with that id
    └── JobBusy (RuntimeError)          a retrain job is queued or running already
"""

from __future__ import annotations

from classifier.errors import RolelensError


class TrainingError(RolelensError, ValueError):
    """Training data or a labeled file is unusable; the message says what to fix."""


class PromotionRefused(TrainingError):
    """The new version was written but not promoted; the serving version stays."""


class PhraseNotFound(TrainingError, LookupError):
    """No phrase with that id in the store."""


class RetrainBusy(RolelensError, RuntimeError):
    """Another process holds the retrain lock."""


class JobNotFound(RolelensError, LookupError):
    """No job with that id in the data directory."""


class JobBusy(RolelensError, RuntimeError):
    """A retrain job is queued or running already; ``job_id`` names it."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"retrain job {job_id} is still running; wait for it to finish")
        self.job_id = job_id
