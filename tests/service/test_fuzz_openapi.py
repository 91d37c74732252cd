"""schemathesis drives every operation of the service's own OpenAPI document.

It generates requests that the document allows and requests that it forbids (wrong types,
missing fields, odd strings), and checks that no answer is a 5xx, that every status, content
type and body is the one the document promises, that invalid requests are refused and valid
ones accepted (all of schemathesis's checks). Admin writes run with the token on a private copy
of the data directory, and without it. Retraining takes seconds per call, so
``POST /api/v1/retrain`` gets a handful of examples only. ``--soak`` runs 16 times as many
(over 2,000 requests in all).
"""

from __future__ import annotations

import io
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from service.app import create_app
from service.batch.errors import UnusableInput
from service.batch.read import TableReader
from service.config import APP_DEFAULTS
from service.openapi import document

pytestmark = pytest.mark.xdist_group("fuzz")  # one app and document for the module

TOKEN = "fuzz-token-for-tests"
EXAMPLES = 6  # per operation and mode (valid requests, invalid requests): `make test` sees
# every operation answer both; the soak run is the search (generating is most of the time)
RETRAIN_EXAMPLES = 1  # each one trains a model
SOAK = 16  # times as many under --soak
RETRAIN = "/api/v1/retrain"
# Refusals of invalid requests: schemathesis's own list plus 413, the documented answer to a
# batch of more postings than maxItems allows (it names ROLELENS_MAX_BATCH_SIZE).
REFUSALS = SchemathesisConfig().projects.default.checks.negative_data_rejection.expected_statuses
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [*REFUSALS, "413"]}}}
)
QUICK_POSTING_CHARS = 2_000  # without --soak (api_schema says why)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COLUMN_PARAMETERS = ("text_column", "title_column", "id_column")


@pytest.fixture(scope="module")
def fuzz_home(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the trained data directory that the fuzzed writes may change."""
    copy = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(trained_home, copy)
    return copy


@pytest.fixture(scope="module")
def api_schema(fuzz_home: Path, soak: bool) -> Any:
    """The document as the app serves it, bound to the app for in-process calls.

    A posting may hold ``QUICK_POSTING_CHARS`` characters here, the default under --soak.
    schemathesis folds ``maxLength`` into the text's pattern as a repeat count, and its
    canonicaliser takes time in proportion to it: 0.29 s per schema at the default 50,000,
    some 2 s of each classify operation's 6 examples. Limit, document and refusals come
    from the same setting, which is what this test holds together.
    """
    config = {"TESTING": True, "HOME": str(fuzz_home), "ADMIN_TOKEN": TOKEN}
    if not soak:
        config["MAX_POSTING_CHARS"] = QUICK_POSTING_CHARS
    app = create_app(config)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


FAST = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
PATHS = document(APP_DEFAULTS)["paths"]
# Invalid requests only exist for operations that take something: parameters or a body.
# Without the token only where it matters: the admin writes.
OPERATIONS = [
    (method.upper(), path, mode, token)
    for path, operations in PATHS.items()
    for method, operation in operations.items()
    if method != "parameters"
    for mode in GenerationMode
    if mode.is_positive or {"parameters", "requestBody"} & (set(operations) | set(operation))
    for token in ((True, False) if "security" in operation else (True,))
]


def _named_columns_in_the_header(case: Any) -> None:
    """Leave out text_column, and a title or id column that is not in the body's header row.

    JSON Schema cannot tie a query parameter to a body. The CSV body's pattern asks for a
    posting column, which a text_column naming another column would waive; and a named title
    or id column must be in the header (the parameters' descriptions say so), else 422.
    """
    body = case.body.get("file") if isinstance(case.body, dict) else case.body
    if not isinstance(body, str) or not case.query:
        return
    try:  # the header as the server reads it
        header = TableReader(io.StringIO(body, newline=""), "csv").columns
    except UnusableInput:
        header = []
    names = {column.strip().casefold() for column in header}
    case.query = {
        name: value
        for name, value in case.query.items()
        if name not in COLUMN_PARAMETERS
        or (name != "text_column" and str(value).strip().casefold() in names)
    }


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.parametrize(("method", "path", "mode", "token"), OPERATIONS)
def test_every_operation_holds_to_the_document(
    api_schema: Any,
    method: str,
    path: str,
    mode: GenerationMode,
    token: bool,
    soak: bool,
    record_property: Callable[[str, object], None],
) -> None:
    operation = api_schema[path][method]
    examples = (RETRAIN_EXAMPLES if path == RETRAIN else EXAMPLES) * (SOAK if soak else 1)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(FAST, max_examples=examples)
    def holds(case: Any) -> None:
        tried.append(case)
        _named_columns_in_the_header(case)
        statuses[case.call_and_validate(headers=AUTH if token else {}).status_code] += 1

    tried: list[Any] = []
    statuses: Counter[int] = Counter()
    holds()
    record_property("cases", len(tried))  # --junitxml adds them up
    record_property("statuses", dict(statuses))
    assert tried, "the document let schemathesis generate no request at all"
