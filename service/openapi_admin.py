"""The OpenAPI paths and schemas of the admin API (phrases, retrain, models, rollback)."""

from __future__ import annotations

from typing import Any

from classifier.labels import LABELS, SOURCES

Schema = dict[str, Any]
LABEL: Schema = {"type": "string", "enum": list(LABELS)}
STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
_BY: Schema = {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$"}
# One line of 3 to 300 characters (white space around it aside) that starts with a word.
_PHRASE: Schema = {
    "type": "string",
    "pattern": r"^\s*[^\W\d_]{2}[^\x00-\x1f\x7f-\x9f]{0,297}[^\s\x00-\x1f\x7f-\x9f]\s*$",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: Schema, mimetype: str = "application/json") -> Schema:
    return {mimetype: {"schema": schema}}


def _op(
    summary: str,
    op_id: str,
    ok: dict[str, tuple[str, str]],
    errors: dict[int, str],
    body: str | None = None,
    admin: bool = False,
    query: list[Schema] | None = None,
) -> Schema:
    responses: Schema = {
        status: {"description": text, "content": _content(_ref(schema))}
        for status, (schema, text) in ok.items()
    }
    statuses = {
        **errors,
        **(
            {
                401: "no bearer token",
                403: "wrong token, or writes are turned off (no ROLELENS_ADMIN_TOKEN)",
            }
            if admin
            else {}
        ),
    }
    for status, text in statuses.items():
        responses[str(status)] = {
            "description": text,
            "content": _content(_ref("Problem"), "application/problem+json"),
        }
    responses["default"] = {
        "description": "any other error, with a detail to act on",
        "content": _content(_ref("Problem"), "application/problem+json"),
    }
    op: Schema = {"summary": summary, "operationId": op_id, "responses": responses}
    if body:
        required = body == "AddPhrasesRequest"  # retrain and rollback may send none
        op["requestBody"] = {"required": required, "content": _content(_ref(body))}
    if admin:
        op["security"] = [{"adminToken": []}]
    if query:
        op["parameters"] = query
    return op


LIST_QUERY: list[Schema] = [
    {"name": "label", "in": "query", "schema": LABEL, "description": "only this label"},
    {"name": "source", "in": "query", "schema": STRING, "description": "only this source"},
    {
        "name": "include_removed",
        "in": "query",
        "schema": {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]},
        "description": "also list removed phrases",
    },
]


