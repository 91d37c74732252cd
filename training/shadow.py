"""Starting and stopping the shadow: a version that scores live traffic beside the serving one.

The shadow is named in ``models/SHADOW``; every serving worker follows that file. A version
becomes the shadow only after it loads and passes the same smoke test as a promotion.
"""

from __future__ import annotations

from pathlib import Path

from classifier.artifacts import current_version
from training.errors import TrainingError
from training.lock import registry_lock
from training.registry import set_shadow, verified


def start_shadow(home: Path, version: str, wait: bool = False) -> str:
    """Make ``version`` the shadow, after loading and smoke-testing it.

    Returns:
        The shadow version.

    Raises:
        ModelNotFound: no such version.
        ArtifactError, TrainingError: it cannot serve, or it is the serving version.
        RetrainBusy: a retrain or rollback is running and ``wait`` is false.
    """
    with registry_lock(home, wait):
        if version == current_version(home):
            raise TrainingError(
                f"{version} is the serving version; shadow a different one to compare them"
            )
        verified(home, version)
        set_shadow(home, version)
    return version


def stop_shadow(home: Path, wait: bool = False) -> None:
    """Stop shadowing (nothing happens when no shadow is set)."""
    with registry_lock(home, wait):
        set_shadow(home, None)
