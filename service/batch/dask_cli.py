"""``rolelens batch INPUT... -o OUTDIR --engine dask``: a thin shell over
:mod:`service.batch.dask_engine`, called by :mod:`service.batch.cli`."""

from __future__ import annotations

from pathlib import Path

import click

from service.batch import extra
from service.batch.cli import Interrupted, _Bar, _summary
from service.batch.errors import UnusableInput
from service.batch.run import BatchOptions
from service.batch.score import Scorer
from service.config import data_home
from service.errors import BadInput


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
    extra.require("dask")
    # these import dask: only once it is known to be there
    from service.batch import dask_engine
    from service.batch.dask_worker import ModelFiles

    outdir = Path(target)
    inputs = dask_engine.expand_inputs(sources)
    for path in inputs:  # every input's header, before any work starts
        with dask_engine.open_input(path, options):
            pass
    dask_engine.prepare_outdir(outdir, overwrite)
    scorer = Scorer.from_registry(data_home(), key_phrases=key_phrases)
    model = ModelFiles.read(data_home(), scorer.version)
    bar = _Bar(quiet)
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
                progress=lambda parts, rows: bar(rows, postfix=f"{parts:,} partitions"),
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
