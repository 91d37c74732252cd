"""Real-world CSVs in, spreadsheet-safe rows out: one nasty file per case, checked row by row."""

from __future__ import annotations

import codecs
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from service.batch.decode import DecodedLines
from service.batch.errors import UnusableInput
from service.batch.run import BatchOptions, open_table, run_batch
from service.batch.score import Scorer
from service.batch.summary import BatchSummary
from service.batch.write import RESULT_COLUMNS, atomic_text_file, neutralise, rfc4180_line

ML = "Deploy models to production with Kubernetes and Docker and monitor model serving"
DS = "Run A/B tests and present statistical insights to stakeholders"
HUGE = "Deploy models to production with Kubernetes. " * 30_000  # 1.35 MB in one field


@pytest.fixture(scope="module")
def scorer(trained_home: Path) -> Scorer:
    return Scorer.from_registry(trained_home)


def run(
    data: bytes, scorer: Scorer, **options: Any
) -> tuple[list[str], list[dict[str, str]], BatchSummary]:
    """Run a batch in memory; return the output header, rows as dicts, and the summary."""
    opts = BatchOptions(**options)
    out = io.StringIO(newline="")
    summary = run_batch(open_table(io.BytesIO(data), opts), out, scorer, opts)
    header, *rows = csv.reader(io.StringIO(out.getvalue(), newline=""))
    return header, [dict(zip(header, row, strict=True)) for row in rows], summary


# fmt: off
CASES = [
    # (case, input bytes, header of the input columns, expected cells of the one row, encoding)
    ("utf-8, commas", f"id,description\r\n1,{ML}\r\n".encode(),
     ["id", "description"], {"id": "1", "label": "ml_engineering", "error": ""}, "UTF-8"),
    ("utf-8 with BOM: no BOM in the first column name",
     codecs.BOM_UTF8 + f"id,description\n1,{DS}\n".encode(),
     ["id", "description"], {"id": "1", "label": "data_science"}, "UTF-8 with BOM"),
    ("UTF-16 with BOM and tabs, as Excel's Unicode text",
     f"id\tdescription\r\n1\t{DS} café\r\n".encode("utf-16"),
     ["id", "description"], {"description": f"{DS} café", "label": "data_science"}, "UTF-16"),
    ("cp1252 from Excel on Windows, semicolons",
     f"id;description\r\n1;Café résumé \u2013 {DS}\r\n".encode("cp1252"),
     ["id", "description"], {"description": f"Café résumé \u2013 {DS}"}, "cp1252"),
    ("tab-separated", f"id\tdescription\n7\t{ML}\n".encode(),
     ["id", "description"], {"id": "7", "label": "ml_engineering"}, "UTF-8"),
    ("a quoted newline stays inside its field",
     f'id,description\n1,"Deploy models\nto production\r\nwith {ML}"\n'.encode(),
     ["id", "description"], {"description": f"Deploy models\nto production\r\nwith {ML}"},
     "UTF-8"),
    ("a field over 1 MB", f"id,description\n1,{HUGE}\n".encode(),
     ["id", "description"], {"label": "ml_engineering", "error": ""}, "UTF-8"),
    ("a short row without its text gets an error",
     b"id,title,description\n1,Engineer\n",
     ["id", "title", "description"],
     {"title": "Engineer", "label": "", "error": "no text in column 'description'"}, "UTF-8"),
    ("a long row is classified; the error column says what was dropped",
     f"id,description\n1,{ML},extra,more\n".encode(),
     ["id", "description"],
     {"label": "ml_engineering", "error": "row has 4 fields but the header has 2; "
      "the last 2 were dropped"}, "UTF-8"),
    ("blank text gets an error, not a crash", b'id,description\n1,"  \n "\n',
     ["id", "description"], {"label": "", "error": "no text in column 'description'"}, "UTF-8"),
    ("duplicate header names are made unique", f"id,id,description\n1,2,{ML}\n".encode(),
     ["id", "id_2", "description"], {"id": "1", "id_2": "2"}, "UTF-8"),
    ("a blank header name gets its position", f"id, ,description\n1,x,{ML}\n".encode(),
     ["id", "column_2", "description"], {"column_2": "x"}, "UTF-8"),
    ("old Mac line ends (CR only)", f"id,description\r1,{ML}\r".encode(),
     ["id", "description"], {"label": "ml_engineering"}, "UTF-8"),
    ("formulas are neutralised in input columns too",
     f"id,description,note\n=1+1,{ML},@SUM(A1)\n".encode(),
     ["id", "description", "note"], {"id": "'=1+1", "note": "'@SUM(A1)"}, "UTF-8"),
    ("a formula in the text column is neutralised and still classified",
     f'id,description\n1,"-{DS}"\n'.encode(),
     ["id", "description"], {"description": f"'-{DS}", "label": "data_science"}, "UTF-8"),
    ("an input column named like a result column is renamed",
     f"description,label,error\n{ML},data_science,x\n".encode(),
     ["description", "label_input", "error_input"],
     {"label_input": "data_science", "label": "ml_engineering", "error_input": "x"}, "UTF-8"),
    ("a delimiter inside a quoted header name does not count",
     f'"a,b,c";description\nx;{ML}\n'.encode(),
     ["a,b,c", "description"], {"a,b,c": "x"}, "UTF-8"),
    ("JSON Lines in, CSV out: the first object's keys are the columns",
     (json.dumps({"id": 5, "text": ML, "tags": ["a"]}) + "\n").encode(),
     ["id", "text", "tags"], {"id": "5", "tags": '["a"]', "label": "ml_engineering"}, "UTF-8"),
]
# fmt: on


