"""Writing model versions into the registry and moving ``CURRENT``.

A version folder is written under a temporary name, every file fsynced, then renamed into
place, so a half-written version never carries a version name. ``CURRENT`` is replaced
atomically (temporary file, fsync, ``os.replace``, fsync of the folder), and every promotion
is appended to ``models/HISTORY`` so ``rollback`` knows what served before.

Versions have a total creation order: each gets the next number of ``models/SEQUENCE``,
taken under the registry lock (``training.lock``) and kept in its name and card. Listing,
pruning and rollback order by that number, never by the clock, so versions made within the
same second still come out in the order they were made. ``models/SHADOW`` names the shadow
version (if any) and ``models/REFUSED`` notes the versions a retrain wrote but refused.

:func:`rollback` and :func:`prune_registry` take the registry lock themselves. Web workers
call them (and :func:`verified`, through the shadow), so this module imports no scikit-learn.
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
    SHADOW_FILE,
    current_version,
    models_dir,
    read_card,
    sha256_file,
    shadow_version,
    version_dir,
)
from classifier.errors import ArtifactError, ModelNotFound
from classifier.model import RoleClassifier
from training.errors import TrainingError
from training.lock import registry_lock

if TYPE_CHECKING:
    from training.train import TrainedModel

HISTORY_FILE = "HISTORY"
SEQUENCE_FILE = "SEQUENCE"
REFUSED_FILE = "REFUSED"


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


def _sequence_of(card: dict[str, Any]) -> int:
    value = card.get("sequence")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _next_sequence(home: Path) -> int:
    """The next creation number: one more than any recorded in SEQUENCE or in a card."""
    path = models_dir(home) / SEQUENCE_FILE
    try:
        last = int(path.read_text(encoding="utf-8").strip() or 0)
    except (FileNotFoundError, ValueError):
        last = 0
    for name in _version_folders(home):
        with contextlib.suppress(ModelNotFound, ArtifactError):
            last = max(last, _sequence_of(read_card(home, name)))
    temporary = path.with_name(f".{SEQUENCE_FILE}.{secrets.token_hex(4)}")
    _write_durably(temporary, f"{last + 1}\n")
    os.replace(temporary, path)
    return last + 1


def write_version(
    home: Path,
    model: TrainedModel,
    metrics: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
    files: dict[str, bytes] | None = None,
) -> str:
    """Write ``model`` as a new version folder (not promoted).

    Call it while holding the registry lock: the version's creation number is taken here.

    Args:
        home: the data directory.
        model: the trained model.
        metrics: evaluation figures to store in the card beside the training metrics.
        extra: further card entries (who started the training, the drift reference).
        now: the creation time to record (default: the clock).
        files: further files to write into the version folder (plain names: a picture).

    Returns:
        The new version's name, ``YYYYMMDDTHHMMSSZ-<sequence>``.
    """
    import numpy
    import scipy
    import sklearn

    from classifier import weights
    from training.pipeline import to_model

    root = models_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    sequence = _next_sequence(home)
    version = f"{now:%Y%m%dT%H%M%SZ}-{sequence:06d}"
    staging = root / f".staging-{version}"
    staging.mkdir()
    try:
        weights.save(staging, to_model(model.pipeline))
        with open(staging / PHRASES_FILE, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "source"])
            writer.writerows((p.text, p.label, p.source) for p in model.phrases)
        card = {
            **(extra or {}),
            "version": version,
            "sequence": sequence,
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
        for name, data in (files or {}).items():
            if Path(name).name != name or name in (MODEL_FILE, PHRASES_FILE, CARD_FILE):
                raise TrainingError(f"{name!r} cannot be written into a version folder")
            (staging / name).write_bytes(data)
        _write_durably(staging / CARD_FILE, json.dumps(card, indent=2, sort_keys=True) + "\n")
        for name in (MODEL_FILE, SETTINGS_FILE, PHRASES_FILE, *(files or {})):
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
    present = set(_version_folders(home))
    for name in reversed(history[:last]):
        if name != serving and name in present:
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


def set_shadow(home: Path, version: str | None) -> None:
    """Name ``version`` the shadow (atomic replace of ``SHADOW``), or clear it with None.

    Raises:
        ModelNotFound: no such version.
    """
    path = models_dir(home) / SHADOW_FILE
    if version is None:
        path.unlink(missing_ok=True)
        return
    read_card(home, version)
    temporary = path.with_name(f".{SHADOW_FILE}.{secrets.token_hex(4)}")
    _write_durably(temporary, version + "\n")
    os.replace(temporary, path)


def note_refused(home: Path, version: str, reason: str) -> None:
    """Record that a retrain wrote ``version`` but did not promote it, and why."""
    line = f"{datetime.now(UTC).isoformat(timespec='seconds')} {version} {reason}"
    with open(models_dir(home) / REFUSED_FILE, "a", encoding="utf-8") as handle:
        handle.write(" ".join(line.split()) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def refused_versions(home: Path) -> dict[str, str]:
    """Versions a retrain refused to promote, each with the reason noted."""
    try:
        lines = (models_dir(home) / REFUSED_FILE).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    found = {}
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) >= 2:
            found[parts[1]] = parts[2] if len(parts) == 3 else ""
    return found


def protected_versions(home: Path) -> set[str]:
    """Versions that are never pruned: the serving one, its predecessor and the shadow."""
    protected = set()
    with contextlib.suppress(ModelNotFound):
        protected.add(current_version(home))
        protected.add(previous_version(home))
    shadow = shadow_version(home)
    if shadow:
        protected.add(shadow)
    return protected


def prune(home: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest versions, never the serving one, its predecessor
    or the shadow.

    Returns:
        The names removed.

    Raises:
        TrainingError: ``keep`` is below 1.
    """
    if keep < 1:
        raise TrainingError("--keep must be at least 1")
    protected = protected_versions(home)
    versions = list_versions(home)
    doomed = [v for v in versions[: max(0, len(versions) - keep)] if v not in protected]
    for name in doomed:
        trash = models_dir(home) / f".staging-trash-{name}"
        os.rename(version_dir(home, name), trash)
        shutil.rmtree(trash)
    return doomed


