"""Reading batch inputs: CSV (any common dialect) or JSON Lines, one record at a time.

CSV: the delimiter (``,`` ``;`` or tab) is the one the header line uses most, outside
quotes; quoted fields may hold newlines and be of any size; blank and duplicate header names
are made unique (``column_3``, ``id_2``); short rows are padded, long rows keep their first
fields and say so in :attr:`Record.problem`. JSON Lines: one object per line; the first
object's keys are the columns.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from service.batch.errors import UnusableInput

TEXT_COLUMNS = ("description", "job_description", "text", "posting", "body")
DELIMITERS = (",", ";", "\t")
QUOTED = re.compile(r'"[^"]*"')
FORMATS = ("csv", "jsonl")


@dataclass(frozen=True, slots=True)
class Record:
    """One input row: its values by column, and what was wrong with its shape, if anything.

    ``number`` counts data rows from 1 (the CSV header and blank lines are not counted).
    """

    number: int
    values: dict[str, Any]
    problem: str | None = None


def unique_names(names: Sequence[str]) -> list[str]:
    """Header names made usable: blanks become ``column_<n>``, repeats get ``_2``, ``_3``…

    Args:
        names: the header as read.

    Returns:
        As many names, all different and non-blank, in the same order.
    """
    taken = {name.strip() for name in names if name.strip()}
    seen: dict[str, None] = {}  # the names given so far, in order
    for position, raw in enumerate(names, start=1):
        name = raw.strip() or f"column_{position}"
        if name in seen:
            suffix = 2
            while f"{name}_{suffix}" in seen or f"{name}_{suffix}" in taken:
                suffix += 1
            name = f"{name}_{suffix}"
        seen[name] = None
    return list(seen)


def find_column(columns: Sequence[str], wanted: str | None, option: str) -> str | None:
    """The column named ``wanted`` (exactly, else ignoring case and spaces); None if not asked.

    Raises:
        UnusableInput: no such column; the message lists the columns and the option to use.
    """
    if not wanted or wanted in columns:
        return wanted
    folded = {c.strip().casefold(): c for c in reversed(columns)}
    found = folded.get(wanted.strip().casefold())
    if found is None:
        raise UnusableInput(
            f"column {wanted!r} not found; columns are: {', '.join(columns) or '(none)'} "
            f"(use {option})"
        )
    return found


def default_text_column(columns: Sequence[str]) -> str:
    """The first of :data:`TEXT_COLUMNS` present (ignoring case).

    Raises:
        UnusableInput: none is present; the message lists the columns.
    """
    folded = {c.strip().casefold(): c for c in reversed(columns)}
    for name in TEXT_COLUMNS:
        if name in folded:
            return folded[name]
    raise UnusableInput(
        f"no text column: none of {', '.join(TEXT_COLUMNS)} is among the columns "
        f"{', '.join(columns) or '(none)'}; name the posting column with --text-column"
    )


class TableReader:
    """Records of a CSV or JSON Lines input, read lazily.

    Args:
        lines: decoded lines with their ends (see :class:`service.batch.decode.DecodedLines`).
        fmt: ``"csv"``, ``"jsonl"``, or ``None`` to take JSON Lines when the first
            non-blank line starts with ``{``.
        name: what to call the input in messages.

    Raises:
        UnusableInput: the input is empty, or is not in the format asked for.
    """

    def __init__(self, lines: Iterable[str], fmt: str | None = None, name: str = "input"):
        lines = iter(lines)
        first = next((line for line in lines if line.strip()), None)  # blank lines skipped
        if first is None:
            raise UnusableInput(f"{name} is empty: it needs a header row and posting rows")
        if fmt is None:
            fmt = "jsonl" if first.lstrip().startswith("{") else "csv"
        self.format = fmt
        self._lines = itertools.chain([first], lines)
        if fmt == "csv":
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
            # The delimiter the header uses most outside quotes; the first (",") when none.
            delimiter = max(DELIMITERS, key=QUOTED.sub("", first).count)
            self._csv = csv.reader(self._lines, delimiter=delimiter)
            try:
                header = next(self._csv)
            except csv.Error as exc:  # e.g. a lone carriage return inside the header
                raise UnusableInput(
                    f"{name} does not start with a readable CSV header row ({exc}); save it "
                    "as CSV with one header line of column names and retry"
                ) from None
            self.columns = unique_names(header)
        else:
            try:
                self._first: dict[str, Any] = json.loads(next(self._lines))
            except ValueError as exc:
                raise UnusableInput(
                    f"{name} is not JSON Lines: line 1 is not JSON ({exc}); "
                    "give one JSON object per line, or a CSV file"
                ) from None
            if not isinstance(self._first, dict):
                raise UnusableInput(f"{name} is not JSON Lines: line 1 is not a JSON object")
            self.columns = unique_names([str(key) for key in self._first])

    def __iter__(self) -> Iterator[Record]:
        return self._csv_records() if self.format == "csv" else self._json_records()

    def _csv_records(self) -> Iterator[Record]:
        columns, width, number = self.columns, len(self.columns), 0
        while True:
            try:
                row = next(self._csv)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield Record(number, {}, f"could not read this row as CSV ({exc})")
                continue
            if not row:
                continue
            number += 1
            problem = None
            if len(row) > width:
                problem = (
                    f"row has {len(row)} fields but the header has {width}; "
                    f"the last {len(row) - width} were dropped"
                )
            yield Record(number, dict(zip(columns, row, strict=False)), problem)

    def _json_records(self) -> Iterator[Record]:
        yield Record(1, self._first)
        number = 1
        for line in self._lines:
            if not line.strip():
                continue
            number += 1
            try:
                values = json.loads(line)
                if not isinstance(values, dict):
                    raise ValueError("the line is not a JSON object")
            except ValueError as exc:
                yield Record(number, {}, f"record {number} is not a JSON object ({exc})")
                continue
            yield Record(number, values)
