"""schemathesis drives every operation of the service's own OpenAPI document.

It generates requests that the document allows and requests that it forbids (wrong types,
missing fields, odd strings), and checks that no answer is a 5xx, that every status, content
type and body is the one the document promises, and that invalid requests are refused. Admin
writes run with the token on a private copy of the data directory. Retraining takes seconds
per call, so ``POST /api/v1/retrain`` gets a handful of examples only.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from service.app import create_app
from service.config import APP_DEFAULTS
from service.openapi import document

TOKEN = "fuzz-token-for-tests"
EXAMPLES = 25  # per operation and mode (valid requests, invalid requests)
RETRAIN_EXAMPLES = 2  # each one trains a model for seconds
RETRAIN = "/api/v1/retrain"
PHRASES = "/api/v1/phrases"
BATCH = "/api/v1/classify/batch"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def fuzz_home(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trained data directory that the fuzzed writes may change."""
    copy = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(trained_home, copy)
    return copy


@pytest.fixture(scope="module")
def api_schema(fuzz_home: Path) -> Any:
    """The document as the app serves it, bound to the app for in-process calls."""
    app = create_app({"TESTING": True, "HOME": str(fuzz_home), "ADMIN_TOKEN": TOKEN})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
PATHS = document(APP_DEFAULTS)["paths"]
# Invalid requests only exist for operations that take something: parameters or a body.
OPERATIONS = [
    (method.upper(), path, mode)
    for path, operations in PATHS.items()
    for method, operation in operations.items()
    if method != "parameters"
    for mode in GenerationMode
    if mode.is_positive or {"parameters", "requestBody"} & (set(operations) | set(operation))
]


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_every_operation_holds_to_the_document(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]
    examples = RETRAIN_EXAMPLES if path == RETRAIN else EXAMPLES

    # A phrase's own rules (3-300 characters of one line, holding a word, no conflict) are
    # more than JSON Schema says: a schema-valid phrase may get its documented 409/422.
    # Likewise a CSV body: "a table with a posting column" is more than a string schema says,
    # so schema-valid bytes may get the documented 400/422 (never a 5xx: still checked).
    acceptance = [schemathesis.checks.positive_data_acceptance]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(FAST, max_examples=examples)
    def holds(case: Any) -> None:
        tried.append(case)
        table = path == BATCH and case.media_type != "application/json"
        excluded = acceptance if path == PHRASES or table else []
        case.call_and_validate(headers=AUTH, excluded_checks=excluded)

    tried: list[Any] = []
    holds()
    assert tried, "the document let schemathesis generate no request at all"
