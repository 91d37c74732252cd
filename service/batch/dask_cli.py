"""``rolelens batch INPUT... -o OUTDIR --engine dask``: a thin shell over
:mod:`service.batch.dask_engine`, called by :mod:`service.batch.cli`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from service.batch import extra
from service.batch.cli import Interrupted, _summary
from service.batch.errors import MissingExtra, UnusableInput
from service.batch.run import BatchOptions
from service.batch.score import Scorer
from service.config import data_home
from service.errors import BadInput


class _Bar:
    """Partitions and rows done, on stderr."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm[Any] | None = None

    def __call__(self, partitions: int, rows: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=None, unit=" rows", file=sys.stderr, dynamic_ncols=True)
        self.bar.set_postfix_str(f"{partitions:,} partitions", refresh=False)
        self.bar.update(rows - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def batch_on_dask(
    sources: tuple[str, ...],
    target: str,
    options: BatchOptions,
    scheduler: str | None,
    partition_rows: int | None,
    key_phrases: int,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Check the inputs and OUTDIR, then run the batch on a Dask cluster."""
    try:
        extra.require("dask")
    except MissingExtra as exc:
        raise BadInput(str(exc)) from None
    # these import dask: only once it is known to be there
    from service.batch import dask_engine
    from service.batch.dask_worker import ModelFiles

    outdir = Path(target)
    try:
        inputs = dask_engine.expand_inputs(sources)
        for path in inputs:  # every input's header, before any work starts
            with dask_engine.open_input(path, options):
                pass
        dask_engine.prepare_outdir(outdir, overwrite)
    except UnusableInput as exc:
        raise BadInput(str(exc)) from None
    scorer = Scorer.from_registry(data_home(), key_phrases=key_phrases)
    model = ModelFiles.read(data_home(), scorer.version)
    bar = _Bar(enabled=not quiet and sys.stderr.isatty())
    try:
        with dask_engine.connect(scheduler, options.jobs) as client:
            summary = dask_engine.run_on_dask(
                client,
                inputs,
                outdir,
                model,
                options,
                key_phrases,
                partition_rows or dask_engine.PARTITION_ROWS,
                progress=bar,
            )
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; {outdir} has no _SUCCESS") from None
    except UnusableInput as exc:
        raise BadInput(f"{exc}; {outdir} has no _SUCCESS") from None
    except Exception as exc:  # a worker lost too often, the scheduler unreachable, a full disk
        message = f"the batch failed and {outdir} has no _SUCCESS: {type(exc).__name__}: {exc}"
        raise click.ClickException(message) from None
    finally:
        bar.close()
    if not quiet:
        click.echo(_summary(summary, str(outdir)), err=True)
