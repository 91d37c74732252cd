"""Writing batch results: CSV safe to open in a spreadsheet, or JSON Lines; never half a file.

CSV output is UTF-8 without BOM, RFC 4180 (``\\r\\n`` line ends, quotes only where needed),
every input column kept in order, then :data:`RESULT_COLUMNS`. A cell that a spreadsheet
would run as a formula (first character ``=`` ``+`` ``-`` ``@``, tab or carriage return:
OWASP "CSV injection") gets a leading ``'`` in every column, input columns included.
JSON Lines output is for programs, not spreadsheets: values are written as they are.

An input column whose name is one of :data:`RESULT_COLUMNS` is renamed ``<name>_input``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from service.batch.read import Record, unique_names
from service.batch.score import ScoredRow

RESULT_COLUMNS = (
    "label",
    "verdict",
    "probability_ml_engineering",
    "strength",
    "key_phrases",
    "model_version",
    "error",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PHRASE_SEPARATOR = "; "


def neutralise(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def rfc4180_line(cells: Sequence[str]) -> str:
    """One CSV record as :func:`csv.writer` (``QUOTE_MINIMAL``, ``\\r\\n``) writes it.

    Quotes a cell only when it holds a comma, a quote, CR or LF, doubling inner quotes; with
    ``str`` methods, as the csv module's writer was a batch's largest cost after the model.
    Rows here always have several cells: the csv module's lone-empty-cell case never arises.
    """
    return ",".join(map(_quoted, cells)) + "\r\n"


def _quoted(cell: str) -> str:
    if '"' in cell or "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


def as_cell(value: Any) -> str:
    """A JSON value as CSV text: strings as they are, null empty, the rest as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


def output_names(columns: Sequence[str]) -> dict[str, str]:
    """Input column name → output name, renaming those that clash with result columns."""
    renamed = [f"{c}_input" if c in RESULT_COLUMNS else c for c in columns]
    unique = unique_names([*renamed, *RESULT_COLUMNS])[: len(columns)]
    return dict(zip(columns, unique, strict=True))


class CsvWriter:
    """Writes rows as spreadsheet-safe CSV.

    Args:
        sink: a text stream opened with ``newline=""`` (UTF-8 for files).
        columns: the input's columns.
        model_version: written on every row.
    """

    def __init__(self, sink: TextIO, columns: Sequence[str], model_version: str) -> None:
        self.sink = sink
        self.columns = list(columns)
        self.model_version = neutralise(model_version)
        names = output_names(columns)
        header = [neutralise(names[c]) for c in self.columns] + list(RESULT_COLUMNS)
        sink.write(rfc4180_line(header))

    def write(self, record: Record, result: ScoredRow | None, error: str | None) -> None:
        """Write one row: input cells, then the result columns."""
        values = record.values
        cells = [neutralise(as_cell(values.get(c, ""))) for c in self.columns]
        if result is None:
            cells += ["", "", "", "", ""]
        else:
            probability = repr(result.probability_ml_engineering)
            phrases = neutralise(PHRASE_SEPARATOR.join(result.key_phrases))
            cells += [result.label, result.verdict, probability, result.strength, phrases]
        cells += [self.model_version, neutralise(error or "")]
        self.sink.write(rfc4180_line(cells))


class JsonlWriter:
    """Writes one JSON object per row: the input fields, then the result fields.

    Args:
        sink: a text stream.
        columns: the input's columns (used to rename clashing keys).
        model_version: written on every row.
    """

    def __init__(self, sink: TextIO, columns: Sequence[str], model_version: str) -> None:
        self.sink = sink
        self.names = output_names(columns)
        self.model_version = model_version

    def write(self, record: Record, result: ScoredRow | None, error: str | None) -> None:
        """Write one object."""
        names = self.names
        row = {
            names.get(key, f"{key}_input" if key in RESULT_COLUMNS else key): value
            for key, value in record.values.items()
        }
        # ScoredRow's fields are the first five result columns (a tuple is a JSON list)
        scored = [getattr(result, c) for c in RESULT_COLUMNS[:5]] if result else [None] * 5
        row.update(zip(RESULT_COLUMNS, [*scored, self.model_version, error], strict=True))
        self.sink.write(json.dumps(row, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[str]:
    """Yield the name of a temporary file beside ``path``, renamed to ``path`` at the end.

    The temporary file (``.<name>.<random>.part``) is removed if the block raises or is
    interrupted, so ``path`` either appears complete or does not appear (and an older file
    of that name stays as it was).
    """
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    os.close(descriptor)
    try:
        yield temporary
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_text_file(path: Path) -> Iterator[TextIO]:
    """:func:`atomic_file` as a UTF-8 text stream opened with ``newline=""``, synced to disk
    before the rename; unencodable characters (lone surrogates) are written as ``?``."""
    with (
        atomic_file(Path(path)) as temporary,
        open(temporary, "w", encoding="utf-8", errors="replace", newline="") as handle,
    ):
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
