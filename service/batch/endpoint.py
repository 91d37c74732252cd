"""``POST /api/v1/classify/batch`` with a CSV file: a ``text/csv`` body or a multipart upload.

The same reader, columns, encodings, formula neutralisation and per-row ``error`` as
``rolelens batch`` (:mod:`service.batch.run`), in one process (no pool inside a web
worker). Everything that can refuse the input runs before the first byte is sent:

1. the body is read (``MAX_CONTENT_LENGTH`` bounds it, so it is held in memory);
2. the header is read and the columns settled (422 listing the columns when unusable);
3. the rows are counted in a first pass over the parsed table (413 naming
   ``ROLELENS_MAX_BATCH_ROWS`` when there are too many): CSV parsing runs at tens of
   thousands of rows a second, small beside the model, and a streamed response can then
   never be cut off half-way by a limit;
4. the table is opened again and streamed as CSV (``stream_with_context`` over
   :class:`~service.batch.run.BatchRun`), or answered as JSON, as ``Accept`` prefers.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from itertools import islice
from pathlib import PurePath

from flask import Request, Response, current_app, g, jsonify, stream_with_context

from classifier.model import RoleClassifier
from service.batch.errors import UnusableInput
from service.batch.run import BatchOptions, BatchRun, Table, open_table
from service.batch.score import Scorer
from service.config import LIMIT_NAMES
from service.errors import ApiProblem, limit_problem

CSV = "text/csv"
MULTIPART = "multipart/form-data"
JSON = "application/json"
DEFAULT_FILENAME = "rolelens-classified.csv"
PARAMETERS = ("text_column", "title_column", "id_column")
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _upload(request: Request) -> tuple[bytes, str | None]:
    """The CSV bytes of the request and the uploaded file's name, if any."""
    if request.mimetype == MULTIPART:
        upload = request.files.get("file")
        if upload is not None:
            data, name = upload.read(), upload.filename or None
        elif "file" in request.form:  # a part without a filename: its text, as UTF-8
            data, name = request.form["file"].encode("utf-8"), None
        else:
            fields = ", ".join([*request.files, *request.form]) or "(none)"
            raise ApiProblem(
                400,
                "missing_file",
                f"the multipart body has no field named file (fields: {fields}); "
                "upload the CSV as file, e.g. curl -F file=@postings.csv",
                field="file",
            )
    elif request.mimetype == CSV:
        data, name = request.get_data(), None
    else:
        raise ApiProblem(
            415,
            "unsupported_media_type",
            f"Content-Type {request.mimetype or '(none)'} is not accepted here; send "
            "application/json (postings), text/csv (a CSV body) or multipart/form-data "
            "(a CSV file in the field file)",
        )
    if not data:
        raise ApiProblem(
            400,
            "empty_body",
            f"{name or 'the body'} is empty; send a CSV file with a header row and one "
            "posting per row",
        )
    return data, name


def _open(data: bytes, options: BatchOptions, name: str) -> Table:
    """The table with its columns settled; 422 with the columns listed when unusable."""
    try:
        return open_table(io.BytesIO(data), options, name)
    except UnusableInput as exc:
        detail = str(exc)
        for option in PARAMETERS:
            flag = "--" + option.replace("_", "-")
            detail = detail.replace(flag, f"the {option} query parameter")
        raise ApiProblem(422, "unusable_input", detail) from None


def download_name(upload_name: str | None) -> str:
    """``<input stem>-classified.csv``, made safe for a header, or the default name."""
    if not upload_name:
        return DEFAULT_FILENAME
    stem = UNSAFE_NAME.sub("_", PurePath(upload_name.replace("\\", "/")).stem).strip("._")
    return f"{stem}-classified.csv" if stem else DEFAULT_FILENAME


def classify_table(request: Request, serving: Callable[[], RoleClassifier]) -> Response:
    """Answer a CSV upload with the classified CSV (streamed) or JSON, as ``Accept`` prefers."""
    data, upload_name = _upload(request)
    unknown = sorted(set(request.args) - set(PARAMETERS))
    if unknown:
        raise ApiProblem(
            422,
            "invalid_field",
            f"unknown query parameter {unknown[0]}; parameters are: {', '.join(PARAMETERS)}",
            field=unknown[0],
        )
    text, title, ident = (request.args.get(name) or None for name in PARAMETERS)
    max_chars = int(current_app.config["MAX_POSTING_CHARS"])
    options = BatchOptions(text, title, ident, input_format="csv", jobs=1, max_chars=max_chars)
    name = upload_name or "the CSV body"
    limit = int(current_app.config["MAX_BATCH_ROWS"])
    if sum(1 for _ in islice(_open(data, options, name).reader, limit + 1)) > limit:
        setting = LIMIT_NAMES["MAX_BATCH_ROWS"]
        raise limit_problem(
            setting,
            limit,
            f"{name} has more than {limit} rows; the limit is {limit} rows per request "
            f"({setting} sets it): split the file, or use `rolelens batch` for big files",
        )
    table = _open(data, options, name)
    scorer = Scorer(serving())
    g.model_version = scorer.version
    if request.accept_mimetypes.best_match([CSV, JSON], default=CSV) == JSON:
        run = BatchRun(table, scorer, replace(options, output_format="jsonl"))
        results = [json.loads(line) for piece in run for line in piece.splitlines() if line]
        encoding = table.lines.encoding
        return jsonify(
            model_version=scorer.version, count=len(results), encoding=encoding, results=results
        )
    pieces = (piece.encode("utf-8") for piece in BatchRun(table, scorer, options))
    response = Response(stream_with_context(pieces), content_type=f"{CSV}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name(upload_name)}"'
    return response
