"""The worker side of ``--engine dask``: the model sent once, and one partition scored.

What runs here runs in Dask worker processes, on whatever machines the cluster has: the
project must be installed there (see docs/scale.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from classifier.artifacts import version_dir
from classifier.errors import ArtifactError
from service.batch.read import Record
from service.batch.run import BatchOptions, run_batch, table_of
from service.batch.score import Scorer
from service.batch.summary import BatchSummary
from service.batch.write import atomic_text_file

PLUGIN = "rolelens-model"


@dataclass(frozen=True)
class ModelFiles:
    """One model version as bytes: its folder's files by relative name, with their sha256."""

    version: str
    files: dict[str, bytes]
    sha256: dict[str, str]

    @classmethod
    def read(cls, home: Path, version: str) -> ModelFiles:
        """Read every file of ``version``'s folder under the registry ``home``."""
        folder = version_dir(home, version)
        files = {
            path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        return cls(version, files, sums)

    def install(self, home: Path) -> None:
        """Write the files into a registry at ``home``, checking each one's sha256 first.

        Raises:
            ArtifactError: a file's bytes do not match the sum they were sent with, or its
                name leads out of the version folder.
        """
        folder = version_dir(home, self.version)  # refuses a name that leaves the registry
        for name, data in self.files.items():
            if name.startswith("/") or ".." in Path(name).parts:
                raise ArtifactError(f"model file name {name!r} leaves the version folder")
            if hashlib.sha256(data).hexdigest() != self.sha256.get(name):
                raise ArtifactError(
                    f"model file {name} of {self.version!r} arrived damaged (sha256 differs); "
                    "run the batch again"
                )
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


class ModelPlugin(WorkerPlugin):
    """Gives each worker the model, loaded once per worker process from the bytes sent."""

    name = PLUGIN

    def __init__(self, model: ModelFiles, key_phrases: int) -> None:
        self.model = model
        self.key_phrases = key_phrases
        self.scorer: Scorer | None = None
        self.home: str | None = None

    def setup(self, worker: Any) -> None:
        """Install and load the model in a folder of this worker."""
        self.home = tempfile.mkdtemp(prefix="rolelens-model-", dir=worker.local_directory)
        self.model.install(Path(self.home))
        self.scorer = Scorer.from_registry(Path(self.home), self.model.version, self.key_phrases)

    def teardown(self, worker: Any) -> None:
        """Remove the worker's copy of the model."""
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class Partition:
    """A piece of one input: its records (CSV, JSON Lines) or its row groups (Parquet)."""

    index: int
    name: str
    input_format: str
    columns: tuple[str, ...]
    records: tuple[Record, ...] = ()
    row_groups: tuple[int, ...] = ()
    first_number: int = 1


class _Records:
    """A partition's records as a table's reader and lines; the client read them, so its
    summary tells their encoding."""

    encoding = ""
    bytes_read = 0

    def __init__(self, partition: Partition) -> None:
        self.format = partition.input_format
        self.columns = list(partition.columns)
        self.records = partition.records

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)


def part_name(index: int, fmt: str) -> str:
    """The file name of partition ``index``: ``part-00000.csv`` and so on."""
    return f"part-{index:05d}.{fmt}"


def score_partition(
    partition: Partition, options: BatchOptions, outdir: str, output_format: str
) -> BatchSummary:
    """Run on a worker: score one partition and write its part file.

    Returns:
        The partition's summary (counts and first errors).
    """
    plugin = get_worker().plugins[PLUGIN]
    assert isinstance(plugin, ModelPlugin), "the model plugin is not on this worker"
    scorer = plugin.scorer
    assert scorer is not None, "the model plugin was not set up on this worker"
    options = dataclasses.replace(options, jobs=1, output_format=output_format)
    if partition.input_format == "parquet":
        from service.batch.parquet import open_parquet_table

        table = open_parquet_table(
            Path(partition.name),
            options,
            partition.name,
            partition.row_groups,
            partition.first_number,
        )
    else:
        records = _Records(partition)
        table = table_of(records, records, options)
    path = Path(outdir) / part_name(partition.index, output_format)
    if output_format == "parquet":
        from service.batch.parquet import run_to_parquet

        return run_to_parquet(table, path, scorer, options)
    with atomic_text_file(path) as sink:
        return run_batch(table, sink, scorer, options)
