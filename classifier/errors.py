"""Errors raised by the classifier package.

::

    RolelensError                        base of everything rolelens raises on purpose
    ├── InvalidPosting (ValueError)      the text given cannot be classified (wrong type)
    ├── ModelNotFound (LookupError)      no model in the registry, or no such version
    └── ArtifactError (RuntimeError)     a model folder is incomplete, altered, or was written
                                         by another scikit-learn version: refused, not loaded

Every message says what was wrong and what to do about it.
"""

from __future__ import annotations


class RolelensError(Exception):
    """Base class of the errors rolelens raises on purpose."""


class InvalidPosting(RolelensError, ValueError):
    """The posting given cannot be classified."""


class ModelNotFound(RolelensError, LookupError):
    """The registry holds no model, or not the version asked for."""


class ArtifactError(RolelensError, RuntimeError):
    """A model version on disk is incomplete, altered, or from another scikit-learn."""
