"""What the serving workers saw, shared between them: one SQLite file in the data directory.

``monitor.sqlite`` (WAL mode) holds two tables that every gunicorn worker writes to and any
worker reads, so ``/api/v1/models/shadow`` and ``/api/v1/drift`` answer for the whole
service whichever worker takes the request:

- ``shadow_calls``: one row per posting scored by both the serving and the shadow version
  (hash of the posting, both labels and probabilities; the text only when asked to keep it);
- ``drift_window``: the drift measures of recent postings per serving version, trimmed to
  the newest ``window`` rows.

Each thread of each process opens its own connection on first use and keeps it (nothing is
shared across a fork); every write is one short transaction, so a worker that dies
mid-write leaves nothing locked.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.drift import Observation

FILE = "monitor.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS shadow_calls (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, shadow TEXT NOT NULL, serving TEXT NOT NULL,
    posting TEXT NOT NULL, serving_label TEXT NOT NULL, shadow_label TEXT NOT NULL,
    p_serving REAL NOT NULL, p_shadow REAL NOT NULL, agree INTEGER NOT NULL, text TEXT
);
CREATE TABLE IF NOT EXISTS drift_window (
    id INTEGER PRIMARY KEY, version TEXT NOT NULL,
    p_ml REAL NOT NULL, oov_share REAL NOT NULL, role_coverage REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS drift_by_version ON drift_window (version, id);
"""


@dataclass(frozen=True)
class ShadowCall:
    """One posting scored by both versions; probabilities are P(ml_engineering)."""

    posting: str
    serving: str
    serving_label: str
    shadow_label: str
    p_serving: float
    p_shadow: float
    text: str | None = None

    @property
    def agree(self) -> bool:
        return self.serving_label == self.shadow_label

    def figures(self) -> tuple[float, float, int, str | None]:
        return (self.p_serving, self.p_shadow, int(self.agree), self.text)


def _close_all(connections: list[sqlite3.Connection]) -> None:
    for db in connections:
        db.close()


class MonitorStore:
    """The shared record of shadow calls and drift measures under the data directory."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILE
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []  # closed when the store goes away
        weakref.finalize(self, _close_all, self._opened)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, opened on first use in this process and then kept.

        Closing the last connection to a WAL database checkpoints it and fsyncs (about 20 ms
        here); a kept connection makes a write about 0.3 ms.
        """
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            self._opened.append(db)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            self._local.db, self._local.pid = db, os.getpid()
        yield db

    def record_shadow(self, shadow: str, calls: Sequence[ShadowCall]) -> None:
        """Add the calls scored by ``shadow``."""
        now = time.time()
        rows = [
            (now, shadow, c.serving, c.posting, c.serving_label, c.shadow_label, *c.figures())
            for c in calls
        ]
        with self._connect() as db:
            db.executemany(
                "INSERT INTO shadow_calls (at, shadow, serving, posting, serving_label, "
                "shadow_label, p_serving, p_shadow, agree, text) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )

    def clear_shadow(self) -> None:
        """Forget every shadow call: a new shadow starts from zero."""
        with self._connect() as db:
            db.execute("DELETE FROM shadow_calls")

    def shadow_summary(self, shadow: str, last: int = 20) -> dict[str, Any]:
        """``n``, ``agreement``, ``mean_abs_delta_p`` and the ``last`` disagreements."""
        with self._connect() as db:
            n, agreed, delta = db.execute(
                "SELECT COUNT(*), SUM(agree), AVG(ABS(p_shadow - p_serving)) "
                "FROM shadow_calls WHERE shadow = ?",
                (shadow,),
            ).fetchone()
            rows = db.execute(
                "SELECT at, posting, serving, serving_label, shadow_label, p_serving, p_shadow, "
                "text FROM shadow_calls WHERE shadow = ? AND agree = 0 ORDER BY id DESC LIMIT ?",
                (shadow, last),
            ).fetchall()
        keys = "at posting serving_version serving_label shadow_label p_serving p_shadow text"
        disagreements = [
            {k: v for k, v in zip(keys.split(), row, strict=True) if k != "text" or v is not None}
            for row in rows
        ]
        return {
            "n": n,
            "agreement": round(agreed / n, 4) if n else None,
            "mean_abs_delta_p": round(delta, 4) if n else None,
            "disagreements": disagreements,
        }

    def record_drift(self, version: str, observations: Sequence[Observation], window: int) -> None:
        """Add ``observations`` for ``version``, and drop rows beyond the newest ``window``."""
        rows = [(version, o.p_ml, o.oov_share, o.role_coverage) for o in observations]
        with self._connect() as db:
            db.executemany(
                "INSERT INTO drift_window (version, p_ml, oov_share, role_coverage) "
                "VALUES (?,?,?,?)",
                rows,
            )
            last = int(db.execute("SELECT last_insert_rowid()").fetchone()[0])
            if last % 100 < len(rows):  # now and then: trimming is cheap but not free
                db.execute("DELETE FROM drift_window WHERE id <= ?", (last - 2 * window,))

    def drift_window(self, version: str, window: int) -> list[Observation]:
        """The newest ``window`` observations made while ``version`` served."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT p_ml, oov_share, role_coverage FROM drift_window WHERE version = ? "
                "ORDER BY id DESC LIMIT ?",
                (version, window),
            ).fetchall()
        return [Observation(*row) for row in rows]
