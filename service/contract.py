"""The HTTP API's JSON bodies, declared once as pydantic models (the server's only: the
command line never loads pydantic).

The models are the OpenAPI document's schemas (:mod:`service.openapi`) and check request
bodies: :func:`parse` turns pydantic's errors into a 422 naming the field and what to send.
The views check what a schema cannot say: a posting's words and this server's limits
(:func:`service.postings.check_posting`), a phrase's rules (the store, row by row). Responses
are not run through their models; tests validate real responses against the schemas.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from classifier.labels import LABELS, SOURCES, VERDICTS
from service.batch.read import TEXT_COLUMNS
from service.errors import ApiProblem

if TYPE_CHECKING:
    Label: TypeAlias = str
    Verdict: TypeAlias = str
    Source: TypeAlias = str
else:
    Label, Verdict, Source = (Literal[values] for values in (LABELS, VERDICTS, SOURCES))

M = TypeVar("M", bound=BaseModel)
Score = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]
Span = Annotated[list[Count], Field(min_length=2, max_length=2)]
# White space as str.isspace() (and so str.strip()) has it: regex engines differ on \s.
BLANK = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Anchored: a lone character class next to maxLength gets folded by schema tools into one
# {1,50000} repeat that takes seconds to compile; this says the same and compiles at once.
WORDS = {"pattern": f"^[{BLANK}]*[^{BLANK}]", "description": "some character not white space"}
Text = Annotated[str, Field(json_schema_extra=WORDS)]  # the views check it (and the length)
NAME = "who asked: 1-64 letters, digits, '.', '_', '@' or '-' (default: api)"
Author = Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$", description=NAME)]
Flag = Literal["true", "false", "1", "0", "yes", "no"]
# One line of 3 to 300 characters (white space around it aside) that starts with a word.
PHRASE = r"^\s*[^\W\d_]{2}[^\x00-\x1f\x7f-\x9f]{0,297}[^\s\x00-\x1f\x7f-\x9f]\s*$"


class Closed(BaseModel):
    """A body with exactly these fields, each of exactly its JSON type."""

    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re")


# --- requests ---
class ClassifyRequest(Closed):
    text: Text = Field(description="the posting")
    title: str | None = Field(None, description="put before the text")


class BatchItem(Closed):
    id: str | int | None = Field(None, description="echoed back; the position when absent")
    text: Text


class BatchRequest(Closed):
    postings: list[BatchItem] = Field(min_length=1)


class AddPhrase(Closed):
    """One phrase; its text and label are checked by the store, like a row of many."""

    text: str = Field(json_schema_extra={"pattern": PHRASE})
    label: str = Field(json_schema_extra={"enum": list(LABELS)})
    by: Author = "api"
    atomic: bool = False


class AddPhrases(Closed):
    # Each row is checked on its own: a bad one is reported in results (status invalid).
    phrases: list[Any] = Field(min_length=1, description='rows like {"text": ..., "label": ...}')
    by: Author = "api"
    atomic: bool = False


class RetrainRequest(Closed):
    force: bool = False
    by: Author = "api"
    packs: list[Source] = Field(list(SOURCES), min_length=1, description="default: all")


class RollbackRequest(Closed):
    version: str | None = Field(None, description="from /api/v1/models; null: the previous")


class ShadowRequest(Closed):
    version: str = Field(description="a name from /api/v1/models")


class PhraseQuery(BaseModel):
    label: Label | None = Field(None, description="only this label")
    source: str | None = Field(None, description="only this source")
    include_removed: Flag = Field("false", description="also list removed phrases")


class TableQuery(BaseModel):
    """A CSV's columns (of its header row) for ``POST /classify/batch``."""

    text_column: str | None = Field(None, description=f"the posting: {', '.join(TEXT_COLUMNS)}")
    title_column: str | None = Field(None, description="put before the text")
    id_column: str | None = Field(None, description="names each row in messages")


# --- responses ---
class Phrase(Closed):
    text: str = Field(description="the posting's words, exactly as written")
    weight: float = Field(description="share of the logit; > 0 pushes toward ml_engineering")
    toward: Label
    # Code points of the text classified: title, a blank line, then text, when titled.
    spans: list[Span] = Field(min_length=1, description="[start, end) offsets in code points")
    terms: list[str]


class SimilarPhrase(Closed):
    text: str
    label: Label
    source: str = Field(description="seed file, curated or user")
    similarity: float = Field(ge=0)


class Probability(Closed):
    data_science: Score
    ml_engineering: Score


class Logit(Closed):
    logit: float
    bias: float
    contributions_sum: float


