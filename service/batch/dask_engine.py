"""``rolelens batch --engine dask``: the local batch pipeline, run partition by partition on a
Dask cluster (needs ``rolelens[scale]``).

The client reads CSV and JSON Lines inputs itself, with the local engine's reader (one
streaming pass: encodings, quoted newlines and ragged rows are read exactly as locally), and
cuts the records into partitions that travel inside their tasks, so a partition whose worker
dies is simply run again elsewhere. A Parquet input is cut by row groups, which the workers
read from the file themselves. Each task runs :class:`~service.batch.run.BatchRun` on its
partition and writes ``part-NNNNN.<format>`` through a temporary name; the task's summary
comes back and the client adds them up in partition order, which gives the same counts and
first errors as a local run. ``_SUCCESS`` is written last.

The model goes to the cluster once (:mod:`service.batch.dask_worker`): the files of its
version folder, as bytes with their sha256, inside a worker plugin. Each worker (a restarted
one too) checks the sums, writes the files to a folder of its own and loads the version from
there once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dask
from distributed import Client, LocalCluster, as_completed

from service.batch.dask_worker import (
    PLUGIN,
    ModelFiles,
    ModelPlugin,
    Partition,
    part_name,
    score_partition,
)
from service.batch.errors import UnusableInput
from service.batch.run import BatchOptions, Table, open_table
from service.batch.summary import BatchSummary
from service.batch.write import atomic_text_file

PARTITION_ROWS = 5000
PARTITION_CHARS = 4_000_000  # a partition travels inside its task: keep it a few MB
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
SUCCESS = "_SUCCESS"
LOCAL_CONFIG = {"distributed.diagnostics.nvml": False}  # no GPU probing in each worker

Progress = Callable[[int, int], None]  # (partitions done, rows done)


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """Files named by ``patterns``: files, globs, or folders (their CSV, JSON Lines and Parquet
    files, by name). Each file once, in the order given, a glob's and a folder's sorted.

    Raises:
        UnusableInput: a pattern names nothing usable.
    """
    found: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            matches = [p for p in sorted(path.iterdir()) if p.suffix.lower() in EXTENSIONS]
            what = f"the folder {pattern} holds no .csv, .jsonl or .parquet file"
        elif glob.has_magic(pattern):
            matches = [Path(p) for p in sorted(glob.glob(pattern)) if Path(p).is_file()]
            what = f"{pattern} matches no file"
        else:
            matches = [path] if path.is_file() else []
            what = f"{pattern} does not exist"
        if not matches:
            raise UnusableInput(f"{what}; give CSV, JSON Lines or Parquet files")
        found += [p for p in matches if p not in found]
    return found


def input_format(path: Path, options: BatchOptions) -> str | None:
    """The format of ``path``: ``--input-format``, else its extension, else sniffed."""
    return options.input_format or EXTENSIONS.get(path.suffix.lower())


@contextlib.contextmanager
def open_input(path: Path, options: BatchOptions) -> Iterator[Table]:
    """The table of one input, header read and columns settled.

    Raises:
        UnusableInput: as for a local run, with the file named.
    """
    fmt = input_format(path, options)
    if fmt == "parquet":
        from service.batch.parquet import open_parquet_table

        yield open_parquet_table(path, options, str(path))
        return
    with open(path, "rb") as stream:
        yield open_table(stream, dataclasses.replace(options, input_format=fmt), str(path))


def prepare_outdir(outdir: Path, overwrite: bool) -> None:
    """Create ``outdir``, or empty it of an earlier run's files when ``overwrite``.

    Raises:
        UnusableInput: it exists and ``overwrite`` is not set, or it is a file.
    """
    if outdir.exists() and not outdir.is_dir():
        raise UnusableInput(f"{outdir} is a file; OUT of --engine dask is a folder")
    if outdir.exists():
        if not overwrite:
            raise UnusableInput(
                f"{outdir} exists; give --overwrite to replace its part files, "
                "or choose another OUT"
            )
        for old in [*outdir.glob("part-*"), *outdir.glob(".part-*"), outdir / SUCCESS]:
            old.unlink(missing_ok=True)
    if not outdir.parent.is_dir():
        raise UnusableInput(f"the folder of {outdir} does not exist; create it first")
    outdir.mkdir(exist_ok=True)


def partitions(
    inputs: Sequence[Path], options: BatchOptions, rows: int, encodings: dict[str, str]
) -> Iterator[Partition]:
    """Cut every input into partitions of at most ``rows`` records, in order.

    A CSV or JSON Lines input is read here; ``encodings`` gets each one's encoding once it is
    read to the end. Every input gives at least one partition (a header-only file gives an
    empty one, as it gives a header-only file locally).
    """
    index = 0
    for path in inputs:
        with open_input(path, options) as table:
            reader = table.reader
            columns = tuple(reader.columns)
            if reader.format == "parquet":
                parts = _row_groups(path.absolute(), reader, columns, rows, index)
                yield from parts
                index += len(parts)
            else:
                first, batch, chars = index, [], 0
                for record in reader:
                    batch.append(record)
                    chars += sum(len(v) for v in record.values.values() if isinstance(v, str))
                    if len(batch) >= rows or chars >= PARTITION_CHARS:
                        yield Partition(index, str(path), reader.format, columns, tuple(batch))
                        index, batch, chars = index + 1, [], 0
                if batch or index == first:
                    yield Partition(index, str(path), reader.format, columns, tuple(batch))
                    index += 1
            encodings[str(path)] = table.lines.encoding


def _row_groups(
    path: Path, reader: Any, columns: tuple[str, ...], rows: int, index: int
) -> list[Partition]:
    """A Parquet input's row groups gathered into partitions of about ``rows`` rows (whole
    groups), numbered from ``index``; a file without row groups gives one empty partition."""
    metadata = reader.file.metadata
    cuts: list[list[int]] = [[]]
    size = 0
    for group in range(metadata.num_row_groups):
        if size >= rows:
            cuts.append([])
            size = 0
        cuts[-1].append(group)
        size += metadata.row_group(group).num_rows
    parts = []
    number = 1
    for offset, groups in enumerate(cuts):
        parts.append(
            Partition(index + offset, str(path), "parquet", columns, (), tuple(groups), number)
        )
        number += sum(metadata.row_group(g).num_rows for g in groups)
    return parts


def merge(summaries: Sequence[BatchSummary], **fixed: Any) -> BatchSummary:
    """The partitions' summaries added up in order, as one run's; ``fixed`` fields as given.

    Numbers add up, counts by name add up, lists of first errors join (the first five kept),
    text fields take their distinct values in order.
    """
    values: dict[str, Any] = {}
    for field in dataclasses.fields(BatchSummary):
        items = [getattr(s, field.name) for s in summaries]
        if field.name in fixed:
            values[field.name] = fixed[field.name]
        elif all(isinstance(i, int | float) for i in items):
            values[field.name] = sum(items)
        elif all(isinstance(i, dict) for i in items):
            total: Counter[str] = Counter()
            for item in items:
                total.update(item)
            values[field.name] = dict(total)
        elif all(isinstance(i, tuple) for i in items):
            values[field.name] = tuple(x for i in items for x in i)[:5]
        else:
            values[field.name] = ", ".join(dict.fromkeys(str(i) for i in items if i))
    return BatchSummary(**values)


def run_on_dask(
    client: Client,
    inputs: Sequence[Path],
    outdir: Path,
    model: ModelFiles,
    options: BatchOptions,
    key_phrases: int,
    partition_rows: int = PARTITION_ROWS,
    progress: Progress | None = None,
) -> BatchSummary:
    """Classify ``inputs`` on the cluster of ``client`` into part files under ``outdir``.

    Args:
        client: a connected client.
        inputs: files (see :func:`expand_inputs`), checked with :func:`open_input`.
        outdir: the output folder, made by :func:`prepare_outdir`.
        model: the version to use, sent to every worker once.
        options: columns and output format (default: the first input's format).
        key_phrases: key phrases per row.
        partition_rows: records per partition.
        progress: called after each partition with (partitions done, rows done).

    Returns:
        The summary of the whole run, also written to ``outdir/_SUCCESS`` (last).

    Raises:
        UnusableInput: an input turned out unreadable; no ``_SUCCESS`` is written.
    """
    started = time.perf_counter()
    output_format = options.output_format
    client.register_plugin(ModelPlugin(model, key_phrases), name=PLUGIN)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    run = uuid.uuid4().hex[:8]
    done: dict[int, BatchSummary] = {}
    encodings: dict[str, str] = {}
    formats: list[str] = []
    pending = as_completed()

    def collect(future: Any) -> None:
        summary: BatchSummary = future.result()
        done[int(future.key.rsplit("-", 1)[1])] = summary
        if progress is not None:
            progress(len(done), sum(s.rows_read for s in done.values()))

    try:
        for part in partitions(inputs, options, partition_rows, encodings):
            formats.append(part.input_format)
            output_format = output_format or part.input_format
            key = f"rolelens-{run}-{part.index}"
            pending.add(
                client.submit(
                    score_partition, part, options, str(outdir.absolute()), output_format, key=key
                )
            )
            while pending.count() >= 2 * workers:
                collect(next(pending))
        for future in pending:
            collect(future)
    except BaseException:
        client.cancel(list(pending.futures))
        raise
    finally:  # the workers of a shared cluster drop their copy of the model
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(PLUGIN)
    assert output_format is not None  # every input gives a partition
    for stray in outdir.glob(".part-*"):  # left by a worker killed while writing
        stray.unlink(missing_ok=True)
    summary = merge(
        [done[i] for i in sorted(done)],
        encoding=", ".join(dict.fromkeys(encodings.values())),
        input_format=", ".join(dict.fromkeys(formats)),
        output_format=output_format,
        elapsed=time.perf_counter() - started,
        model_version=model.version,
    )
    report = {
        **summary.to_dict(),
        "engine": "dask",
        "inputs": [str(p) for p in inputs],
        "parts": [part_name(i, output_format) for i in sorted(done)],
        "workers": workers,
    }
    with atomic_text_file(outdir / SUCCESS) as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    return summary


@contextlib.contextmanager
def connect(scheduler: str | None, jobs: int) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster of ``jobs``
    single-threaded worker processes listening on 127.0.0.1 only."""
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except ValueError as exc:  # not an address at all
            raise UnusableInput(
                f"--scheduler {scheduler!r} is not an address ({exc}); "
                "give the one `dask scheduler` prints, such as tcp://10.0.0.5:8786"
            ) from None
        with client:
            yield client
        return
    with (
        dask.config.set(LOCAL_CONFIG),
        LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            # distributed finds its own address by opening a socket towards a public one
            # unless it is given a host: everything listens on the loopback, on free ports
            # (its HTTP server too, which it starts even without a dashboard).
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address=None,
            silence_logs=logging.CRITICAL,  # not the heartbeat errors of workers as it stops
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
