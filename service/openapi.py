"""The OpenAPI 3.1 document of the HTTP API, served at ``/api/v1/openapi.json``.

Tests validate the document itself and every real response against its schemas, so a change
to an endpoint that is not made here too fails the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classifier.labels import LABELS, VERDICTS
from service import openapi_admin, openapi_batch
from service.metrics import OPENAPI_OPERATION as METRICS_OPERATION
from service.openapi_problems import problems, with_common_problems

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(
    properties: Mapping[str, Schema], required: tuple[str, ...] | None = None, closed: bool = True
) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties if required is None else required),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


NUMBER: Schema = {"type": "number"}
INTEGER: Schema = {"type": "integer", "minimum": 0}
STRING: Schema = {"type": "string"}
LABEL: Schema = {"type": "string", "enum": list(LABELS)}
TEXT: Schema = {
    "type": "string",
    "minLength": 1,
    "pattern": r"\S",
    "description": "a posting: at least one character that is not white space",
}
SPAN: Schema = {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2}

PREDICTION: dict[str, Schema] = {
    "label": {**LABEL, "description": "the leaning, always one of the two roles"},
    "verdict": {
        "type": "string",
        "enum": list(VERDICTS),
        "description": "the headline: the leaning, or neither when the posting holds too "
        "little data-science or ML-engineering vocabulary (evidence.warning says why)",
    },
    "leaning": {
        "type": "string",
        "enum": ["data-science-leaning", "ML-engineering-leaning"],
    },
    "probability": _obj(
        {label: {"type": "number", "minimum": 0, "maximum": 1} for label in LABELS}
    ),
    "strength": {"type": "string", "enum": ["clear", "moderate", "mixed"]},
    "key_phrases": {
        "type": "array",
        "items": _ref("Phrase"),
        "description": "push toward label, strongest first",
    },
    "counter_phrases": {"type": "array", "items": _ref("Phrase")},
    "score": _obj({"logit": NUMBER, "bias": NUMBER, "contributions_sum": NUMBER}),
    "evidence": _obj(
        {
            "known_terms": INTEGER,
            "role_terms": INTEGER,
            "token_count": INTEGER,
            "coverage": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "share of the posting's tokens that lie inside a phrase; stop "
                "words count toward the total but not as covered",
            },
            "weight": {
                "type": "number",
                "minimum": 0,
                "description": "how far the posting's words move the score in all, either "
                "way: the sum of |contribution| (logit units)",
            },
            "balance": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "weight toward the weaker side over weight toward the "
                "stronger: 0 one-sided, 1 evenly split; a clear call needs it low",
            },
            "warning": {
                "type": ["string", "null"],
                "description": "set when the posting holds too little role "
                "vocabulary for the call to mean much",
            },
        }
    ),
    "similar_phrases": {"type": "array", "items": _ref("SimilarPhrase")},
    "model_version": STRING,
}

SCHEMAS: dict[str, Schema] = {
    "Phrase": _obj(
        {
            "text": {**STRING, "description": "the posting's words, exactly as written"},
            "weight": {
                **NUMBER,
                "description": "share of the logit; > 0 pushes toward ml_engineering",
            },
            "toward": LABEL,
            "spans": {
                "type": "array",
                "items": SPAN,
                "minItems": 1,
                "description": "[start, end) offsets in code points of the classified "
                "text (title, a blank line, then text, when a title was given)",
            },
            "terms": {"type": "array", "items": STRING},
        }
    ),
    "SimilarPhrase": _obj(
        {
            "text": STRING,
            "label": LABEL,
            "source": {**STRING, "description": "seed file, curated or user"},
            "similarity": {"type": "number", "minimum": 0},
        }
    ),
    "Prediction": _obj(PREDICTION),
    "ClassifyRequest": _obj(
        {
            "text": {**TEXT, "description": "the posting"},
            "title": {"type": ["string", "null"], "description": "put before the text"},
        },
        required=("text",),
    ),
    "BatchRequest": _obj(
        {
            "postings": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "id": {
                            "type": ["string", "integer", "null"],
                            "description": "echoed back; the position when absent",
                        },
                        "text": TEXT,
                    },
                    required=("text",),
                ),
            }
        }
    ),
    "BatchResponse": _obj(
        {
            "model_version": STRING,
            "count": INTEGER,
            "results": {
                "type": "array",
                "items": _obj(
                    {
                        "id": {
                            "type": ["string", "integer"],
                            "description": "as sent, or the position when absent",
                        },
                        **PREDICTION,
                    }
                ),
            },
        }
    ),
    "ModelCard": {
        "type": "object",
        "required": ["version", "created_at", "model_sha256", "labels"],
        "properties": {
            "version": STRING,
            "created_at": STRING,
            "model_sha256": STRING,
            "labels": {"type": "array", "items": LABEL},
            "metrics": {"type": "object"},
            "versions": {"type": "object"},
            "strength_band": {"type": "object"},
        },
        "description": "provenance of the serving version: checksums, training phrase "
        "counts, parameters, library versions, metrics",
    },
    "Health": _obj({"status": {"const": "ok"}}),
    "Ready": _obj({"status": {"const": "ready"}, "model_version": STRING}),
    "Problem": _obj(
        {
            "type": STRING,
            "title": STRING,
            "status": {"type": "integer"},
            "detail": {**STRING, "description": "what was wrong and what to do"},
            "instance": STRING,
            "code": {**STRING, "description": "stable name of the problem"},
            "field": {**STRING, "description": "the request field at fault"},
            "limit": {"type": "integer", "description": "the limit that was passed"},
            "setting": {**STRING, "description": "the variable that sets the limit"},
            "allowed": {"type": "array", "items": STRING},
            "retry_after": {"type": "integer", "description": "seconds to wait (429)"},
            "href": {**STRING, "description": "the running retrain job (409 on retrain)"},
        },
        required=("type", "title", "status", "detail"),
    ),
}


def _json(schema: str) -> Schema:
    return {"application/json": {"schema": _ref(schema)}}


def _op(
    summary: str, ok: str, schema: str, *errors: int, body: Schema | None = None, op_id: str
) -> Schema:
    op: Schema = {
        "summary": summary,
        "operationId": op_id,
        "responses": {
            "200": {"description": ok, "content": _json(schema)},
            **problems(*errors),
            "default": {
                "description": "any other error (404, 405, 500, ...), with a detail to act on",
                "content": {"application/problem+json": {"schema": _ref("Problem")}},
            },
        },
    }
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    return op


def document(config: Mapping[str, Any]) -> Schema:
    """The OpenAPI document, with this server's limits written into the descriptions."""
    limits = (
        f"Limits: body {config['MAX_CONTENT_LENGTH']} bytes, posting "
        f"{config['MAX_POSTING_CHARS']} characters, batch {config['MAX_BATCH_SIZE']} "
        "postings (413 names the one passed)."
    )
    classify_body = {
        **_json("ClassifyRequest"),
        "text/plain": {"schema": TEXT},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rolelens",
            "version": "1",
            "description": "Does a job posting lean toward data science or ML "
            "engineering, and which phrases drove the call? Errors are "
            f"application/problem+json (RFC 9457). {limits}",
        },
        "paths": with_common_problems(
            {
                "/api/v1/classify": {
                    "post": _op(
                        "Classify one posting",
                        "the call, its phrases and the model version",
                        "Prediction",
                        400,
                        413,
                        415,
                        422,
                        503,
                        body=classify_body,
                        op_id="classify",
                    )
                },
                "/api/v1/classify/batch": {
                    "post": openapi_batch.with_csv(
                        _op(
                            "Classify several postings, or a CSV file",
                            "one result per posting, in order",
                            "BatchResponse",
                            400,
                            413,
                            415,
                            422,
                            503,
                            body=_json("BatchRequest"),
                            op_id="classifyBatch",
                        ),
                        int(config["MAX_BATCH_ROWS"]),
                    )
                },
                "/api/v1/model": {
                    "get": _op(
                        "The serving model's card", "the card", "ModelCard", 503, op_id="model"
                    )
                },
                "/api/v1/openapi.json": {
                    "get": {
                        "summary": "This document",
                        "operationId": "openapi",
                        "responses": {
                            "200": {
                                "description": "OpenAPI 3.1",
                                "content": {"application/json": {}},
                            }
                        },
                    }
                },
                **openapi_admin.PATHS,
                "/healthz": {
                    "get": _op("Liveness", "the process answers", "Health", op_id="healthz")
                },
                "/metrics": {"get": METRICS_OPERATION},
                "/readyz": {
                    "get": _op(
                        "Readiness",
                        "a model is loaded and self-tested",
                        "Ready",
                        503,
                        op_id="readyz",
                    )
                },
            }
        ),
        "components": {
            "schemas": {**SCHEMAS, **openapi_admin.SCHEMAS, **openapi_batch.SCHEMAS},
            "securitySchemes": openapi_admin.SECURITY_SCHEMES,
        },
    }
