"""Errors of the batch file pipeline.

::

    RolelensError (classifier.errors)
    └── UnusableInput (ValueError)   a batch input cannot be read as a table of postings
                                     (binary, empty, no text column): nothing was written
    └── MissingExtra (ImportError)   Parquet or the Dask engine asked for without the
                                     optional packages of ``rolelens[scale]``
"""

from __future__ import annotations

from classifier.errors import RolelensError


class UnusableInput(RolelensError, ValueError):
    """A batch input cannot be read as a table of postings; the message says what to fix."""


class MissingExtra(RolelensError, ImportError):
    """An optional package is not installed; the message gives the command that installs it."""
