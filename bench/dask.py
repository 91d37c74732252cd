"""Benchmark: `rolelens batch --engine dask` on a LocalCluster against the local engine.

Builds one CSV of N postings from fixtures/ text (as bench/batch.py does: each row a
reshuffle of a fixture posting's sentences, about 2 kB), then measures:

(a) `rolelens batch --jobs 2` end to end, in its own process (wall seconds, rows/s);
(b) the Dask engine on a LocalCluster of 2 workers and of 1 worker (1 thread each, on
    127.0.0.1), run from this process: the cluster's start, the run (rows/s of the run,
    which includes sending the model), and the peak RSS (VmHWM) of each worker process;
(c) the same with 2 workers on N/4 rows, so the workers' peak RSS can be compared as the
    input grows (it should stay flat: a worker holds the model and one partition);
(d) the parts of (b) put end to end against the output of (a), cell by cell.

Prints figures and the target (2 Dask workers at least 0.8x the rows/s of --jobs 2) beside
them; never asserts on time. On a shared machine the figures move with the load: say so
when quoting them.
Usage: python bench/dask.py [--rows N] [--partition-rows P] [--home DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path, where this file would stand in
# for the dask package itself: take the folder off, and load bench/batch.py by its path.
BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]

from classifier.model import RoleClassifier  # noqa: E402
from service.batch.dask_engine import connect, prepare_outdir, run_on_dask  # noqa: E402
from service.batch.dask_worker import ModelFiles  # noqa: E402
from service.batch.run import BatchOptions  # noqa: E402
from training.retrain import retrain  # noqa: E402


def _bench_batch() -> Any:
    spec = importlib.util.spec_from_file_location("bench_batch", BENCH / "batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _peak_rss_mb() -> float:
    """Run on a worker: its process's peak RSS (VmHWM; ru_maxrss would carry the peak of
    the process that started the worker, which Linux keeps across exec)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dask(
    source: Path, workers: int, home: Path, outdir: Path, partition_rows: int
) -> dict[str, Any]:
    """One Dask run on a fresh LocalCluster: start, run and close times, worker peak RSS."""
    model = ModelFiles.read(home, RoleClassifier.from_registry(home).version)
    started = time.perf_counter()
    with connect(None, workers) as client:
        up = time.perf_counter()
        prepare_outdir(outdir, overwrite=True)
        summary = run_on_dask(client, [source], outdir, model, BatchOptions(), 5, partition_rows)
        ran = time.perf_counter()
        rss = sorted(client.run(_peak_rss_mb).values())
    return {
        "start_s": up - started,
        "run_s": ran - up,
        "total_s": time.perf_counter() - started,
        "rows": summary.rows_read,
        "rows_per_s": summary.rows_read / (ran - up),
        "worker_rss_mb": rss,
    }


def same_rows(parts: Path, local: Path) -> bool:
    """The part files end to end hold the local output's rows, cell for cell."""
    rows: list[list[str]] = []
    for part in sorted(parts.glob("part-*.csv")):
        with open(part, encoding="utf-8", newline="") as handle:
            header, *body = list(csv.reader(handle))
        rows += ([] if rows else [header]) + body
    with open(local, encoding="utf-8", newline="") as handle:
        return rows == list(csv.reader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="N (default 200,000)")
    parser.add_argument("--partition-rows", type=int, default=5000, help="rows a partition")
    parser.add_argument("--home", type=Path, help="data dir with a model (default: train one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rolelens-bench-dask-") as scratch:
        work = Path(scratch)
        home = args.home or work / "home"
        if args.home is None:
            retrain(home)
        source = work / "postings.csv"
        helpers = _bench_batch()
        build_csv, run_batch_cli = helpers.build_csv, helpers.run_batch_cli
        texts = build_csv(source, args.rows)
        mean = sum(map(len, texts)) / max(len(texts), 1)
        small = work / "small.csv"
        build_csv(small, max(1, args.rows // 4))
        print(f"machine: {os.cpu_count()} CPUs, shared with other work (figures move with load)")
        print(
            f"input: {args.rows:,} rows, {source.stat().st_size / 1e6:,.1f} MB, "
            f"{mean:,.0f} characters a posting; {args.partition_rows:,} rows a partition"
        )

        local = run_batch_cli(source, 2, home, keep=work / "local.csv")
        local_rate = args.rows / local["seconds"]
        print(
            f"(a) rolelens batch --jobs 2: {local['seconds']:.1f} s end to end, "
            f"{local_rate:,.0f} rows/s ({local['in_run_rows_per_s']:,.0f} rows/s in the run)"
        )

        two = run_dask(source, 2, home, work / "two", args.partition_rows)
        same = same_rows(work / "two", work / "local.csv")
        one = run_dask(source, 1, home, work / "one", args.partition_rows)
        for label, result in (("2 workers", two), ("1 worker", one)):
            print(
                f"(b) dask, {label}: cluster up in {result['start_s']:.1f} s, run "
                f"{result['run_s']:.1f} s = {result['rows_per_s']:,.0f} rows/s, "
                f"{result['total_s']:.1f} s in all; worker peak RSS "
                f"{', '.join(f'{mb:,.0f}' for mb in result['worker_rss_mb'])} MB"
            )
        ratio = two["rows_per_s"] / local["in_run_rows_per_s"] if local["in_run_rows_per_s"] else 0
        whole = local["seconds"] / two["total_s"]
        print(
            f"    2 workers / --jobs 2: {ratio:.2f}x in the run, {whole:.2f}x end to end "
            "(target >= 0.8x)"
        )
        print(f"    2 workers / 1 worker: {two['rows_per_s'] / one['rows_per_s']:.2f}x")

        quarter = run_dask(small, 2, home, work / "quarter", args.partition_rows)
        print(
            f"(c) worker peak RSS, 2 workers: {quarter['rows']:,} rows "
            f"{', '.join(f'{mb:,.0f}' for mb in quarter['worker_rss_mb'])} MB; "
            f"{two['rows']:,} rows {', '.join(f'{mb:,.0f}' for mb in two['worker_rss_mb'])} MB"
        )
        print(f"(d) parts end to end == local output, cell for cell: {same}")
        shutil.rmtree(work / "two", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
