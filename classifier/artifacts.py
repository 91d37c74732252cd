"""Reading model versions from the registry, refusing anything altered or foreign.

Layout under the data directory (``ROLELENS_HOME``)::

    models/CURRENT                 one line: the serving version's name
    models/<version>/model.json    vocabulary and settings (see ``classifier.weights``)
    models/<version>/model.npz     idf, coefficients, intercept: plain arrays, no pickle
    models/<version>/phrases.csv   the training phrases (text, label, source)
    models/<version>/card.json     provenance, checksums, versions, metrics, band edges

Nothing loaded runs code: the model is arrays and JSON (pickle files are code, so a version
holding a ``model.joblib`` is refused, with the command that converts one you trust).
:func:`load_version` reads only files whose sha256 matches the card beside it, written with
the same scikit-learn version, inside the registry: version names cannot hold a path, and a
version folder or file that is a symbolic link (which could point anywhere) is refused.
The writer lives in ``training.registry``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from classifier.errors import ArtifactError, ModelNotFound
from classifier.labels import TrainingPhrase

if TYPE_CHECKING:
    from classifier.weights import LinearModel

MODEL_FORMAT = 1
MODEL_FILE = "model.npz"
SETTINGS_FILE = "model.json"
LEGACY_MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
PHRASES_FILE = "phrases.csv"
CURRENT_FILE = "CURRENT"
PLOT_FILE = "validation.png"  # reliability diagram and ROC curve, drawn at training
SHADOW_FILE = "SHADOW"  # names the version that scores live traffic beside the serving one
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,99}$")


@dataclass(frozen=True)
class LoadedVersion:
    """A verified model version: its arrays, card and training phrases."""

    version: str
    model: LinearModel
    card: dict[str, Any]
    phrases: tuple[TrainingPhrase, ...]


def models_dir(home: Path) -> Path:
    """The registry folder under the data directory ``home``."""
    return Path(home) / "models"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def version_dir(home: Path, version: str) -> Path:
    """The folder of ``version``, refusing names that could leave the registry.

    Raises:
        ModelNotFound: the name is not a plain version name.
        ArtifactError: the folder is a symbolic link.
    """
    if not VERSION_RE.match(version) or version in {".", ".."}:
        raise ModelNotFound(
            f"{version!r} is not a version name (letters, digits, '.', '_', '-'); "
            "see `rolelens models list`"
        )
    folder = models_dir(home) / version
    _refuse_link(folder, f"model version {version!r}")
    return folder


def _refuse_link(path: Path, what: str) -> None:
    """Refuse a symbolic link: it could lead out of the registry to a file it never wrote."""
    if path.is_symlink():
        raise ArtifactError(
            f"{what} is a symbolic link ({path} -> {os.readlink(path)}); only files the "
            "registry wrote inside it are loaded: remove the link and retrain or roll back"
        )


def current_version(home: Path) -> str:
    """The name of the serving version, from ``models/CURRENT``.

    Raises:
        ModelNotFound: no model has been promoted yet.
    """
    path = models_dir(home) / CURRENT_FILE
    try:
        name = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ModelNotFound(
            f"no model in {models_dir(home)}; train one with `rolelens train`"
        ) from None
    if not name:
        raise ModelNotFound(f"{path} is empty; train a model with `rolelens train`")
    return name


def shadow_version(home: Path) -> str | None:
    """The version named in ``models/SHADOW``, or None when no shadow is set."""
    try:
        name = (models_dir(home) / SHADOW_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def read_card(home: Path, version: str) -> dict[str, Any]:
    """The parsed ``card.json`` of ``version``.

    Raises:
        ModelNotFound: no such version folder.
        ArtifactError: the card is missing or is not valid JSON.
    """
    folder = version_dir(home, version)
    if not folder.is_dir():
        raise ModelNotFound(f"no model version {version!r}; see `rolelens models list`")
    _refuse_link(folder / CARD_FILE, f"{CARD_FILE} of model version {version!r}")
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"model version {version!r} has an unreadable {CARD_FILE} ({exc}); "
            "it was not written completely or was altered: retrain or roll back"
        ) from None
    if not isinstance(card, dict) or card.get("version") != version:
        raise ArtifactError(f"{CARD_FILE} of {version!r} does not describe that version")
    return card


def _verify(folder: Path, name: str, expected: object, version: str) -> None:
    path = folder / name
    _refuse_link(path, f"{name} of model version {version!r}")
    if not path.is_file():
        raise ArtifactError(f"model version {version!r} has no {name}; retrain or roll back")
    actual = sha256_file(path)
    if actual != expected:
        raise ArtifactError(
            f"{name} of model version {version!r} does not match its card "
            f"(sha256 {actual[:12]}…, card says {str(expected)[:12]}…); "
            "the file was altered or not written completely: refusing to load it"
        )


def load_version(home: Path, version: str) -> LoadedVersion:
    """Load one version after checking its format, checksums and scikit-learn version.

    Args:
        home: the data directory.
        version: a version name from ``models list``.

    Returns:
        The verified version.

    Raises:
        ModelNotFound: no such version.
        ArtifactError: the version is in the old pickle format, or a checksum or the
            scikit-learn version does not match the card.
    """
    from importlib import metadata  # the installed scikit-learn's version, not sklearn itself

    from classifier import weights  # numpy: only once a model is loaded

    card = read_card(home, version)
    folder = version_dir(home, version)
    if card.get("model_format") != MODEL_FORMAT:
        if (folder / LEGACY_MODEL_FILE).exists() or "model_format" not in card:
            raise ArtifactError(
                f"model version {version!r} is stored in the old pickle format "
                f"({LEGACY_MODEL_FILE}), which runs code when loaded, so it is refused. "
                f"If you trust that file, convert it with `rolelens models migrate {version} "
                "--trust`, or retrain with `rolelens train`"
            )
        raise ArtifactError(
            f"model version {version!r} has model format {card.get('model_format')!r}; "
            f"this rolelens reads format {MODEL_FORMAT}: retrain it with `rolelens train`"
        )
    _verify(folder, MODEL_FILE, card.get("model_sha256"), version)
    _verify(folder, SETTINGS_FILE, card.get("settings_sha256"), version)
    _verify(folder, PHRASES_FILE, card.get("phrases_sha256"), version)
    trained_with = card.get("versions", {}).get("scikit-learn")
    try:
        installed: str | None = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        installed = None
    if trained_with != installed:
        raise ArtifactError(
            f"model version {version!r} was trained with scikit-learn {trained_with}, "
            f"this is {installed}; retrain it with `rolelens train`"
        )
    with open(folder / PHRASES_FILE, encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        phrases = tuple(TrainingPhrase(row["text"], row["label"], row["source"]) for row in rows)
    return LoadedVersion(version, weights.load(folder, version), card, phrases)


def load_current(home: Path) -> LoadedVersion:
    """Load the serving version named by ``models/CURRENT``; see :func:`load_version`."""
    return load_version(home, current_version(home))
