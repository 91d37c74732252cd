"""Running a batch: a stream of input bytes in, a stream of result rows out, in input order.

The HTTP service, the command line and each Dask partition share this module.
:func:`open_table` reads only the header, so an unusable input is refused before anything is
written. :class:`BatchRun` reads records in chunks of :attr:`BatchOptions.chunk_rows` rows
(fewer when texts are long), scores each chunk with :class:`service.batch.score.Scorer` (in
``jobs`` worker processes when asked, each holding the model once), and writes rows in input
order. At most twice ``jobs`` chunks are held at once: memory stays the same whatever the
input's size.
"""

from __future__ import annotations

import io
import multiprocessing
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, TextIO

from service.batch.decode import DecodedLines
from service.batch.read import Record, TableReader, default_text_column, find_column
from service.batch.score import ScoredRow, Scorer
from service.batch.summary import BatchSummary
from service.batch.write import CsvWriter, JsonlWriter

Progress = Callable[[int, int], None]
Item = tuple[Record, str | None, str | None]  # a record, and its text to score or its error
Scored = list[ScoredRow] | Future[list[ScoredRow]]  # a chunk's results, or a worker's promise
_WORKER_SCORER: Scorer | None = None  # in worker processes only, set by _install


@dataclass(frozen=True)
class BatchOptions:
    """How to read the input and how to run."""

    text_column: str | None = None
    title_column: str | None = None
    id_column: str | None = None
    input_format: str | None = None
    output_format: str | None = None
    jobs: int = 1
    chunk_rows: int = 256
    chunk_chars: int = 4_000_000
    max_chars: int | None = None  # a longer posting is that row's error, not classified


class Lines(Protocol):
    """Where a table's records come from, as the summary and the progress bar see it."""

    @property
    def encoding(self) -> str: ...

    @property
    def bytes_read(self) -> int: ...


class Reader(Protocol):
    """A table's records (:class:`TableReader`, or a Parquet file's row groups)."""

    format: str
    columns: list[str]

    def __iter__(self) -> Iterator[Record]: ...


@dataclass(frozen=True)
class Table:
    """An input whose header has been read and whose columns are settled."""

    lines: Lines
    reader: Reader
    text_column: str
    title_column: str | None
    id_column: str | None


def open_table(source: BinaryIO, options: BatchOptions, name: str = "input") -> Table:
    """Read the header of ``source`` and settle which columns hold the posting.

    Args:
        source: binary stream of a CSV or JSON Lines file (a file, a pipe, a request body).
        options: column names and input format.
        name: what to call the input in messages.

    Returns:
        The table, ready for :func:`run_batch`.

    Raises:
        UnusableInput: the input is binary or empty, or a named column is missing, or no
            text column can be found; the message lists the columns.
    """
    lines = DecodedLines(source, name)
    return table_of(lines, TableReader(lines, options.input_format, name), options)


def table_of(lines: Lines, reader: Reader, options: BatchOptions) -> Table:
    """The table of ``reader`` with its text, title and id columns settled from ``options``.

    Raises:
        UnusableInput: a named column is missing, or no text column can be found.
    """
    columns = reader.columns
    return Table(
        lines,
        reader,
        find_column(columns, options.text_column, "--text-column") or default_text_column(columns),
        find_column(columns, options.title_column, "--title-column"),
        find_column(columns, options.id_column, "--id-column"),
    )


def _posting(record: Record, table: Table, max_chars: int | None) -> tuple[str | None, str | None]:
    """The text to classify for ``record``, or the error that stops it."""
    values = record.values
    if not values and record.problem:
        return None, record.problem
    text = values.get(table.text_column)
    if text is not None and not isinstance(text, str):
        return None, f"column {table.text_column!r} holds {type(text).__name__}, not text"
    if not text or not text.strip():
        return None, f"no text in column {table.text_column!r}"
    if table.title_column:
        title = values.get(table.title_column)
        if isinstance(title, str) and title.strip():
            text = f"{title}\n{text}"
    if max_chars is not None and len(text) > max_chars:
        return None, f"the posting is {len(text)} characters; the limit is {max_chars}"
    return text, None


