"""The OpenAPI parts of the CSV form of ``POST /api/v1/classify/batch``
(``service.batch.endpoint``).

:func:`with_csv` adds to the JSON-only operation the ``text/csv`` and multipart request
bodies, the column query parameters and the CSV and JSON answers to a CSV upload.
"""

from __future__ import annotations

import copy
from typing import Any

from classifier.labels import LABELS, VERDICTS
from service.batch.write import RESULT_COLUMNS

Schema = dict[str, Any]

NULLABLE_STRING: Schema = {"type": ["string", "null"]}

SCHEMAS: dict[str, Schema] = {
    "TableRow": {
        "type": "object",
        "description": "one input row: every input column (renamed with _input when it "
        "clashes with a result column), then the result columns",
        "required": list(RESULT_COLUMNS),
        "properties": {
            "label": {"type": ["string", "null"], "enum": [*LABELS, None]},
            "verdict": {"type": ["string", "null"], "enum": [*VERDICTS, None]},
            "probability_ml_engineering": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1,
            },
            "strength": {"type": ["string", "null"], "enum": ["clear", "moderate", "mixed", None]},
            "key_phrases": {"type": ["array", "null"], "items": {"type": "string"}},
            "model_version": {"type": "string"},
            "error": {
                **NULLABLE_STRING,
                "description": "why this row was not classified, or a note on its shape",
            },
        },
        "additionalProperties": {"type": "string"},
    },
    "TableResponse": {
        "type": "object",
        "required": ["model_version", "count", "encoding", "results"],
        "additionalProperties": False,
        "properties": {
            "model_version": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "encoding": {
                "type": "string",
                "description": "how the CSV was decoded (UTF-8, UTF-8 with BOM, UTF-16, or "
                "cp1252 from the first byte that was not UTF-8)",
            },
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/TableRow"}},
        },
    },
}

PARAMETERS: list[Schema] = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": f"CSV only: {text}",
    }
    for name, text in (
        (
            "text_column",
            "the column holding the posting (default: the first of description, "
            "job_description, text, posting, body)",
        ),
        ("title_column", "a column put before the text"),
        ("id_column", "a column naming each row in messages"),
    )
]

CSV_TEXT: Schema = {"type": "string", "contentMediaType": "text/csv", "minLength": 1}


def with_csv(operation: Schema, max_rows: int) -> Schema:
    """``operation`` (the JSON batch operation) extended with its CSV forms."""
    op = copy.deepcopy(operation)
    op["description"] = (
        "Send JSON postings and get JSON, or send a CSV file (text/csv body, or "
        "multipart/form-data with the file in the field file) and get the same CSV with "
        "label, verdict, probability_ml_engineering, strength, key_phrases, model_version and "
        "error columns added (streamed as an attachment; formula-like cells neutralised), or JSON "
        f"rows with Accept: application/json. At most {max_rows} CSV rows "
        "(ROLELENS_MAX_BATCH_ROWS)."
    )
    op["parameters"] = PARAMETERS
    content = op["requestBody"]["content"]
    content["text/csv"] = {"schema": CSV_TEXT}
    content["multipart/form-data"] = {
        "schema": {
            "type": "object",
            "properties": {"file": CSV_TEXT},
            "required": ["file"],
        }
    }
    ok = op["responses"]["200"]
    ok["description"] += "; for a CSV upload, the classified CSV or its rows as JSON"
    ok["content"]["application/json"]["schema"] = {
        "oneOf": [
            {"$ref": "#/components/schemas/BatchResponse"},
            {"$ref": "#/components/schemas/TableResponse"},
        ]
    }
    ok["content"]["text/csv"] = {"schema": CSV_TEXT}
    ok["headers"] = {
        "Content-Disposition": {
            "description": 'CSV answers: attachment; filename="<upload stem>-classified.csv"',
            "schema": {"type": "string"},
        }
    }
    op["responses"]["400"]["description"] += "; an empty CSV or no file field"
    op["responses"]["422"]["description"] += "; a CSV without a text column (columns listed)"
    return op
