"""Writing model versions into the registry and moving ``CURRENT``.

A version folder is written under a temporary name, every file fsynced, then renamed into
place, so a half-written version never carries a version name. ``CURRENT`` is replaced
atomically (temporary file, fsync, ``os.replace``, fsync of the folder), and every promotion
is appended to ``models/HISTORY`` so ``rollback`` knows what served before.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.artifacts import (
    CARD_FILE,
    CURRENT_FILE,
    MODEL_FILE,
    MODEL_FORMAT,
    PHRASES_FILE,
    SETTINGS_FILE,
    current_version,
    models_dir,
    read_card,
    sha256_file,
    version_dir,
)
from classifier.errors import ModelNotFound
from training.errors import TrainingError

if TYPE_CHECKING:
    from training.train import TrainedModel

HISTORY_FILE = "HISTORY"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _phrase_counts(model: TrainedModel) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for phrase in model.phrases:
        source = phrase.source.split(":")[0] if phrase.source.startswith("user:") else phrase.source
        per_label = counts.setdefault(source, {})
        per_label[phrase.label] = per_label.get(phrase.label, 0) + 1
    return counts


def write_version(home: Path, model: TrainedModel, metrics: dict[str, Any]) -> str:
    """Write ``model`` as a new version folder (not promoted).

    Args:
        home: the data directory.
        model: the trained model.
        metrics: evaluation figures to store in the card beside the training metrics.

    Returns:
        The new version's name, ``YYYYMMDDTHHMMSSZ-<random>``: sortable by time.
    """
    import numpy
    import scipy
    import sklearn

    from classifier import weights
    from training.pipeline import to_model

    root = models_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    version = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    staging = root / f".staging-{version}"
    staging.mkdir()
    try:
        weights.save(staging, to_model(model.pipeline))
        with open(staging / PHRASES_FILE, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "source"])
            writer.writerows((p.text, p.label, p.source) for p in model.phrases)
        card = {
            "version": version,
            "created_at": now.isoformat(timespec="seconds"),
            "model_format": MODEL_FORMAT,
            "model_sha256": sha256_file(staging / MODEL_FILE),
            "settings_sha256": sha256_file(staging / SETTINGS_FILE),
            "phrases_sha256": sha256_file(staging / PHRASES_FILE),
            "phrase_counts": _phrase_counts(model),
            "labels": [str(c) for c in model.pipeline[-1].classes_],
            "params": model.params.to_dict(),
            "calibration": model.calibration,
            "strength_band": model.strength_band,
            "evidence": model.evidence,
            "metrics": {**model.metrics, **metrics},
            "versions": {
                "scikit-learn": sklearn.__version__,
                "numpy": numpy.__version__,
                "scipy": scipy.__version__,
                "python": platform.python_version(),
            },
        }
        _write_durably(staging / CARD_FILE, json.dumps(card, indent=2, sort_keys=True) + "\n")
        for name in (MODEL_FILE, SETTINGS_FILE, PHRASES_FILE):
            with open(staging / name, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(staging)
        os.rename(staging, version_dir(home, version))
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return version


def promote(home: Path, version: str) -> None:
    """Make ``version`` the serving one: atomic replace of ``CURRENT``, noted in HISTORY.

    Raises:
        ModelNotFound: no such version.
    """
    read_card(home, version)
    root = models_dir(home)
    temporary = root / f".{CURRENT_FILE}.{secrets.token_hex(4)}"
    _write_durably(temporary, version + "\n")
    os.replace(temporary, root / CURRENT_FILE)
    with open(root / HISTORY_FILE, "a", encoding="utf-8") as handle:
        handle.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {version}\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(root)


def previous_version(home: Path) -> str:
    """The version that served before the serving one, from ``HISTORY``.

    Raises:
        ModelNotFound: nothing served before it.
    """
    serving = current_version(home)
    try:
        lines = (models_dir(home) / HISTORY_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    history = [line.split()[-1] for line in lines if line.strip()]
    last = max((i for i, name in enumerate(history) if name == serving), default=-1)
    for name in reversed(history[:last]):
        if name != serving and name in list_versions(home):
            return name
    raise ModelNotFound(f"no version served before {serving}; nothing to roll back to")


def remove_stale(home: Path) -> list[str]:
    """Delete what interrupted writes left behind (staging folders, temporary CURRENT files).

    Call it only while holding the registry lock, so no write in progress is touched.
    """
    root = models_dir(home)
    stale = [p for p in root.glob(".*") if p.name.startswith((".staging-", f".{CURRENT_FILE}."))]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return [p.name for p in stale]


def prune(home: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest versions, never the serving one or its predecessor.

    Returns:
        The names removed.

    Raises:
        TrainingError: ``keep`` is below 1.
    """
    if keep < 1:
        raise TrainingError("--keep must be at least 1")
    protected = {current_version(home)}
    with contextlib.suppress(ModelNotFound):
        protected.add(previous_version(home))
    versions = list_versions(home)
    doomed = [v for v in versions[: max(0, len(versions) - keep)] if v not in protected]
    for name in doomed:
        trash = models_dir(home) / f".staging-trash-{name}"
        os.rename(version_dir(home, name), trash)
        shutil.rmtree(trash)
    return doomed


def list_versions(home: Path) -> list[str]:
    """Names of the complete version folders, oldest first."""
    root = models_dir(home)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    )