@pytest.mark.parametrize(
    ("data", "columns", "expected", "encoding"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_nasty_csvs_come_out_whole_and_safe(
    scorer: Scorer,
    data: bytes,
    columns: list[str],
    expected: dict[str, str],
    encoding: str,
) -> None:
    header, rows, summary = run(data, scorer, output_format="csv")
    assert header == columns + list(RESULT_COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    for column, value in expected.items():
        assert row[column] == value, column
    assert row["model_version"] == scorer.version
    assert summary.encoding.startswith(encoding)
    assert summary.rows_read == 1
    assert summary.classified + summary.errors == 1


def test_a_header_only_file_gives_a_header_only_result(scorer: Scorer) -> None:
    header, rows, summary = run(b"id,description\r\n", scorer)
    assert header == ["id", "description", *RESULT_COLUMNS]
    assert rows == []
    assert summary.rows_read == 0


def test_the_title_is_prepended_to_the_text(scorer: Scorer) -> None:
    data = b"Title,Body\nMachine learning engineer,We are hiring\n"
    _, rows, _ = run(data, scorer, text_column="body", title_column="title")
    expected = scorer.score(["Machine learning engineer\nWe are hiring"])[0]
    assert float(rows[0]["probability_ml_engineering"]) == expected.probability_ml_engineering


def test_a_bad_json_line_gets_an_error_and_the_run_goes_on(scorer: Scorer) -> None:
    data = b'{"text": "run A/B tests"}\n\nnot json\n[1, 2]\n{"text": 5}\n'
    out = io.StringIO()
    opts = BatchOptions(output_format="jsonl")
    summary = run_batch(open_table(io.BytesIO(data), opts), out, scorer, opts)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0]["label"] == "data_science"
    assert rows[1]["error"].startswith("record 2 is not a JSON object")
    assert rows[2]["error"].startswith("record 3 is not a JSON object")
    assert rows[3]["error"] == "column 'text' holds int, not text"
    assert summary.errors == 3


def test_jsonl_out_keeps_values_and_lists_the_phrases(scorer: Scorer) -> None:
    data = (json.dumps({"id": 1, "description": "=" + ML, "label": "x"}) + "\n").encode()
    out = io.StringIO()
    opts = BatchOptions(output_format="jsonl")
    run_batch(open_table(io.BytesIO(data), opts), out, scorer, opts)
    row = json.loads(out.getvalue())
    assert row["id"] == 1 and row["label_input"] == "x"
    assert row["description"].startswith("=")  # JSON is for programs: kept as it is
    assert row["label"] == "ml_engineering" and isinstance(row["key_phrases"], list)
    assert row["error"] is None


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"", {}, "is empty"),
        (b"\n\n", {}, "is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", {}, ".xlsx workbook"),
        ("id,description\n".encode("utf-16-le"), {}, "NUL bytes"),  # UTF-16 without BOM
        (b"id,title,body2\n1,x,y\n", {}, "columns id, title, body2; name the posting column"),
        (b"id,description\n", {"text_column": "body"}, "column 'body' not found"),
        (b"id,description\n", {"id_column": "key"}, "(use --id-column)"),
        (b"not json\n", {"input_format": "jsonl"}, "is not JSON Lines"),
        (b"description,x\ry\n1,2\n", {}, "readable CSV header"),  # csv.Error in the header
    ],
)
def test_unusable_input_is_refused_before_any_output(
    data: bytes, options: dict[str, str], message: str
) -> None:
    with pytest.raises(UnusableInput) as raised:
        open_table(io.BytesIO(data), BatchOptions(**options))
    assert message in str(raised.value)