def _version_folders(home: Path) -> list[str]:
    root = models_dir(home)
    if not root.is_dir():
        return []
    return [
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
    ]


def _creation_key(home: Path, name: str) -> tuple[int, str, str]:
    try:
        card = read_card(home, name)
    except (ModelNotFound, ArtifactError):  # unreadable: listed first, so pruned first
        return (-1, "", name)
    return (_sequence_of(card), str(card.get("created_at", "")), name)


def list_versions(home: Path) -> list[str]:
    """Names of the complete version folders, oldest first, in creation order.

    The order is the creation number kept in each card; versions written before numbers
    existed (number 0) follow their creation time, then their name.
    """
    return sorted(_version_folders(home), key=lambda name: _creation_key(home, name))


def verified(home: Path, version: str) -> RoleClassifier:
    """Load ``version`` through every check serving applies, and smoke-test it.

    Raises:
        ModelNotFound, ArtifactError: the version cannot serve.
    """
    classifier = RoleClassifier.from_registry(home, version)
    classifier.smoke_test()
    return classifier


def rollback(home: Path, version: str | None = None, wait: bool = False) -> str:
    """Serve ``version`` (default: the one that served before the serving one) again.

    The target is loaded and smoke-tested before ``CURRENT`` moves.

    Returns:
        The version now serving.

    Raises:
        ModelNotFound: no such version, or nothing served before.
        ArtifactError, TrainingError: the target cannot serve; the serving version stays.
        RetrainBusy: a retrain is running and ``wait`` is false.
    """
    with registry_lock(home, wait):
        target = version or previous_version(home)
        verified(home, target)
        promote(home, target)
    return target


def prune_registry(home: Path, keep: int, wait: bool = False) -> list[str]:
    """Remove all but the ``keep`` newest versions under the registry lock; see ``prune``."""
    with registry_lock(home, wait):
        return prune(home, keep)
