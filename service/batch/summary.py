"""What a batch run did: counts per label and verdict, errors, encoding, speed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from classifier.labels import LABELS, VERDICTS
from service.batch.read import Record


@dataclass
class BatchSummary:
    """What a batch run did: counted row by row while it runs, then given the run's encoding,
    formats, time and model version."""

    rows_read: int = 0
    per_label: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LABELS, 0))
    per_verdict: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    errors: int = 0
    notes: int = 0
    encoding: str = ""
    input_format: str = ""
    output_format: str = ""
    elapsed: float = 0.0
    model_version: str = ""
    first_errors: tuple[str, ...] = ()

    @property
    def classified(self) -> int:
        """Rows that got a label."""
        return sum(self.per_label.values())

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of the whole run."""
        return self.rows_read / self.elapsed if self.elapsed > 0 else 0.0

    def error(self, record: Record, message: str, id_column: str | None) -> None:
        """Count a row that was not classified; keep the first five messages."""
        self.errors += 1
        if len(self.first_errors) < 5:
            ident = record.values.get(id_column) if id_column else None
            where = f"row {record.number}" + (f" (id {ident})" if ident not in (None, "") else "")
            self.first_errors += (f"{where}: {message}",)

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
