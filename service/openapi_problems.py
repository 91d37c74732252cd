"""The problem+json responses of the OpenAPI document, and the ones every operation shares."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

PROBLEM_CONTENT: Schema = {
    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
}
RATE_LIMITED: Schema = {
    "description": "over the per-client rate limit (ROLELENS_RATE_LIMIT, off by default); "
    "Retry-After says when to try again",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": PROBLEM_CONTENT,
}
COMPRESSED: Schema = {
    "description": "a compressed body (any Content-Encoding) is never inflated, or the "
    "Content-Type is not accepted",
    "content": PROBLEM_CONTENT,
}


def with_common_problems(paths: Schema) -> Schema:
    """Add 429 to every operation under /api/ and 415 to every one that takes a body."""
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if path.startswith("/api/"):
                responses.setdefault("429", RATE_LIMITED)
            if "requestBody" in operation:
                responses.setdefault("415", COMPRESSED)
    return paths


def problems(*statuses: int) -> dict[str, Schema]:
    """The problem+json responses of ``statuses``, each with what it means."""
    text = {
        400: "malformed JSON or undecodable text",
        413: "a limit was passed (named)",
        415: "unsupported Content-Type, or a compressed body (any Content-Encoding)",
        422: "a field is missing, empty or mistyped",
        503: "no model is loaded",
    }
    return {
        str(s): {
            "description": text[s],
            "content": PROBLEM_CONTENT,
        }
        for s in statuses
    }
