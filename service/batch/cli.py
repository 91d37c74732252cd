"""``rolelens batch IN -o OUT``: a thin shell over :mod:`service.batch.run`.

Kept out of ``service/cli.py`` so the command line's other commands and this one change
independently; ``cli.py`` imports it only when ``rolelens batch`` runs (``LAZY_COMMANDS``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.batch import extra
from service.batch.read import FORMATS
from service.batch.run import BatchOptions, Table, open_table, run_batch
from service.batch.score import KEY_PHRASES, MAX_KEY_PHRASES, Scorer
from service.batch.summary import BatchSummary
from service.batch.write import atomic_text_file
from service.config import data_home, fixtures_home
from service.errors import BadInput
from service.first_model import ensure_model

if TYPE_CHECKING:  # imported when a bar is drawn: most runs draw none
    from tqdm import tqdm

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
ALL_FORMATS = (*FORMATS, "parquet")


class Interrupted(click.ClickException):
    """Stopped by Ctrl-C or SIGTERM: exit 130, no output file left behind."""

    exit_code = 130


def _format_of(name: str) -> str | None:
    return EXTENSIONS.get(Path(name).suffix.lower())  # None for "-", which has no suffix


@contextlib.contextmanager
def _input(source: str, options: BatchOptions) -> Iterator[tuple[Table, int | None]]:
    """The table of ``source`` (a path, or - for stdin) and its size in bytes when known."""
    parquet = options.input_format == "parquet"
    if source == "-":
        if parquet:
            raise BadInput("Parquet input must be a file, not stdin; give its path")
        yield open_table(sys.stdin.buffer, options, name=source), None
        return
    path = Path(source)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise BadInput(f"{source} {what}; give a CSV or JSON Lines file, or - for stdin")
    if parquet:
        from service.batch.parquet import open_parquet_table  # needs the optional pyarrow

        yield open_parquet_table(path, options, source), path.stat().st_size
        return
    with open(path, "rb") as handle:
        yield open_table(handle, options, name=source), os.fstat(handle.fileno()).st_size


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C, so the temporary output file is removed."""
    try:
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread (an embedding server): nothing to restore
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Bar:
    """Rows, rows/s and (when the input's size is known) ETA on stderr; created lazily,
    after the worker processes have started."""

    def __init__(self, quiet: bool, size: int | None = None) -> None:
        self.size = size
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar: tqdm[Any] | None = None

    def __call__(self, rows: int, bytes_read: int = 0, postfix: str = "") -> None:
        if not self.enabled:
            return
        bar = self.bar
        if bar is None:
            from tqdm import tqdm  # here: see TYPE_CHECKING above

            bar = self.bar = tqdm(total=None, unit=" rows", file=sys.stderr, dynamic_ncols=True)
        if self.size and bytes_read:
            bar.total = max(rows, round(rows * self.size / bytes_read))
        if postfix:
            bar.set_postfix_str(postfix, refresh=False)
        bar.update(rows - bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary(summary: BatchSummary, target: str) -> str:
    verdicts = ", ".join(f"{v} {count:,}" for v, count in summary.per_verdict.items())
    lines = [
        f"{summary.rows_read:,} rows read, {summary.classified:,} classified ({verdicts}), "
        f"{summary.errors:,} with errors"
        + (f", {summary.notes:,} with notes" if summary.notes else ""),
        f"encoding {summary.encoding}; {summary.input_format} in, {summary.output_format} out; "
        f"model {summary.model_version}",
        f"{summary.elapsed:.1f} s, {summary.rows_per_second:,.0f} rows/s; "
        f"written to {'stdout' if target == '-' else target}",
    ]
    return "\n".join(lines + [f"  {line}" for line in summary.first_errors])


def _run(
    table: Table, source: str, target: str, scorer: Scorer, options: BatchOptions, bar: _Bar
) -> BatchSummary:
    """The batch into ``target``: stdout, or a file that appears whole or not at all."""
    parquet = (options.output_format or table.reader.format) == "parquet"
    if target == "-":
        if parquet:
            raise BadInput("Parquet output must go to a file, not stdout; give OUT a path")
        stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="")
        try:
            return run_batch(table, stdout, scorer, options, progress=bar)
        finally:
            stdout.flush()
            stdout.detach()
    path = Path(target)
    if not path.parent.is_dir():
        raise BadInput(f"the folder of {target} does not exist; create it or choose another OUT")
    if source != "-" and path.exists() and path.samefile(source):
        raise BadInput(f"OUT is the input file {source}; the input is never overwritten")
    if parquet:
        from service.batch.parquet import run_to_parquet  # needs the optional pyarrow

        return run_to_parquet(table, path, scorer, options, progress=bar)
    with atomic_text_file(path) as sink:
        return run_batch(table, sink, scorer, options, progress=bar)


