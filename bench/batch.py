"""Benchmark: `rolelens batch` end to end against the model's own predict_proba.

Builds a CSV of N postings from fixtures/ text (each a reshuffle of a fixture posting's
sentences, with an id and a title), then measures in one run:

(a) bare ``Pipeline.predict_proba`` on the same texts, already in memory;
(b) ``rolelens batch`` end to end (read, classify, explain, write) with --jobs 1 and 2,
    each in its own subprocess (best of two interleaved runs; (a) is best of --repeat),
    with its peak RSS (ru_maxrss of RUSAGE_CHILDREN: the largest single process of the
    run, parent or worker), and again on 10 x N rows;
(c) the key phrases of the --jobs 1 output against ``classify``'s first five for the same
    text, on every row (so a fast run that gives other reasons cannot pass unnoticed).

Prints figures and the targets beside them; never asserts on time.
Usage: python bench/batch.py [--rows N] [--big-rows M] [--home DIR] [--skip-big]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifier.model import RoleClassifier
from training.pipeline import rebuild_pipeline
from training.retrain import retrain

REPO = Path(__file__).resolve().parent.parent
POSTINGS = REPO / "fixtures" / "postings"
SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "seconds": time.perf_counter() - started,
    "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "stderr": done.stderr,
    "cpu": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime}))
"""


def fixture_postings() -> list[tuple[str, str]]:
    """(title, text) of every fixture posting."""
    with open(POSTINGS / "validation.csv", encoding="utf-8", newline="") as handle:
        rows = [(row["label"], row["text"]) for row in csv.DictReader(handle)]
    rows += [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(POSTINGS.glob("*.txt"))]
    return rows


def build_csv(path: Path, rows: int, seed: int = 0) -> list[str]:
    """Write ``rows`` postings to ``path``; return the texts when small enough to keep."""
    rng = random.Random(seed)
    sources = [(title, SENTENCE.split(text)) for title, text in fixture_postings()]
    kept: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "description"])
        for i in range(rows):
            title, sentences = sources[i % len(sources)]
            shuffled = [s for s in sentences if s.strip()]
            rng.shuffle(shuffled)
            text = " ".join(shuffled)
            writer.writerow([i, title.replace("_", " "), text])
            if len(kept) < 50_000:
                kept.append(text)
    return kept


