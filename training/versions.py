"""What each model version is: what it learned from, how it scored, who made it, its role now.

One summary per version, read from its card and the registry's pointer files, shared by
``rolelens models list|show`` and ``GET /api/v1/models``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.artifacts import current_version, read_card, shadow_version
from classifier.errors import ArtifactError, ModelNotFound
from classifier.labels import LABELS, PACKS
from training.registry import list_versions, previous_version, refused_versions

VALIDATION_FIGURES = ("n", "accuracy", "macro_f1", "roc_auc", "brier", "ece")


@dataclass(frozen=True)
class VersionInfo:
    """One version in plain terms.

    ``phrases`` counts the training phrases per pack and label (the seed pack's phrases are
    recorded per seed document in the card and added up here); ``roles`` lists what the
    version is now: ``serving``, ``previous`` (what rollback would return to), ``shadow``,
    ``refused`` (a retrain wrote it but would not promote it). ``problem`` says why a version
    cannot be read at all.
    """

    version: str
    sequence: int | None = None
    created_at: str | None = None
    packs: tuple[str, ...] = ()
    phrases: dict[str, dict[str, int]] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    started_by: dict[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    refused_because: str | None = None
    problem: str | None = None

    @property
    def serving(self) -> bool:
        return "serving" in self.roles

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "sequence": self.sequence,
            "created_at": self.created_at,
            "packs": list(self.packs),
            "phrases": self.phrases,
            "validation": self.validation,
            "validation_macro_f1": self.validation.get("macro_f1"),
            "started_by": self.started_by,
            "roles": list(self.roles),
            "serving": self.serving,
            "shadow": "shadow" in self.roles,
            "refused": "refused" in self.roles,
            "refused_because": self.refused_because,
            **({"problem": self.problem} if self.problem else {}),
        }

    def summary(self) -> str:
        """One line for ``models list``."""
        if self.problem:
            return f"{self.version}  UNREADABLE: {self.problem}"
        counts = ", ".join(
            f"{pack} {'/'.join(str(per.get(label, 0)) for label in LABELS)}"
            for pack, per in self.phrases.items()
        )
        f1 = self.validation.get("macro_f1")
        who = f"{self.started_by.get('via', '?')}:{self.started_by.get('by', '?')}"
        roles = f"  [{', '.join(self.roles)}]" if self.roles else ""
        return (
            f"{self.version}  {self.created_at}  phrases ({'/'.join(LABELS)}): {counts}  "
            f"validation macro-F1 {f1 if f1 is None else f'{f1:.3f}'}  by {who}{roles}"
        )


def _pack_of(source: str) -> str:
    return source if source in (*PACKS, "user") else "seed"


def _phrases(card: dict[str, Any]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    counts = card.get("phrase_counts", {})
    for source, per_label in counts.items() if isinstance(counts, dict) else ():
        pack = totals.setdefault(_pack_of(str(source)), {})
        for label, count in per_label.items():
            pack[label] = pack.get(label, 0) + int(count)
    return dict(sorted(totals.items()))


def _roles(home: Path) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    with contextlib.suppress(ModelNotFound):
        roles.setdefault(current_version(home), []).append("serving")
        roles.setdefault(previous_version(home), []).append("previous")
    shadow = shadow_version(home)
    if shadow:
        roles.setdefault(shadow, []).append("shadow")
    return roles


def describe(home: Path, version: str, roles_of: dict[str, list[str]] | None = None) -> VersionInfo:
    """The summary of ``version``.

    Args:
        home: the data directory.
        version: a version name.
        roles_of: the registry's roles by version, when already read (see ``describe_all``).

    Raises:
        ModelNotFound: no such version.
        ArtifactError: its card cannot be read.
    """
    card = read_card(home, version)
    roles = list((roles_of if roles_of is not None else _roles(home)).get(version, []))
    refused = refused_versions(home).get(version)
    if refused is not None:
        roles.append("refused")
    metrics = card.get("metrics", {})
    validation = metrics.get("validation") or {}
    packs = card.get("packs") or metrics.get("packs") or []
    sequence = card.get("sequence")
    return VersionInfo(
        version=version,
        sequence=sequence if isinstance(sequence, int) else None,
        created_at=card.get("created_at"),
        packs=tuple(str(p) for p in packs),
        phrases=_phrases(card),
        validation={k: validation.get(k) for k in VALIDATION_FIGURES if k in validation},
        started_by=dict(card.get("started_by") or {"via": "unknown", "by": "-"}),
        roles=tuple(roles),
        refused_because=refused,
    )


def describe_all(home: Path) -> list[VersionInfo]:
    """Every version, newest first; an unreadable one is listed with its ``problem``."""
    roles = _roles(home)
    found = []
    for name in reversed(list_versions(home)):
        try:
            found.append(describe(home, name, roles))
        except ArtifactError as exc:
            found.append(VersionInfo(name, roles=tuple(roles.get(name, [])), problem=str(exc)))
    return found
