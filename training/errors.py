"""Errors raised by the training package.

::

    RolelensError (classifier.errors)
    ├── TrainingError (ValueError)      the phrases or labeled postings cannot be used as given
    │   ├── PromotionRefused            a new version scored too far below the serving one
    │   └── PhraseNotFound (LookupError) no phrase with that id in the store
    └── RetrainBusy (RuntimeError)      another process is retraining right now
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
