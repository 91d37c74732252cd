"""The OpenAPI 3.1 document of the HTTP API, served at ``/api/v1/openapi.json``.

Its schemas are the models of :mod:`service.contract`; here are the paths, their answers and
this server's limits. Tests check real responses against it, and schemathesis sends it
thousands of requests.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from service.batch.read import TEXT_COLUMNS
from service.contract import schemas
from service.errors import TABLE
from service.metrics import OPENAPI_OPERATION as METRICS_OPERATION

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema | str, mimetype: str = "application/json") -> Schema:
    return {mimetype: {"schema": _ref(schema) if isinstance(schema, str) else schema}}


PROBLEM = _json("Problem", "application/problem+json")
COMMON = {
    400: "malformed JSON or undecodable text",
    413: "a limit was passed (named)",
    415: "unsupported Content-Type, or a compressed body (any Content-Encoding)",
    422: "a field is missing, empty or mistyped",
    503: "no model is loaded",
}
ADMIN = {
    401: "no bearer token",
    403: "wrong token, or writes are turned off (no ROLELENS_ADMIN_TOKEN)",
    # The error table's full disk: every write may meet it.
    **{r.status: f"{r.code}: the data directory is full" for r in TABLE if r.status == 507},
}
OPTIONAL_BODY = ("retrain", "rollback")  # no body: the defaults
RATE_LIMITED: Schema = {
    "description": "over the per-client rate limit (ROLELENS_RATE_LIMIT, off by default); "
    "Retry-After says when to try again",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": PROBLEM,
}
# A header row of plain column names, one of them a posting column, then the rows.
_CELL = r'[^",;\x00-\x1f\x7f]*'
CSV_BODY: Schema = {
    "type": "string",
    "contentMediaType": "text/csv",
    "pattern": f"^(?:{_CELL},)* *(?:{'|'.join(TEXT_COLUMNS)}) *(?:,{_CELL})*(?:\\r?\\n[^\\x00]*)?$",
    "description": "a CSV file: a header row naming the columns, one of them the posting "
    f"({', '.join(TEXT_COLUMNS)}, or the column text_column names), then one posting a row. "
    "The server also takes these names in any case or quoted, and ; or tab between them",
}


def _in_path(name: str, schema: Schema) -> list[Schema]:
    return [{"name": name, "in": "path", "required": True, "schema": schema}]


def _query(model: str) -> list[Schema]:
    """The fields of ``model`` as optional query parameters (absent rather than null)."""
    params = []
    for name, field in copy.deepcopy(schemas()[model]["properties"]).items():
        field |= field.pop("anyOf", [{}])[0]
        if field.get("default", "") is None:
            del field["default"]
        params.append({"name": name, "in": "query", "description": field.pop("description")})
        params[-1]["schema"] = field
    return params


def _op(
    op_id: str,
    summary: str,
    ok: str,
    errors: Mapping[int, str] | tuple[int, ...] = (),
    *,
    body: Schema | str | None = None,
    admin: bool = False,
    params: list[Schema] | None = None,
    **answers: str,
) -> Schema:
    """One operation. ``ok`` is "Schema: what it means" (200), ``answers`` more of them by
    status (``s201=...``); every error answers problem+json."""
    ok_answers = {"200": ok} if ok else {}
    ok_answers |= {status[1:]: text for status, text in answers.items()}
    texts = {s: COMMON[s] for s in errors} if isinstance(errors, tuple) else dict(errors)
    texts |= (ADMIN if admin else {}) | ({415: COMMON[415]} if body else {})
    responses: Schema = {
        status: {"description": text.partition(": ")[2], "content": _json(text.partition(":")[0])}
        for status, text in ok_answers.items()
    }
    responses |= {str(s): {"description": d, "content": PROBLEM} for s, d in texts.items()}
    responses["default"] = {"description": "any other error, with what to do", "content": PROBLEM}
    op: Schema = {"summary": summary, "operationId": op_id, "responses": responses}
    if body is not None:
        content = _json(body) if isinstance(body, str) else body
        op["requestBody"] = {"required": op_id not in OPTIONAL_BODY, "content": content}
    if admin:
        op["security"] = [{"adminToken": []}]
    if params:
        op["parameters"] = params
    return op


def _batch(config: Mapping[str, Any]) -> Schema:
    """``POST /classify/batch``: JSON postings, or a CSV file answered as CSV or JSON rows."""
    csv: Schema = {"type": "string", "contentMediaType": "text/csv"}
    file = {"type": "object", "properties": {"file": CSV_BODY}, "required": ["file"]}
    body = {**_json("BatchRequest"), "text/csv": {"schema": CSV_BODY}}
    body["multipart/form-data"] = {"schema": file}
    errors = {s: COMMON[s] for s in (413, 415, 503)}
    errors[400] = f"{COMMON[400]}; an empty CSV or no file field"
    errors[422] = f"{COMMON[422]}; a CSV without the posting column (columns listed)"
    op = _op(
        "classifyBatch",
        "Classify several postings, or a CSV file",
        "BatchResponse: one result per posting, in order",
        errors,
        body=body,
        params=_query("TableQuery"),
    )
    op["description"] = (
        "Send JSON postings and get JSON, or a CSV file (a text/csv body, or the multipart field "
        "file) and get it back with the result columns added (label, verdict, ..., error; "
        "formula-like cells neutralised), or its rows as JSON with Accept: application/json. At "
        f"most {config['MAX_BATCH_ROWS']} CSV rows (ROLELENS_MAX_BATCH_ROWS)."
    )
    op["responses"]["200"]["content"] = {
        **_json({"oneOf": [_ref("BatchResponse"), _ref("TableResponse")]}),
        "text/csv": {"schema": csv},
    }
    disposition = 'CSV answers: attachment; filename="<upload stem>-classified.csv"'
    op["responses"]["200"]["headers"] = {
        "Content-Disposition": {"description": disposition, "schema": {"type": "string"}}
    }
    return op


def _paths(config: Mapping[str, Any], text: Schema) -> Schema:
    busy = "a retrain is running"
    phrases = {"oneOf": [_ref("AddPhrase"), _ref("AddPhrases")]}
    return {
        "/api/v1/classify": {
            "post": _op(
                "classify",
                "Classify one posting",
                "Prediction: the call, its phrases and the model version",
                (400, 413, 415, 422, 503),
                body={**_json("ClassifyRequest"), "text/plain": {"schema": text}},
            )
        },
        "/api/v1/classify/batch": {"post": _batch(config)},
        "/api/v1/model": {"get": _op("model", "The serving model's card", "ModelCard: it", (503,))},
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": _json({})}},
            }
        },
        "/api/v1/phrases": {
            "get": _op(
                "listPhrases",
                "List stored phrases (query: label, source, include_removed)",
                "PhraseList: the phrases",
                {422: "unknown label, or include_removed not one of the values listed"},
                params=_query("PhraseQuery"),
            ),
            "post": _op(
                "addPhrases",
                "Add one phrase, or many with a per-row report",
                "AddReport: nothing new (duplicates)",
                {400: "malformed JSON", 409: "conflicts with a known phrase", 422: "invalid"},
                body=_json(phrases),
                admin=True,
                s201="AddReport: at least one phrase added",
            ),
        },
        "/api/v1/phrases/{phrase_id}": {
            "parameters": _in_path("phrase_id", {"type": "integer", "minimum": 1}),
            "delete": _op(
                "removePhrase",
                "Remove a phrase (kept in the history)",
                "StoredPhrase: the removed phrase",
                {404: "no such phrase"},
                admin=True,
            ),
        },
        "/api/v1/retrain": {
            "post": _op(
                "retrain",
                "Start a retrain job: train, check, and promote a new model version",
                "",
                {409: f"{busy} already; href names it", 422: "bad field"},
                body="RetrainRequest",
                admin=True,
                s202="JobStarted: started; Location names the job to poll",
            )
        },
        "/api/v1/jobs/{job_id}": {
            "parameters": _in_path("job_id", {"type": "string", "pattern": "^[0-9a-f]{32}$"}),
            "get": _op(
                "getJob",
                "A retrain job: queued, running, promoted, refused or failed",
                "Job: the job; result once promoted, detail once refused or failed",
                {404: "no such job"},
            ),
        },
        "/api/v1/models": {
            "get": _op("listModels", "Model versions, the serving one", "ModelList: newest first")
        },
        "/api/v1/models/shadow": {
            "get": _op(
                "getShadow",
                "How the shadow version's calls compare with the serving version's",
                "ShadowReport: the shadow's figures; version null when none is set",
            ),
            "post": _op(
                "startShadow",
                "Start shadowing a version: it scores every posting beside the serving one",
                "ShadowReport: the shadow, its figures starting from zero",
                {404: "no such version", 409: f"unusable, the serving one, or {busy}", 422: "bad"},
                body="ShadowRequest",
                admin=True,
            ),
            "delete": _op(
                "stopShadow", "Stop shadowing", "ShadowReport: the figures", {409: busy}, admin=True
            ),
        },
        "/api/v1/drift": {
            "get": _op(
                "getDrift",
                "Recent postings against the serving version's drift reference",
                "DriftReport: PSI, OOV and coverage shift, status ok or drifting",
                (503,),
            )
        },
        "/api/v1/models/rollback": {
            "post": _op(
                "rollback",
                "Serve the previous (or a named) version again",
                "RollbackResult: the version now serving",
                {404: "no such version, or none before", 409: f"unusable, or {busy}", 422: "bad"},
                body="RollbackRequest",
                admin=True,
            )
        },
        "/healthz": {"get": _op("healthz", "Liveness", "Health: the process answers")},
        "/metrics": {"get": METRICS_OPERATION},
        "/readyz": {"get": _op("readyz", "Readiness", "Ready: a model is loaded", (503,))},
    }


def document(config: Mapping[str, Any]) -> Schema:
    """The OpenAPI document, with this server's limits written into the schemas."""
    found = copy.deepcopy(schemas())
    chars = int(config["MAX_POSTING_CHARS"])
    for model in ("ClassifyRequest", "BatchItem"):
        found[model]["properties"]["text"]["maxLength"] = chars
    found["BatchRequest"]["properties"]["postings"]["maxItems"] = int(config["MAX_BATCH_SIZE"])
    text = {**found["ClassifyRequest"]["properties"]["text"], "type": "string"}
    paths = _paths(config, text)
    for path, operations in paths.items():  # the rate limit's 429 on every API operation
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                operation["responses"].setdefault("429", RATE_LIMITED)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rolelens",
            "version": "1",
            "description": "Does a job posting lean toward data science or ML engineering, and "
            "which phrases drove the call? Errors are application/problem+json (RFC 9457). "
            f"Limits: body {config['MAX_CONTENT_LENGTH']} bytes, posting {chars} characters "
            f"(title and text together), batch {config['MAX_BATCH_SIZE']} postings (413 names "
            "the one passed).",
        },
        "paths": paths,
        "components": {
            "schemas": found,
            "securitySchemes": {
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the value of ROLELENS_ADMIN_TOKEN on the server",
                }
            },
        },
    }
