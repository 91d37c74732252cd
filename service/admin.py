"""Teaching and model management over HTTP: phrases, retrain, versions, rollback.

Reads are open; writes need the admin token (``service.auth``). Each view is a thin shell
over the training library, the same functions the command line calls, imported by the view
that needs it: a serving worker that is never asked to teach or retrain never loads it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from classifier.artifacts import current_version, shadow_version
from classifier.errors import ArtifactError, ModelNotFound
from classifier.labels import LABELS, SOURCES
from service.auth import admin_only
from service.config import keep_versions
from service.errors import ApiProblem
from service.metrics import metrics
from service.postings import read_json

bp = Blueprint("admin", __name__, url_prefix="/api/v1")
TRUE, FALSE = frozenset({"1", "true", "yes"}), frozenset({"0", "false", "no"})
PHRASE_EXAMPLE = '{"text": "deploy models with Kubernetes", "label": "ml_engineering"}'


def _home() -> Path:
    return Path(current_app.config["HOME"])


def _fixtures() -> Path | None:
    given = current_app.config.get("FIXTURES")
    return Path(str(given)) if given else None


def _serving() -> str | None:
    try:
        return current_version(_home())
    except ModelNotFound:
        return None


def _object(example: str, fields: frozenset[str]) -> dict[str, Any]:
    body = read_json(request, example)
    if not isinstance(body, dict):
        raise ApiProblem(422, "invalid_field", f"send a JSON object like {example}", field="body")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise ApiProblem(
            422,
            "invalid_field",
            f"unknown field {unknown[0]!r}; fields are: {', '.join(sorted(fields))}",
            field=unknown[0],
        )
    return body


def _author(body: dict[str, Any]) -> str:
    from training.errors import TrainingError
    from training.store import check_name

    who = body.get("by", "api")
    if not isinstance(who, str):
        raise ApiProblem(422, "invalid_field", "by must be a string: the author's name", field="by")
    try:
        return check_name(who)
    except TrainingError as exc:
        raise ApiProblem(422, "invalid_field", str(exc), field="by") from None


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiProblem(
            422, "invalid_field", f"{name} must be true or false (JSON booleans)", field=name
        )
    return value


@bp.get("/phrases")
def list_phrases() -> Response:
    """The stored phrases, filtered by ``label``, ``source``, ``include_removed``."""
    label = request.args.get("label")
    if label is not None and label not in LABELS:
        raise ApiProblem(
            422, "invalid_field", f"label must be one of {', '.join(LABELS)}", field="label"
        )
    flag = request.args.get("include_removed", "false").lower()
    if flag not in TRUE | FALSE:
        raise ApiProblem(
            422,
            "invalid_field",
            f"include_removed must be one of {', '.join(sorted(TRUE | FALSE))}",
            field="include_removed",
        )
    removed = flag in TRUE
    from training.store import open_store

    found = open_store(_home(), _fixtures()).list_phrases(
        label, request.args.get("source"), removed
    )
    return jsonify({"count": len(found), "phrases": [p.to_dict() for p in found]})


@bp.post("/phrases")
@admin_only
def add_phrases() -> tuple[Response, int]:
    """Add one phrase (``text``, ``label``) or many (``phrases``: [...], ``atomic``)."""
    body = _object(PHRASE_EXAMPLE, frozenset({"text", "label", "phrases", "by", "atomic"}))
    if "phrases" in body and ("text" in body or "label" in body):
        raise ApiProblem(
            422,
            "invalid_field",
            f'send either one phrase {PHRASE_EXAMPLE} or a "phrases" list, not both',
            field="phrases",
        )
    rows = body.get("phrases", [body] if "text" in body or "label" in body else None)
    if not isinstance(rows, list) or not rows:
        raise ApiProblem(
            422,
            "invalid_field",
            f'send {PHRASE_EXAMPLE} or a non-empty "phrases" list of such objects',
            field="phrases",
        )
    pairs: list[tuple[Any, Any]] = [
        (row.get("text"), row.get("label")) if isinstance(row, dict) else (row, None)
        for row in rows
    ]
    author, atomic = _author(body), _flag(body, "atomic")
    from training.store import open_store

    results = open_store(_home(), _fixtures()).add_many(pairs, author, _serving(), atomic=atomic)
    summary = Counter(r.status for r in results)
    status = 201 if summary["added"] else 200
    if "phrases" not in body and results[0].status in ("invalid", "conflict"):
        code = 422 if results[0].status == "invalid" else 409
        raise ApiProblem(code, results[0].status, results[0].message)
    return jsonify({"summary": dict(summary), "results": [r.to_dict() for r in results]}), status


@bp.delete("/phrases/<int:phrase_id>")
@admin_only
def remove_phrase(phrase_id: int) -> Response:
    """Remove a phrase (soft: kept in the history)."""
    from training.store import open_store

    removed = open_store(_home(), _fixtures()).remove(phrase_id, "api", _serving())  # errors.TABLE
    return jsonify(removed.to_dict())


@bp.post("/retrain")
@admin_only
def retrain_now() -> tuple[Response, int, dict[str, str]]:
    """Start a retrain job (train on the packs and the store, check, promote if good enough)."""
    from training import jobs
    from training.errors import JobBusy

    body = (
        _object('{"force": false}', frozenset({"force", "packs", "by"}))
        if request.get_data()
        else {}
    )
    packs = body.get("packs", list(SOURCES))
    if not isinstance(packs, list) or not packs or any(p not in SOURCES for p in packs):
        raise ApiProblem(
            422, "invalid_field", f"packs must be a list of: {', '.join(SOURCES)}", field="packs"
        )
    force = _flag(body, "force")
    try:
        job = jobs.start(
            _home(),
            packs,
            force,
            keep=keep_versions(current_app.config["KEEP_VERSIONS"]),
            started_by={"via": "http", "by": _author(body)},
            fixtures=_fixtures(),
        )
    except JobBusy as exc:
        href = _job_href(exc.job_id)
        raise ApiProblem(
            409,
            "retrain_running",
            f"a retrain is running already: {href}; wait until its status is no longer "
            "queued or running, then retrain again",
            href=href,
        ) from None
    href = _job_href(job.id)
    answer = jsonify({"id": job.id, "status": job.status, "href": href})
    return answer, 202, {"Location": href}


def _job_href(job_id: str) -> str:
    return f"{bp.url_prefix}/jobs/{job_id}"


@bp.get("/jobs/<job_id>")
def job_status(job_id: str) -> Response:
    """A retrain job: queued, running, promoted, refused or failed, with figures or a reason."""
    from training import jobs

    job = jobs.get(_home(), job_id)
    if job.status not in jobs.ACTIVE and jobs.mark_counted(_home(), job_id) is not None:
        metrics().count_outcome("retrain", job.status)
    return jsonify({**job.to_dict(), "href": _job_href(job.id)})


@bp.get("/models")
def models() -> Response:
    """Every version, newest first: what it learned from, its scores, who made it, its role."""
    from training.versions import describe_all

    versions = [info.to_dict() for info in describe_all(_home())]
    return jsonify({"serving": _serving(), "shadow": shadow_version(_home()), "versions": versions})


@bp.post("/models/rollback")
@admin_only
def rollback_now() -> Response:
    """Serve the previous version again, or the one named in ``version``."""
    from training.errors import RetrainBusy, TrainingError
    from training.retrain import rollback

    example = '{"version": "20261123T120000Z-abc123"}'
    body = _object(example, frozenset({"version"})) if request.get_data() else {}
    version = body.get("version")
    if version is not None and not isinstance(version, str):
        raise ApiProblem(422, "invalid_field", "version must be a string", field="version")
    before = _serving()
    try:
        with metrics().outcome(
            "rollback", refused=(ModelNotFound, RetrainBusy, ArtifactError, TrainingError)
        ):
            now = rollback(_home(), version)
    except (ArtifactError, TrainingError) as exc:  # others: errors.TABLE
        raise ApiProblem(409, "version_unusable", f"{exc}; the serving version stays") from None
    return jsonify({"serving": now, "previous": before})
