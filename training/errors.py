"""Errors raised by the training package.

::

    RolelensError (classifier.errors)
    └── TrainingError (ValueError)      the phrases or labeled postings cannot be used as given
        └── PromotionRefused            a new version scored too far below the serving one
"""

from __future__ import annotations

from classifier.errors import RolelensError


class TrainingError(RolelensError, ValueError):
    """Training data or a labeled file is unusable; the message says what to fix."""


class PromotionRefused(TrainingError):
    """The new version was written but not promoted; the serving version stays."""
