"""Parquet in and out, for the local engine and the Dask engine alike (needs ``rolelens[scale]``).

Reading: a Parquet file's rows become :class:`~service.batch.read.Record` values, read a
batch of rows at a time (optionally only some row groups, which is how the Dask engine cuts a
file into partitions). Values that JSON cannot hold (dates, decimals, bytes) become text.

Writing: the rows are what :class:`~service.batch.write.JsonlWriter` writes, so every engine
and format shows the same columns and values; :class:`ParquetSink` turns that JSON Lines text
into row groups. The columns are the CSV output's: the input's (renamed where they clash with
a result column), then :data:`~service.batch.write.RESULT_COLUMNS`. Input columns keep their
Parquet type when it is text, a number or a boolean, else they are text, as they are from
CSV or JSON Lines; ``probability_ml_engineering`` is a double and ``key_phrases`` a list of
strings. Parquet is for programs, so no cell is neutralised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from service.batch.errors import UnusableInput
from service.batch.read import Record, unique_names
from service.batch.run import BatchOptions, BatchRun, Progress, Table, table_of
from service.batch.score import Scorer
from service.batch.summary import BatchSummary
from service.batch.write import RESULT_COLUMNS, as_cell, atomic_file, output_names

BATCH_ROWS = 1024  # rows decoded at a time
ROW_GROUP_ROWS = 8192  # rows per written row group
RESULT_TYPES = {"probability_ml_engineering": pa.float64(), "key_phrases": pa.list_(pa.string())}


def _plain(value: Any) -> Any:
    """A Parquet value as a JSON value: numbers, text, booleans, lists and objects as they
    are; anything else (dates, decimals, bytes) as text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _kept_type(kind: pa.DataType) -> pa.DataType:
    """The output type of an input column of type ``kind``: itself if simple, else text."""
    simple = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    return kind if simple else pa.string()


class ParquetReader:
    """Records of a Parquet file, or of some of its row groups; also the table's lines, as
    the summary and the progress bar see them (no text encoding).

    Args:
        path: the file (Parquet needs random access: not a pipe).
        name: what to call it in messages.
        row_groups: the row groups to read, in order (default: all).
        first_number: the number of the first record read (records count from 1).

    Raises:
        UnusableInput: the file is not Parquet or cannot be read.
    """

    format = "parquet"
    encoding = "none (Parquet)"

    def __init__(
        self,
        path: Path,
        name: str,
        row_groups: Sequence[int] | None = None,
        first_number: int = 1,
    ) -> None:
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise UnusableInput(
                f"{name} is not a readable Parquet file ({exc}); give a Parquet file, or "
                "a CSV or JSON Lines file with --input-format"
            ) from None
        schema = self.file.schema_arrow
        self.columns = unique_names(schema.names)
        self.types = {
            column: _kept_type(schema.field(i).type) for i, column in enumerate(self.columns)
        }
        metadata = self.file.metadata
        groups = range(metadata.num_row_groups) if row_groups is None else row_groups
        self.row_groups = list(groups)
        self.rows: int = max(1, sum(metadata.row_group(i).num_rows for i in self.row_groups))
        self.size = os.path.getsize(path)
        self.rows_read = 0
        self.first_number = first_number

    @property
    def bytes_read(self) -> int:
        """The share of the file's bytes that the rows read so far stand for."""
        return self.size * self.rows_read // self.rows

    def __iter__(self) -> Iterator[Record]:
        number = self.first_number
        if not self.row_groups:
            return
        for batch in self.file.iter_batches(batch_size=BATCH_ROWS, row_groups=self.row_groups):
            columns = [column.to_pylist() for column in batch.columns]
            for values in zip(*columns, strict=True):
                yield Record(number, dict(zip(self.columns, map(_plain, values), strict=True)))
                number += 1
            self.rows_read += batch.num_rows


def open_parquet_table(
    path: Path,
    options: BatchOptions,
    name: str,
    row_groups: Sequence[int] | None = None,
    first_number: int = 1,
) -> Table:
    """The table of a Parquet file (or of some of its row groups), columns settled.

    Raises:
        UnusableInput: the file is not Parquet, or the columns asked for are not in it.
    """
    reader = ParquetReader(path, name, row_groups, first_number)
    return table_of(reader, reader, options)


def column_types(table: Table) -> dict[str, pa.DataType]:
    """The Parquet type of each input column of ``table`` (text unless read from Parquet)."""
    reader = table.reader
    return dict(reader.types) if isinstance(reader, ParquetReader) else {}


class ParquetSink:
    """JSON Lines text in (as :class:`~service.batch.write.JsonlWriter` writes it), Parquet
    row groups out.

    Args:
        path: the file to write.
        columns: the input's columns.
        types: Parquet types of input columns; a column not named here is text.
    """

    def __init__(
        self, path: str | Path, columns: Sequence[str], types: Mapping[str, pa.DataType]
    ) -> None:
        names = output_names(columns)
        fields = [pa.field(names[c], types.get(c, pa.string())) for c in columns]
        fields += [pa.field(c, RESULT_TYPES.get(c, pa.string())) for c in RESULT_COLUMNS]
        self.schema = pa.schema(fields)
        self.writer = pq.ParquetWriter(str(path), self.schema)
        self.partial = ""
        self.rows: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        """Take some JSON Lines text; whole lines become rows."""
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        self.rows.extend(json.loads(line) for line in lines if line)
        if len(self.rows) >= ROW_GROUP_ROWS:
            self.flush()
        return len(text)

    def flush(self) -> None:
        """Write the rows taken so far as one row group."""
        if not self.rows:
            return
        arrays = [
            pa.array([_cell(row.get(field.name), field.type) for row in self.rows], field.type)
            for field in self.schema
        ]
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))
        self.rows = []

    def close(self) -> None:
        """Write what is left and the file's footer."""
        self.write("\n")
        self.flush()
        self.writer.close()


def _cell(value: Any, kind: pa.DataType) -> Any:
    if value is None or not pa.types.is_string(kind):
        return value
    return value if isinstance(value, str) else as_cell(value)


@contextlib.contextmanager
def parquet_file(
    path: Path, columns: Sequence[str], types: Mapping[str, pa.DataType]
) -> Iterator[ParquetSink]:
    """A :class:`ParquetSink` writing to a temporary file beside ``path``, renamed to it at
    the end; removed if the block raises, so ``path`` appears whole or not at all."""
    with atomic_file(path) as temporary:
        sink = ParquetSink(temporary, columns, types)
        try:
            yield sink
        finally:
            sink.close()


def run_to_parquet(
    table: Table,
    path: Path,
    scorer: Scorer,
    options: BatchOptions,
    progress: Progress | None = None,
) -> BatchSummary:
    """:func:`~service.batch.run.run_batch` into a Parquet file at ``path``.

    Returns:
        The run's summary.
    """
    run = BatchRun(table, scorer, dataclasses.replace(options, output_format="jsonl"), progress)
    with parquet_file(path, table.reader.columns, column_types(table)) as sink:
        for piece in run:
            sink.write(piece)
    assert run.summary is not None  # set when the iteration above ends
    return dataclasses.replace(run.summary, output_format="parquet")