def chunks(table: Table, options: BatchOptions) -> Iterator[list[Item]]:
    """The records of ``table``, each with its text or its error, in chunks of
    ``options.chunk_rows``, or fewer once their texts reach ``options.chunk_chars`` characters."""
    chunk: list[Item] = []
    held = 0
    for record in table.reader:
        text, error = _posting(record, table, options.max_chars)
        chunk.append((record, text, error))
        held += len(text or "")
        if len(chunk) >= options.chunk_rows or held >= options.chunk_chars:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


@dataclass
class BatchRun:
    """A batch as an iterator of output text: the header, then one piece per chunk.

    For a server that streams its response: iterate and send each piece; closing the
    iterator early (a client that went away) stops the worker processes. After the last
    piece, :attr:`summary` holds the counts.

    Args:
        table: from :func:`open_table`.
        scorer: the model to use; with ``options.jobs > 1`` it is copied to each worker.
        options: output format, jobs and chunk sizes.
        progress: called after each chunk with (rows done, input bytes read).
    """

    table: Table
    scorer: Scorer
    options: BatchOptions
    progress: Progress | None = None
    summary: BatchSummary | None = field(default=None, init=False)

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        table, scorer, options = self.table, self.scorer, self.options
        output_format = options.output_format or table.reader.format
        buffer = io.StringIO(newline="")
        kind = JsonlWriter if output_format == "jsonl" else CsvWriter
        writer = kind(buffer, table.reader.columns, scorer.version)
        summary = BatchSummary(
            input_format=table.reader.format,
            output_format=output_format,
            model_version=scorer.version,
        )
        pool = worker_pool(scorer, options.jobs) if options.jobs > 1 else None

        def drain(chunk: list[Item], results: Scored) -> str:
            """Write each record of ``chunk`` with its result (one per text) or its error."""
            scored = iter(results.result() if isinstance(results, Future) else results)
            for record, _, error in chunk:
                summary.rows_read += 1
                if error is not None:
                    summary.error(record, error, table.id_column)
                    writer.write(record, None, error)
                    continue
                result = next(scored)
                summary.per_label[result.label] += 1
                summary.per_verdict[result.verdict] += 1
                summary.notes += record.problem is not None
                writer.write(record, result, record.problem)
            if self.progress is not None:
                self.progress(summary.rows_read, table.lines.bytes_read)
            return _take(buffer)

        pending: deque[tuple[list[Item], Scored]] = deque()
        try:
            header = _take(buffer)
            if header:
                yield header
            for chunk in chunks(table, options):
                texts = [text for _, text, _ in chunk if text is not None]
                scored = pool.submit(score_in_worker, texts) if pool else scorer.score(texts)
                pending.append((chunk, scored))
                while len(pending) >= 2 * options.jobs:
                    yield drain(*pending.popleft())
            while pending:
                yield drain(*pending.popleft())
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        summary.encoding = table.lines.encoding
        summary.elapsed = time.perf_counter() - started
        self.summary = summary


def _install(scorer: Scorer) -> None:
    """Worker initializer: hold the model once; leave Ctrl-C to the parent, which cleans up."""
    global _WORKER_SCORER  # one per worker process: the pool's initializer sets it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER_SCORER = scorer


def score_in_worker(texts: list[str]) -> list[ScoredRow]:
    """Score a chunk in a worker process with the scorer its initializer installed."""
    assert _WORKER_SCORER is not None, "worker started without its initializer"
    return _WORKER_SCORER.score(texts)


def worker_pool(scorer: Scorer, jobs: int) -> Executor:
    """A pool of ``jobs`` processes, each holding ``scorer``; submit :func:`score_in_worker`."""
    # fork starts workers in milliseconds with the loaded model already in memory; where
    # fork is not offered, spawn sends each worker the scorer's registry folder and version
    # (see Scorer.__reduce__) and the worker loads and verifies that version once.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(jobs, context, initializer=_install, initargs=(scorer,))


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def run_batch(
    table: Table,
    sink: TextIO,
    scorer: Scorer,
    options: BatchOptions,
    progress: Progress | None = None,
) -> BatchSummary:
    """Run :class:`BatchRun` (same arguments) into ``sink``, a text stream (CSV wants
    ``newline=""``), and return its summary: counts, timings and the encoding read."""
    run = BatchRun(table, scorer, options, progress)
    sink.writelines(run)
    assert run.summary is not None  # set when the iteration above ends
    return run.summary