class Evidence(Closed):
    known_terms: Count
    role_terms: Count
    token_count: Count
    coverage: Score = Field(description="share of the tokens (stop words too) in a phrase")
    weight: float = Field(ge=0, description="the sum of |contribution| (logit units)")
    balance: Score = Field(description="weaker side's weight / stronger's: 0 one-sided")
    warning: str | None = Field(description="set when too little role vocabulary to mean much")


class Prediction(Closed):
    label: Label = Field(description="the leaning, always one of the two roles")
    verdict: Verdict = Field(description="the leaning, or neither (evidence.warning says why)")
    leaning: Literal["data-science-leaning", "ML-engineering-leaning"]
    probability: Probability
    strength: Literal["clear", "moderate", "mixed"]
    key_phrases: list[Phrase] = Field(description="push toward label, strongest first")
    counter_phrases: list[Phrase]
    score: Logit
    evidence: Evidence
    similar_phrases: list[SimilarPhrase]
    model_version: str


class BatchResult(Prediction):
    id: str | int = Field(description="as sent, or the position when absent")


class BatchResponse(Closed):
    model_version: str
    count: Count
    results: list[BatchResult]


class TableRow(BaseModel):
    """One input row: every input column (renamed with _input when it clashes with a result
    column), then the result columns."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str] = Field(init=False)
    label: Label | None
    verdict: Verdict | None
    probability_ml_engineering: Score | None
    strength: Literal["clear", "moderate", "mixed"] | None
    key_phrases: list[str] | None
    model_version: str
    error: str | None = Field(description="why this row was not classified, or a note on it")


class TableResponse(Closed):
    model_version: str
    count: Count
    encoding: str = Field(description="how the CSV was decoded: UTF-8 (with BOM), UTF-16, cp1252")
    results: list[TableRow]


class ModelCard(BaseModel):
    """The serving version's provenance: checksums, phrase counts, parameters, metrics."""

    version: str
    created_at: str
    model_sha256: str
    labels: list[Label]
    metrics: dict[str, Any] = {}
    versions: dict[str, Any] = {}
    strength_band: dict[str, Any] = {}


class Health(Closed):
    status: Literal["ok"]


class Ready(Closed):
    status: Literal["ready"]
    model_version: str


class Problem(Closed):
    """A problem (RFC 9457): what was wrong and what to do."""

    type: str
    title: str
    status: int
    detail: str = Field(description="what was wrong and what to do")
    instance: str | None = None
    code: str | None = Field(None, description="stable name of the problem")
    field: str | None = Field(None, description="the request field at fault")
    limit: int | None = Field(None, description="the limit that was passed")
    setting: str | None = Field(None, description="the variable that sets the limit")
    allowed: list[str] | None = None
    retry_after: int | None = Field(None, description="seconds to wait (429)")
    href: str | None = Field(None, description="the running retrain job (409 on retrain)")


class StoredPhrase(BaseModel):
    id: int
    text: str
    label: Label
    source: str
    created_at: str
    removed_at: str | None = None


class PhraseList(BaseModel):
    count: int
    phrases: list[StoredPhrase]


class AddResult(BaseModel):
    status: Literal["added", "duplicate", "conflict", "invalid", "rolled back"]
    text: Any
    label: Any
    message: str
    id: int | None = None


class AddReport(BaseModel):
    summary: dict[str, int]
    results: list[AddResult]


class RetrainResult(BaseModel):
    version: str
    promoted: bool
    previous: str | None = None
    validation: dict[str, Any] | None
    previous_validation: dict[str, Any] | None = None


class JobStarted(BaseModel):
    id: str
    status: Literal["queued"]
    href: str


class Job(BaseModel):
    id: str
    status: Literal["queued", "running", "promoted", "refused", "failed"]
    href: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    packs: list[Source]
    force: bool
    detail: str | None = Field(None, description="why it was refused or failed, and what to do")
    result: RetrainResult | None = None


class ModelVersion(BaseModel):
    version: str
    sequence: int | None = Field(None, description="creation order")
    created_at: str | None = None
    packs: list[str] = []
    phrases: dict[str, Any] = Field({}, description="training phrases per pack, then per label")
    validation: dict[str, Any] = {}
    validation_macro_f1: float | None = None
    started_by: dict[str, Any] = Field({}, description="via (cli, http, library), by (a name)")
    roles: list[Literal["serving", "previous", "shadow", "refused"]]
    serving: bool
    shadow: bool = False
    refused: bool = False
    refused_because: str | None = None
    problem: str | None = Field(None, description="why it cannot serve (unreadable card)")


class ModelList(BaseModel):
    serving: str | None
    shadow: str | None = None
    versions: list[ModelVersion]