def test_utf8_that_turns_into_cp1252_late_in_the_stream_switches_there() -> None:
    data = ("a,b\n" + "é,x\n" * 10).encode() + "ü,Ø\n".encode("cp1252")
    lines = DecodedLines(io.BytesIO(data), block_size=7)
    assert "".join(lines) == "a,b\n" + "é,x\n" * 10 + "ü,Ø\n"
    assert lines.encoding == f"cp1252 (the bytes are not UTF-8 from byte {len(data) - 4:,} on)"


def test_two_inputs_read_in_turn_each_report_their_own_cp1252_byte() -> None:
    first = ("a,b\n" + "x,y\n" * 3).encode() + "ü\n".encode("cp1252") + b"z\n" * 3
    second = b"a,b\n" + "Ø\n".encode("cp1252") + b"z\n" * 3
    one = DecodedLines(io.BytesIO(first), block_size=1)
    two = DecodedLines(io.BytesIO(second), block_size=1)
    lines = [line for pair in zip(one, two, strict=False) for line in pair]
    assert "ü\n" in lines and "Ø\n" in lines
    assert one.encoding.endswith(f"from byte {len(first) - 8:,} on)")
    assert two.encoding.endswith("from byte 4 on)")


def test_a_lone_carriage_return_stays_inside_a_line_of_a_newline_file() -> None:
    assert list(DecodedLines(io.BytesIO(b"a,b\r c\nd\n"))) == ["a,b\r c\n", "d\n"]
    assert list(DecodedLines(io.BytesIO(b"a,b\rc,d\r"))) == ["a,b\r", "c,d\r"]


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 4096])
@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16"])
def test_characters_split_across_blocks_decode_whole(codec: str, block_size: int) -> None:
    text = 'id,description\r\n1,"naïve Bayes — 数据\r\nmodels"\r\n'
    lines = list(DecodedLines(io.BytesIO(text.encode(codec)), block_size=block_size))
    assert "".join(lines) == text
    assert all(line.endswith("\n") for line in lines)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        ("", ""),
        ("'=x", "'=x"),
    ],
)
def test_neutralise(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


@pytest.mark.parametrize(
    "cells",
    [
        ["a", "b"],
        ["", ""],
        ['say "hi"', "x"],
        ["a,b", "c\nd", "e\rf"],
        [" lead", "tail "],
        ["\x00", "é—数据"],
        ["=1", "'"],
    ],
)
def test_rfc4180_line_writes_what_the_csv_module_writes(cells: list[str]) -> None:
    expected = io.StringIO(newline="")
    csv.writer(expected, lineterminator="\r\n").writerow(cells)
    assert rfc4180_line(cells) == expected.getvalue()


def test_atomic_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("older results")
    with pytest.raises(RuntimeError), atomic_text_file(target) as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "older results"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_text_file(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert list(tmp_path.iterdir()) == [target]