PATHS: Schema = {
    "/api/v1/phrases": {
        "get": _op(
            "List stored phrases (query: label, source, include_removed)",
            "listPhrases",
            {"200": ("PhraseList", "the phrases")},
            {422: "unknown label"},
            query=LIST_QUERY,
        ),
        "post": _op(
            "Add one phrase, or many with a per-row report",
            "addPhrases",
            {
                "200": ("AddReport", "nothing new (duplicates)"),
                "201": ("AddReport", "at least one phrase added"),
            },
            {
                400: "malformed JSON",
                409: "conflicts with a known phrase",
                415: "not JSON",
                422: "invalid phrase or field",
            },
            body="AddPhrasesRequest",
            admin=True,
        ),
    },
    "/api/v1/phrases/{phrase_id}": {
        "parameters": [
            {
                "name": "phrase_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1},
            }
        ],
        "delete": _op(
            "Remove a phrase (kept in the history)",
            "removePhrase",
            {"200": ("StoredPhrase", "the removed phrase")},
            {404: "no such phrase"},
            admin=True,
        ),
    },
    "/api/v1/retrain": {
        "post": _op(
            "Start a retrain job: train, check, and promote a new model version",
            "retrain",
            {"202": ("JobStarted", "started; Location names the job to poll")},
            {
                409: "a retrain job is running already; href names it",
                422: "bad field",
            },
            body="RetrainRequest",
            admin=True,
        ),
    },
    "/api/v1/jobs/{job_id}": {
        "parameters": [
            {
                "name": "job_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            }
        ],
        "get": _op(
            "A retrain job: queued, running, promoted, refused or failed",
            "getJob",
            {"200": ("Job", "the job; result once promoted, detail once refused or failed")},
            {404: "no such job"},
        ),
    },
    "/api/v1/models": {
        "get": _op(
            "Model versions and which one serves",
            "listModels",
            {"200": ("ModelList", "versions, newest first")},
            {},
        ),
    },
    "/api/v1/models/shadow": {
        "get": _op(
            "How the shadow version's calls compare with the serving version's",
            "getShadow",
            {"200": ("ShadowReport", "the shadow's figures; version null when none is set")},
            {},
        ),
        "post": _op(
            "Start shadowing a version: it scores every posting beside the serving one",
            "startShadow",
            {"200": ("ShadowReport", "the shadow, its figures starting from zero")},
            {
                404: "no such version",
                409: "the version cannot serve, is the serving one, or a retrain is running",
                415: "not JSON",
                422: "bad field",
            },
            body="ShadowRequest",
            admin=True,
        ),
        "delete": _op(
            "Stop shadowing",
            "stopShadow",
            {"200": ("ShadowReport", "the figures gathered until now")},
            {409: "a retrain is running"},
            admin=True,
        ),
    },
    "/api/v1/drift": {
        "get": _op(
            "Recent postings against the serving version's drift reference",
            "getDrift",
            {"200": ("DriftReport", "PSI, OOV and coverage shift, status ok or drifting")},
            {503: "no model is loaded"},
        ),
    },
    "/api/v1/models/rollback": {
        "post": _op(
            "Serve the previous (or a named) version again",
            "rollback",
            {"200": ("RollbackResult", "the version now serving")},
            {
                404: "no such version, or none before",
                409: "target unusable, or a retrain is running",
                422: "bad field",
            },
            body="RollbackRequest",
            admin=True,
        ),
    },
}

_PHRASE_IN: Schema = {
    "description": 'a phrase like {"text": ..., "label": ...}; each row is checked on its own '
    "and a bad one is reported in results (status invalid), not refused with the request",
}
_RESULT: Schema = {
    "type": "object",
    "required": ["status", "text", "label", "message"],
    "properties": {
        "status": {"enum": ["added", "duplicate", "conflict", "invalid", "rolled back"]},
        "text": {},
        "label": {},
        "message": STRING,
        "id": {"type": ["integer", "null"]},
    },
}
_VALIDATION: Schema = {"type": ["object", "null"], "properties": {"macro_f1": {"type": "number"}}}

SCHEMAS: Schema = {
    "StoredPhrase": {
        "type": "object",
        "required": ["id", "text", "label", "source", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "text": STRING,
            "label": LABEL,
            "source": STRING,
            "created_at": STRING,
            "removed_at": {"type": ["string", "null"]},
        },
    },
    "PhraseList": {
        "type": "object",
        "required": ["count", "phrases"],
        "properties": {
            "count": {"type": "integer"},
            "phrases": {"type": "array", "items": _ref("StoredPhrase")},
        },
    },
    "AddPhrasesRequest": {
        "description": "one phrase (text, label) or many (phrases), not both; by names the "
        "author. A phrase is one line of 3 to 300 characters holding a word.",
        "oneOf": [
            {
                "type": "object",
                "required": ["text", "label"],
                "additionalProperties": False,
                "properties": {"text": _PHRASE, "label": LABEL, "by": _BY, "atomic": BOOLEAN},
            },
            {
                "type": "object",
                "required": ["phrases"],
                "additionalProperties": False,
                "properties": {
                    "phrases": {"type": "array", "items": _PHRASE_IN, "minItems": 1},
                    "by": _BY,
                    "atomic": BOOLEAN,
                },
            },
        ],
    },
    "AddReport": {
        "type": "object",
        "required": ["summary", "results"],
        "properties": {
            "summary": {"type": "object"},
            "results": {"type": "array", "items": _RESULT},
        },
    },
    "RetrainRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "force": {"type": "boolean"},
            "by": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._@-]{1,64}$",
                "description": "who asked, kept in the new version's card (default: api)",
            },
            "packs": {
                "type": "array",
                "items": {"enum": list(SOURCES)},
                "minItems": 1,
                "description": "phrase packs to train on (default: all)",
            },
        },
    },
    "RetrainResult": {
        "type": "object",
        "required": ["version", "promoted", "validation"],
        "properties": {
            "version": STRING,
            "promoted": {"type": "boolean"},
            "previous": {"type": ["string", "null"]},
            "validation": _VALIDATION,
            "previous_validation": _VALIDATION,
        },
    },
    "JobStarted": {
        "type": "object",
        "required": ["id", "status", "href"],
        "properties": {"id": STRING, "status": {"enum": ["queued"]}, "href": STRING},
    },
    "Job": {
        "type": "object",
        "required": ["id", "status", "href", "created_at", "packs", "force"],
        "properties": {
            "id": STRING,
            "status": {"enum": ["queued", "running", "promoted", "refused", "failed"]},
            "href": STRING,
            "created_at": STRING,
            "started_at": {"type": ["string", "null"]},
            "finished_at": {"type": ["string", "null"]},
            "packs": {"type": "array", "items": {"enum": list(SOURCES)}},
            "force": {"type": "boolean"},
            "detail": {
                "type": ["string", "null"],
                "description": "why it was refused or failed, and what to do",
            },
            "result": {"anyOf": [_ref("RetrainResult"), {"type": "null"}]},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["serving", "versions"],
        "properties": {
            "serving": {"type": ["string", "null"]},
            "shadow": {"type": ["string", "null"]},
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version", "serving", "roles"],
                    "properties": {
                        "version": STRING,
                        "sequence": {"type": ["integer", "null"], "description": "creation order"},
                        "created_at": {"type": ["string", "null"]},
                        "packs": {"type": "array", "items": STRING},
                        "phrases": {
                            "type": "object",
                            "description": "training phrases per pack, then per label",
                        },
                        "validation": {"type": "object"},
                        "validation_macro_f1": {"type": ["number", "null"]},
                        "started_by": {
                            "type": "object",
                            "description": "via (cli, http, library) and by (a name)",
                        },
                        "roles": {
                            "type": "array",
                            "items": {"enum": ["serving", "previous", "shadow", "refused"]},
                        },
                        "serving": {"type": "boolean"},
                        "shadow": {"type": "boolean"},
                        "refused": {"type": "boolean"},
                        "refused_because": {"type": ["string", "null"]},
                        "problem": {
                            "type": "string",
                            "description": "why this version cannot serve (unreadable card)",
                        },
                    },
                },
            },
        },
    },
    "RollbackRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "version": {
                "type": ["string", "null"],
                "description": "a name from GET /api/v1/models; null or absent: the previous one",
            }
        },
    },
    "RollbackResult": {
        "type": "object",
        "required": ["serving"],
        "properties": {"serving": STRING, "previous": {"type": ["string", "null"]}},
    },
}