class RollbackResult(BaseModel):
    serving: str
    previous: str | None = None


class Disagreement(BaseModel):
    at: float | None = Field(None, description="Unix time")
    posting: str = Field(description="sha256 of the text, 16 hex")
    serving_version: str | None = None
    serving_label: Label
    shadow_label: Label
    p_serving: float
    p_shadow: float
    text: str | None = None


class ShadowReport(BaseModel):
    version: str | None
    n: int = Field(description="postings both versions scored")
    agreement: float | None = Field(description="share with the same label")
    mean_abs_delta_p: float | None = Field(description="mean |ΔP(ml_engineering)|")
    # The latest, newest first; their text only with ROLELENS_SHADOW_KEEP_TEXT=1.
    disagreements: list[Disagreement] = Field(max_length=20)


class DriftReport(BaseModel):
    """Drifting: psi > 2.0, oov_shift > 0.15 or coverage_shift < -0.5 (docs/monitoring.md)."""

    version: str
    window: int | None = Field(None, description="ROLELENS_DRIFT_WINDOW")
    n: int | None = None
    psi: float | None = None
    oov_share: float | None = None
    oov_shift: float | None = None
    role_coverage: float | None = None
    coverage_shift: float | None = None
    status: Literal["ok", "drifting"]
    enough: bool
    reasons: list[str] = []
    thresholds: dict[str, Any] = {}
    reference: dict[str, Any] = {}
    detail: str | None = None


def _models() -> list[type[BaseModel]]:
    found = [*BaseModel.__subclasses__(), *Closed.__subclasses__()]
    return [m for m in found if m.__module__ == __name__ and m is not Closed]


class _NoFieldTitles(GenerateJsonSchema):
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@functools.cache
def schemas() -> dict[str, Any]:
    """The JSON Schemas of the models, by name (shared: copy before changing)."""
    _, found = models_json_schema(
        [(model, "validation") for model in _models()],
        ref_template="#/components/schemas/{model}",
        schema_generator=_NoFieldTitles,
    )
    defs: dict[str, Any] = found["$defs"]
    return defs


# --- request checking ---

EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "bool_type": "true or false (JSON booleans)",
    "list_type": "an array",
}


def type_name(value: object) -> str:
    """The JSON name of ``value``'s type."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number"}
    return "null" if value is None else names.get(type(value), "number")


def _walk(error: Any, model: type[BaseModel]) -> tuple[str, type[BaseModel]]:
    """The error's place as a field path (``postings[0].id``), and the model holding it.

    Steps that are not fields or indexes (the member names pydantic adds under a union) are
    left out; an unknown field is the last step of its place.
    """
    loc, unknown = error["loc"], error["type"] == "extra_forbidden"
    path, holder = "", model
    for n, step in enumerate(loc):
        if isinstance(step, int):
            path += f"[{step}]"
            continue
        fields = model.model_fields
        if step not in fields and not (unknown and n == len(loc) - 1):
            continue
        path += f".{step}" if path else str(step)
        holder = model
        inner = fields[step].annotation if step in fields else None
        for candidate in (inner, *get_args(inner)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                model = candidate
    return path or "body", holder


def _detail(model: type[BaseModel], errors: list[Any], example: str) -> tuple[str, str]:
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")  # an unknown field first
    first = errors[0]
    field, holder = _walk(first, model)
    kind, value, name = first["type"], first["input"], field.rpartition(".")[2]
    if kind == "extra_forbidden":
        where = field.rpartition(".")[0] or "body"
        fields = ", ".join(holder.model_fields)
        return field, f"{where} has unknown field(s) {name}; fields are: {fields}"
    if kind == "missing":
        return field, f"{field} is missing; send {example}"
    if kind in ("model_type", "dict_type"):
        return field, f"{field} is {type_name(value)}, not an object; send {example}"
    if kind == "too_short":
        return field, f"{field} is empty; send at least one item, as in {example}"
    kinds = [e["type"] for e in errors if _walk(e, model)[0] == field]
    if all(k in EXPECTED for k in kinds):  # a type error, maybe one per member of a union
        expected = " or ".join(EXPECTED[k] for k in kinds)
        return field, f"{field} is {type_name(value)}; it must be {expected}"
    info = holder.model_fields.get(name)
    hint = f"; {info.description}" if info is not None and info.description else ""
    return field, f"{field}: {first['msg'][0].lower()}{first['msg'][1:]}{hint}"


def parse(model: type[M], body: object, example: str) -> M:
    """``body`` as ``model``; a 422 naming the first field at fault and what to send."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        field, detail = _detail(model, exc.errors(include_url=False), example)
        raise ApiProblem(422, "invalid_field", detail, field=field) from None