def run_batch_cli(
    source: Path, jobs: int, home: Path, keep: Path | None = None
) -> dict[str, float]:
    """`rolelens batch` in a fresh process; wall seconds and peak RSS of the largest process.

    The output is deleted, or moved to ``keep`` when given.
    """
    target = source.with_suffix(f".out{jobs}.csv")
    command = [
        sys.executable,
        "-c",
        "from service.cli import main; main()",
        "batch",
        str(source),
        "-o",
        str(target),
        "--jobs",
        str(jobs),
    ]
    env = {**os.environ, "ROLELENS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["code"] != 0:
        raise SystemExit(f"rolelens batch failed:\n{result['stderr']}")
    if keep is None:
        target.unlink()
    else:
        target.replace(keep)
    inner = re.search(r"([\d,]+) rows/s", result["stderr"])
    return {
        "seconds": result["seconds"],
        "rss_mb": result["rss_kb"] / 1024,
        "cpu": result["cpu"],
        "in_run_rows_per_s": float(inner.group(1).replace(",", "")) if inner else 0.0,
    }


def mismatched_rows(output: Path, texts: list[str], home: Path) -> int:
    """Rows of a batch output whose key phrases are not ``classify``'s first five."""
    classifier = RoleClassifier.from_registry(home)
    with open(output, encoding="utf-8", newline="") as handle:
        cells = [row["key_phrases"] for row in csv.DictReader(handle)]
    wrong = 0
    for text, cell in zip(texts, cells, strict=True):
        phrases = [p.text for p in classifier.classify(text).key_phrases[:5]]
        expected = "; ".join(phrases)
        wrong += cell not in (expected, "'" + expected)  # a formula-like cell gets a quote
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of (a), best taken")
    parser.add_argument("--rows", type=int, default=20_000, help="N (default 20,000)")
    parser.add_argument(
        "--big-rows", type=int, default=None, help="rows of the RSS pass (default 10 x N)"
    )
    parser.add_argument("--home", type=Path, help="data dir with a model (default: train one)")
    parser.add_argument("--skip-big", action="store_true", help="skip the 10 x N memory pass")
    args = parser.parse_args()
    big_rows = args.big_rows or 10 * args.rows
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        home = args.home or work / "home"
        if args.home is None:
            print("training a model from fixtures/ ...", flush=True)
            retrain(home)
        pipeline = rebuild_pipeline(RoleClassifier.from_registry(home).model)
        source = work / "postings.csv"
        texts = build_csv(source, args.rows)
        size = source.stat().st_size
        print(
            f"N = {args.rows:,} postings, {size / 1e6:.1f} MB, "
            f"{sum(map(len, texts)) / len(texts):,.0f} characters on average; "
            f"{os.cpu_count()} CPUs; load average now {os.getloadavg()[0]:.1f} "
            "(other work on the machine slows every figure)"
        )

        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            pipeline.predict_proba(texts)
            timings.append(time.perf_counter() - started)
        bare = args.rows / min(timings)
        print(f"(a) Pipeline.predict_proba in memory: {bare:8,.0f} rows/s", flush=True)

        # Best of two interleaved runs each: on a shared machine a single run mostly
        # measures what else happened to be running.
        checked = work / "checked.csv"
        runs = [
            run_batch_cli(source, jobs, home, checked if n == 0 else None)
            for n, jobs in enumerate((1, 2, 1, 2))
        ]
        one = min(runs[0::2], key=lambda run: run["seconds"])
        two = min(runs[1::2], key=lambda run: run["seconds"])
        rate1, rate2 = args.rows / one["seconds"], args.rows / two["seconds"]
        print(
            f"(b) rolelens batch --jobs 1: {rate1:8,.0f} rows/s end to end "
            f"({one['in_run_rows_per_s']:,.0f} rows/s once started) = "
            f"{rate1 / bare:.2f} x (a) [target >= 1.50]; "
            f"once started {one['in_run_rows_per_s'] / bare:.2f} x (a)"
        )
        print(
            f"(b) rolelens batch --jobs 2: {rate2:8,.0f} rows/s end to end "
            f"({two['in_run_rows_per_s']:,.0f} rows/s once started) = "
            f"{rate2 / rate1:.2f} x --jobs 1 [target >= 1.70]",
            flush=True,
        )
        print(
            f"    CPU seconds (all processes): --jobs 1 {one['cpu']:.1f} s in "
            f"{one['seconds']:.1f} s, --jobs 2 {two['cpu']:.1f} s in {two['seconds']:.1f} s; "
            f"ideal --jobs 2 on 2 idle cores ~{2 * one['cpu'] / two['cpu']:.2f} x --jobs 1"
        )

        wrong = mismatched_rows(checked, texts, home)
        print(
            f"(c) key phrases of the --jobs 1 output that differ from classify's first five: "
            f"{wrong:,} of {len(texts):,} rows [target 0]",
            flush=True,
        )
        if args.skip_big:
            return
        build_csv(source, big_rows, seed=1)
        big = run_batch_cli(source, 2, home)
        print(
            f"peak RSS (largest process), --jobs 2: {two['rss_mb']:.0f} MB at {args.rows:,} "
            f"rows, {big['rss_mb']:.0f} MB at {big_rows:,} rows "
            f"({source.stat().st_size / 1e6:.0f} MB) = {big['rss_mb'] / two['rss_mb']:.2f} x "
            f"[target <= 1.20]; --jobs 1 at {args.rows:,}: {one['rss_mb']:.0f} MB"
        )
        print(f"    ({big_rows:,} rows ran at {big_rows / big['seconds']:,.0f} rows/s)")


if __name__ == "__main__":
    main()