PATHS["/api/v1/models/shadow"]["post"]["requestBody"]["required"] = True
NUMBER_OR_NULL: Schema = {"type": ["number", "null"]}
SCHEMAS["ShadowRequest"] = {
    "type": "object",
    "required": ["version"],
    "additionalProperties": False,
    "properties": {"version": {"type": "string", "description": "a name from /api/v1/models"}},
}
SCHEMAS["ShadowReport"] = {
    "type": "object",
    "required": ["version", "n", "agreement", "mean_abs_delta_p", "disagreements"],
    "properties": {
        "version": {"type": ["string", "null"]},
        "n": {"type": "integer", "description": "postings both versions scored"},
        "agreement": {**NUMBER_OR_NULL, "description": "share with the same label"},
        "mean_abs_delta_p": {**NUMBER_OR_NULL, "description": "mean |ΔP(ml_engineering)|"},
        "disagreements": {
            "type": "array",
            "maxItems": 20,
            "description": "the latest, newest first; text only with ROLELENS_SHADOW_KEEP_TEXT=1",
            "items": {
                "type": "object",
                "required": ["posting", "serving_label", "shadow_label", "p_serving", "p_shadow"],
                "properties": {
                    "at": {"type": "number", "description": "Unix time"},
                    "posting": {"type": "string", "description": "sha256 of the text, 16 hex"},
                    "serving_version": STRING,
                    "serving_label": LABEL,
                    "shadow_label": LABEL,
                    "p_serving": {"type": "number"},
                    "p_shadow": {"type": "number"},
                    "text": STRING,
                },
            },
        },
    },
}
SCHEMAS["DriftReport"] = {
    "type": "object",
    "required": ["version", "status", "enough"],
    "description": "thresholds: psi > 2.0, oov_shift > 0.15 or coverage_shift < -0.5 "
    "over at least 50 postings means drifting (see docs/monitoring.md)",
    "properties": {
        "version": STRING,
        "window": {"type": "integer", "description": "ROLELENS_DRIFT_WINDOW"},
        "n": {"type": "integer"},
        "psi": {"type": "number"},
        "oov_share": {"type": "number"},
        "oov_shift": {"type": "number"},
        "role_coverage": {"type": "number"},
        "coverage_shift": {"type": "number"},
        "status": {"enum": ["ok", "drifting"]},
        "enough": {"type": "boolean"},
        "reasons": {"type": "array", "items": STRING},
        "thresholds": {"type": "object"},
        "reference": {"type": "object"},
        "detail": STRING,
    },
}

SECURITY_SCHEMES: Schema = {
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "the value of ROLELENS_ADMIN_TOKEN on the server",
    },
}
