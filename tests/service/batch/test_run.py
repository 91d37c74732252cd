"""Running batches: any text survives, order is kept across processes, failures leave no file."""

from __future__ import annotations

import csv
import io
import multiprocessing
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.labels import LABELS
from service.batch.run import BatchOptions, BatchRun, open_table, run_batch
from service.batch.score import ScoredRow, Scorer
from service.batch.write import (
    FORMULA_START,
    RESULT_COLUMNS,
    atomic_text_file,
    neutralise,
)

ML = "Deploy models to production with Kubernetes and monitor model serving"
DS = "Run A/B tests and present statistical insights to stakeholders"


@pytest.fixture(scope="module")
def scorer(trained_home: Path) -> Scorer:
    return Scorer.from_registry(trained_home)


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _run(data: bytes, scorer: Scorer, options: BatchOptions) -> list[list[str]]:
    out = io.StringIO(newline="")
    run_batch(open_table(io.BytesIO(data), options), out, scorer, options)
    return list(csv.reader(io.StringIO(out.getvalue(), newline="")))


posting_text = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["", "=", "+", "-", "@", "\t", "\r", "=cmd|' /C calc'!A0 "]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(posting_text, min_size=1, max_size=4), note=posting_text)
def test_any_text_round_trips_with_formulas_neutralised(
    scorer: Scorer, texts: list[str], note: str
) -> None:
    data = _csv([["id", "description", "note"]] + [[str(i), t, note] for i, t in enumerate(texts)])
    header, *rows = _run(data, scorer, BatchOptions())
    assert len(rows) == len(texts)
    for i, (text, row) in enumerate(zip(texts, rows, strict=True)):
        cells = dict(zip(header, row, strict=True))
        assert cells["id"] == str(i)
        assert cells["description"] == neutralise(text)
        assert cells["note"] == neutralise(note)
        assert (cells["label"] in LABELS) != bool(cells["error"])
        assert not any(cell.startswith(FORMULA_START) for cell in row)


def test_two_processes_keep_input_order_and_results(scorer: Scorer) -> None:
    texts = [ML if i % 3 else DS + f" number {i}" for i in range(700)]
    data = _csv([["id", "description"]] + [[str(i), t] for i, t in enumerate(texts)])
    one = _run(data, scorer, BatchOptions(jobs=1, chunk_rows=64))
    two = _run(data, scorer, BatchOptions(jobs=2, chunk_rows=64))
    assert [row[0] for row in two[1:]] == [str(i) for i in range(700)]
    assert two == one


class FailingScorer(Scorer):
    """Fails on its second chunk, as a worker that runs out of memory would."""

    calls = 0

    def score(self, texts: Sequence[str]) -> list[ScoredRow]:
        FailingScorer.calls += 1
        if FailingScorer.calls == 2:
            raise MemoryError("injected")
        return super().score(texts)


def test_a_run_that_fails_midway_leaves_no_output_file(scorer: Scorer, tmp_path: Path) -> None:
    failing = FailingScorer(scorer.classifier)
    data = _csv([["description"]] + [[ML]] * 50)
    options = BatchOptions(chunk_rows=10)
    target = tmp_path / "out.csv"
    with pytest.raises(MemoryError), atomic_text_file(target) as sink:
        run_batch(open_table(io.BytesIO(data), options), sink, failing, options)
    assert list(tmp_path.iterdir()) == []


def test_the_summary_counts_what_happened(scorer: Scorer) -> None:
    data = _csv([["key", "description"], ["a", ML], ["b", ""], ["c", DS], ["d", ML]])
    options = BatchOptions(id_column="key")
    summary = run_batch(open_table(io.BytesIO(data), options), io.StringIO(), scorer, options)
    assert summary.rows_read == 4
    assert summary.classified == 3
    assert summary.per_label == {"data_science": 1, "ml_engineering": 2}
    assert summary.errors == 1
    assert summary.first_errors == ("row 2 (id b): no text in column 'description'",)
    assert summary.to_dict()["rows_per_second"] > 0


def test_long_texts_make_smaller_chunks(scorer: Scorer) -> None:
    seen: list[int] = []
    options = BatchOptions(chunk_chars=len(ML) * 3)
    data = _csv([["description"]] + [[ML]] * 10)
    run_batch(
        open_table(io.BytesIO(data), options),
        io.StringIO(),
        scorer,
        options,
        progress=lambda rows, _: seen.append(rows),
    )
    assert seen == [3, 6, 9, 10]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_streams_the_header_then_one_piece_per_chunk(scorer: Scorer, jobs: int) -> None:
    options = BatchOptions(chunk_rows=4, jobs=jobs)
    data = _csv([["description"]] + [[ML]] * 10)
    run = BatchRun(open_table(io.BytesIO(data), options), scorer, options)
    pieces = list(run)
    assert pieces[0] == "description," + ",".join(RESULT_COLUMNS) + "\r\n"
    assert [piece.count("\r\n") for piece in pieces[1:]] == [4, 4, 2]
    assert run.summary is not None and run.summary.classified == 10


def test_a_stream_closed_early_stops_its_workers(scorer: Scorer) -> None:
    options = BatchOptions(chunk_rows=2, jobs=2)
    data = _csv([["description"]] + [[ML]] * 40)
    run = iter(BatchRun(open_table(io.BytesIO(data), options), scorer, options))
    next(run), next(run)
    run.close()  # what a server does when the client goes away
    assert not multiprocessing.active_children()
