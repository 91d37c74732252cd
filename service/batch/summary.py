"""What a batch run did: counts per label and verdict, errors, encoding, speed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from classifier.labels import VERDICTS
from service.batch.read import Record


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did."""

    rows_read: int
    classified: int
    per_label: dict[str, int]
    per_verdict: dict[str, int]
    errors: int
    notes: int
    encoding: str
    input_format: str
    output_format: str
    elapsed: float
    model_version: str
    first_errors: tuple[str, ...] = field(default=())

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of the whole run."""
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return {
            "rows_read": self.rows_read,
            "classified": self.classified,
            "per_label": dict(self.per_label),
            "per_verdict": dict(self.per_verdict),
            "errors": self.errors,
            "notes": self.notes,
            "encoding": self.encoding,
            "input_format": self.input_format,
            "output_format": self.output_format,
            "elapsed_seconds": round(self.elapsed, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "model_version": self.model_version,
            "first_errors": list(self.first_errors),
        }


class Tally:
    """Counts kept while a batch runs, turned into a :class:`BatchSummary` at the end."""

    def __init__(self, labels: tuple[str, str]) -> None:
        self.rows = 0
        self.per_label: Counter[str] = Counter(dict.fromkeys(labels, 0))
        self.per_verdict: Counter[str] = Counter(dict.fromkeys(VERDICTS, 0))
        self.errors = 0
        self.notes = 0
        self.first_errors: list[str] = []

    def error(self, record: Record, message: str, id_column: str | None) -> None:
        """Count a row that was not classified; keep the first five messages."""
        self.errors += 1
        if len(self.first_errors) < 5:
            ident = record.values.get(id_column) if id_column else None
            where = f"row {record.number}" + (f" (id {ident})" if ident not in (None, "") else "")
            self.first_errors.append(f"{where}: {message}")