@click.command("batch")
@click.argument("sources", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "-o",
    "--output",
    "target",
    required=True,
    metavar="OUT",
    help="Where to write the results (- for stdout); with --engine dask, a folder.",
)
@click.option(
    "--text-column",
    help="Column holding the posting (default: the first of "
    "description, job_description, text, posting, body).",
)
@click.option("--title-column", help="Column holding a job title, prepended to the text.")
@click.option("--id-column", help="Column naming each row in error messages.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(ALL_FORMATS),
    help="Output format (default: from OUT's extension, else the input's).",
)
@click.option(
    "--input-format",
    type=click.Choice(ALL_FORMATS),
    help="Input format (default: from IN's extension, else sniffed).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes (default: the number of CPUs).",
)
@click.option(
    "--key-phrases",
    type=click.IntRange(0, MAX_KEY_PHRASES),
    default=KEY_PHRASES,
    show_default=True,
    metavar="N",
    help="Key phrases per row: the first N that `rolelens classify` lists for the text.",
)
@click.option(
    "--engine",
    type=click.Choice(("local", "dask")),
    default="local",
    show_default=True,
    help="local: processes of this machine. dask: a Dask cluster (part files in OUT).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (default: a cluster of --jobs "
    "processes on this machine).",
)
@click.option(
    "--partition-rows",
    type=click.IntRange(min=1),
    metavar="N",
    help="With --engine dask: rows per partition and part file (default 5000).",
)
@click.option("--overwrite", is_flag=True, help="With --engine dask: replace an existing OUT.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def batch(
    sources: tuple[str, ...],
    target: str,
    text_column: str | None,
    title_column: str | None,
    id_column: str | None,
    fmt: str | None,
    input_format: str | None,
    jobs: int | None,
    key_phrases: int,
    engine: str,
    scheduler: str | None,
    partition_rows: int | None,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Classify every posting of CSV, JSON Lines or Parquet INPUT into OUT (- for
    stdin/stdout). With --engine dask, INPUT may be several files, globs or folders."""
    options = BatchOptions(
        text_column=text_column,
        title_column=title_column,
        id_column=id_column,
        input_format=input_format,
        output_format=fmt,
        jobs=jobs or os.cpu_count() or 1,
    )
    if engine == "dask":
        from service.batch.dask_cli import batch_on_dask

        batch_on_dask(
            sources, target, options, scheduler, partition_rows, key_phrases, overwrite, quiet
        )
        return
    for flag, given in (("--scheduler", scheduler), ("--overwrite", overwrite)):
        if given:
            raise BadInput(f"{flag} goes with --engine dask; the local engine writes one OUT")
    if partition_rows is not None:
        raise BadInput("--partition-rows goes with --engine dask")
    if len(sources) != 1:
        raise BadInput("the local engine reads one INPUT; give --engine dask for several")
    source = sources[0]
    options = dataclasses.replace(
        options,
        input_format=input_format or _format_of(source),
        output_format=fmt or _format_of(target),
    )
    if "parquet" in (options.input_format, options.output_format):
        extra.require("parquet")
    with _input(source, options) as (table, size):
        ensure_model(data_home(), fixtures_home())
        scorer = Scorer.from_registry(data_home(), key_phrases=key_phrases)
        bar = _Bar(quiet, size)
        try:
            with _sigterm_as_interrupt():
                summary = _run(table, source, target, scorer, options, bar)
        except KeyboardInterrupt:
            left = "stdout got part of the output" if target == "-" else f"{target} was not written"
            raise Interrupted(f"interrupted; {left}") from None
        except (OSError, BrokenExecutor) as exc:  # disk full, a worker killed for memory...
            message = f"the batch failed and {target} was not written: {exc}"
            raise click.ClickException(message) from None
        finally:
            bar.close()
    if not quiet:
        click.echo(_summary(summary, target), err=True)
