"""The phrase store: users' labeled phrases in SQLite, deduplicated, audited, never lost.

One file, ``$ROLELENS_HOME/phrases.sqlite3``, in WAL mode with ``synchronous=FULL``: an add
that returned has been committed to disk, whatever happens to the process afterwards.
Phrases are compared on normalised text (case, punctuation, spacing); a phrase already known
with the same label is a no-op, with the other label a conflict. Removal is soft. Every
change is written to the ``audit`` table in the same transaction as the change itself.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifier.labels import LABELS, PACKS, TrainingPhrase
from training.errors import PhraseNotFound, TrainingError
from training.phrases import load_packs, normalise

STORE_FILE = "phrases.sqlite3"
MIN_CHARS, MAX_CHARS = 3, 300
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")

# Each entry migrates the schema from version i to i + 1 (PRAGMA user_version).
MIGRATIONS = (
    """
    CREATE TABLE phrases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        text TEXT NOT NULL,
        norm TEXT NOT NULL,
        label TEXT NOT NULL,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL,
        removed_at TEXT
    );
    CREATE UNIQUE INDEX phrases_active_norm ON phrases(norm) WHERE removed_at IS NULL;
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        phrase_id INTEGER,
        text TEXT NOT NULL,
        label TEXT NOT NULL,
        who TEXT NOT NULL,
        model_version TEXT
    );
    """,
)


@dataclass(frozen=True)
class StoredPhrase:
    """A phrase in the store."""

    id: int
    text: str
    label: str
    source: str
    created_at: str
    removed_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AddResult:
    """What adding one phrase did: ``added``, ``duplicate``, ``conflict`` or ``invalid``."""

    status: str
    text: str
    label: str
    message: str
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditEntry:
    """One change: what was done to which phrase, by whom, under which serving model."""

    at: str
    action: str
    phrase_id: int | None
    text: str
    label: str
    who: str
    model_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_phrase(text: object, label: object) -> str | None:
    """Why ``text``/``label`` cannot be stored, or None if they can."""
    if label not in LABELS:
        return f"unknown label {label!r}; use one of: {', '.join(LABELS)}"
    if not isinstance(text, str):
        return "the phrase must be text"
    if any(unicodedata.category(ch) == "Cc" for ch in text.strip()):
        return "the phrase contains control characters (tabs, newlines…); use one plain line"
    length = len(text.strip())
    if not MIN_CHARS <= length <= MAX_CHARS:
        return f"the phrase has {length} characters; use {MIN_CHARS} to {MAX_CHARS}"
    if not normalise(text):
        return "the phrase has no words"
    return None


#: The largest phrase id SQLite can store (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def check_name(who: str) -> str:
    """Return ``who`` if it is a usable author name.

    Raises:
        TrainingError: with the characters allowed.
    """
    if not _NAME.match(who):
        raise TrainingError(f"name {who!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return who


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class PhraseStore:
    """Users' labeled phrases under the data directory ``home``.

    Args:
        home: the data directory (created if missing).
        known: phrases from the shipped packs, by normalised text, so a user phrase that
            contradicts a pack phrase is refused as a conflict too.
    """

    def __init__(self, home: Path, known: Mapping[str, TrainingPhrase] | None = None) -> None:
        Path(home).mkdir(parents=True, exist_ok=True)
        self.path = Path(home) / STORE_FILE
        self.known = dict(known or {})
        with self._connect() as db:
            self._migrate(db)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _audit(
        self,
        db: sqlite3.Connection,
        action: str,
        phrase_id: int | None,
        text: str,
        label: str,
        who: str,
        model_version: str | None,
    ) -> None:
        db.execute(
            "INSERT INTO audit (at, action, phrase_id, text, label, who, model_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_now(), action, phrase_id, text, label, who, model_version),
        )

    def _add_one(
        self, db: sqlite3.Connection, text: str, label: str, who: str, model_version: str | None
    ) -> AddResult:
        problem = check_phrase(text, label)
        if problem:
            return AddResult("invalid", str(text), str(label), problem)
        text = text.strip()
        norm = normalise(text)
        row = db.execute(
            "SELECT id, text, label FROM phrases WHERE norm = ? AND removed_at IS NULL", (norm,)
        ).fetchone()
        existing = (row[1], row[2], f"phrase {row[0]}") if row else None
        if existing is None and norm in self.known:
            pack = self.known[norm]
            existing = (pack.text, pack.label, f"the {pack.source} pack")
        if existing is not None:
            known_text, known_label, where = existing
            if known_label == label:
                return AddResult(
                    "duplicate",
                    text,
                    label,
                    f"already known as {where}: {known_text!r}; nothing added",
                    row[0] if row else None,
                )
            return AddResult(
                "conflict",
                text,
                label,
                f"{text!r} ({label}) conflicts with {where}, {known_text!r} ({known_label}); "
                "remove that one first if it is wrong",
                row[0] if row else None,
            )
        cursor = db.execute(
            "INSERT INTO phrases (text, norm, label, source, created_at) VALUES (?, ?, ?, ?, ?)",
            (text, norm, label, f"user:{who}", _now()),
        )
        phrase_id = int(cursor.lastrowid or 0)
        self._audit(db, "add", phrase_id, text, label, who, model_version)
        return AddResult("added", text, label, f"added as phrase {phrase_id}", phrase_id)

    def add_many(
        self,
        rows: Iterable[tuple[str, str]],
        who: str,
        model_version: str | None = None,
        atomic: bool = False,
    ) -> list[AddResult]:
        """Add ``(text, label)`` rows, each committed on its own unless ``atomic``.

        Args:
            rows: phrases and labels.
            who: the author's name; stored as source ``user:<who>``.
            model_version: the serving version, for the audit trail.
            atomic: add all or nothing: any invalid or conflicting row rolls back every row.

        Returns:
            One result per row, in order (with ``atomic`` and a bad row, ``added`` rows are
            reported as ``rolled back``).

        Raises:
            TrainingError: ``who`` is not a usable name.
        """
        check_name(who)
        results: list[AddResult] = []
        with self._connect() as db:
            if atomic:
                db.execute("BEGIN IMMEDIATE")
            for text, label in rows:
                if not atomic:
                    db.execute("BEGIN IMMEDIATE")
                results.append(self._add_one(db, text, label, who, model_version))
                if not atomic:
                    db.execute("COMMIT")
            if atomic:
                if any(r.status in ("invalid", "conflict") for r in results):
                    db.execute("ROLLBACK")
                    results = [
                        AddResult(
                            "rolled back",
                            r.text,
                            r.label,
                            "not added: --atomic and another row was refused",
                        )
                        if r.status == "added"
                        else r
                        for r in results
                    ]
                else:
                    db.execute("COMMIT")
        return results

    def add(self, text: str, label: str, who: str, model_version: str | None = None) -> AddResult:
        """Add one phrase; see :meth:`add_many`."""
        return self.add_many([(text, label)], who, model_version)[0]

    def remove(self, phrase_id: int, who: str, model_version: str | None = None) -> StoredPhrase:
        """Soft-remove a phrase (kept in history, no longer trained on).

        Raises:
            PhraseNotFound: no active phrase with that id.
        """
        check_name(who)
        if not 0 < phrase_id <= MAX_ID:  # SQLite cannot even compare a larger integer
            raise PhraseNotFound(f"no phrase {phrase_id} in the store; see `rolelens phrases list`")
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT id, text, label FROM phrases WHERE id = ? AND removed_at IS NULL",
                (phrase_id,),
            ).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                raise PhraseNotFound(
                    f"no phrase {phrase_id} in the store; see `rolelens phrases list`"
                )
            db.execute("UPDATE phrases SET removed_at = ? WHERE id = ?", (_now(), phrase_id))
            self._audit(db, "remove", phrase_id, row[1], row[2], who, model_version)
            db.execute("COMMIT")
        return self.get(phrase_id)

    def get(self, phrase_id: int) -> StoredPhrase:
        """One phrase by id, removed or not.

        Raises:
            PhraseNotFound: no such id.
        """
        with self._connect() as db:
            row = db.execute(
                "SELECT id, text, label, source, created_at, removed_at FROM phrases WHERE id = ?",
                (phrase_id,),
            ).fetchone()
        if row is None:
            raise PhraseNotFound(f"no phrase {phrase_id} in the store")
        return StoredPhrase(*row)

    def list_phrases(
        self, label: str | None = None, source: str | None = None, include_removed: bool = False
    ) -> list[StoredPhrase]:
        """Phrases in id order, filtered by label and/or source."""
        query = "SELECT id, text, label, source, created_at, removed_at FROM phrases WHERE 1=1"
        args: list[str] = []
        if not include_removed:
            query += " AND removed_at IS NULL"
        if label:
            query += " AND label = ?"
            args.append(label)
        if source:
            query += " AND source = ?"
            args.append(source)
        with self._connect() as db:
            return [StoredPhrase(*row) for row in db.execute(query + " ORDER BY id", args)]

    def training_phrases(self) -> list[TrainingPhrase]:
        """The active phrases, as training data."""
        return [TrainingPhrase(p.text, p.label, p.source) for p in self.list_phrases()]

    def history(self, limit: int | None = None) -> list[AuditEntry]:
        """Audit entries, newest first."""
        query = "SELECT at, action, phrase_id, text, label, who, model_version FROM audit"
        query += " ORDER BY id DESC" + (f" LIMIT {int(limit)}" if limit else "")
        with self._connect() as db:
            return [AuditEntry(*row) for row in db.execute(query)]


def open_store(home: Path, fixtures: Path | None = None) -> PhraseStore:
    """The phrase store under ``home``, checking new phrases against the shipped packs too.

    Args:
        home: the data directory.
        fixtures: the folder holding ``phrases/`` (default: the project's ``fixtures/``).
    """
    return PhraseStore(home, {normalise(p.text): p for p in load_packs(PACKS, fixtures)})
