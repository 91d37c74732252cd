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
from service.auth import admin_only
from service.config import keep_versions
from service.contract import (
    AddPhrase,
    AddPhrases,
    M,
    PhraseQuery,
    RetrainRequest,
    RollbackRequest,
    parse,
)
from service.errors import ApiProblem
from service.metrics import metrics
from service.postings import read_json

bp = Blueprint("admin", __name__, url_prefix="/api/v1")
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


def _body(model: type[M], example: str, optional: bool = False) -> M:
    """The request's JSON body as ``model`` (an empty body is ``{}`` when ``optional``)."""
    body = read_json(request, example) if request.get_data() or not optional else {}
    return parse(model, body, example)


@bp.get("/phrases")
def list_phrases() -> Response:
    """The stored phrases, filtered by ``label``, ``source``, ``include_removed``."""
    sent = {k: v.lower() if k == "include_removed" else v for k, v in request.args.items()}
    query = parse(PhraseQuery, sent, "?label=data_science&include_removed=true")
    from training.store import open_store

    found = open_store(_home(), _fixtures()).list_phrases(
        query.label, query.source, query.include_removed in ("true", "1", "yes")
    )
    return jsonify({"count": len(found), "phrases": [p.to_dict() for p in found]})


@bp.post("/phrases")
@admin_only
def add_phrases() -> tuple[Response, int]:
    """Add one phrase (``text``, ``label``) or many (``phrases``: [...], ``atomic``)."""
    sent = read_json(request, PHRASE_EXAMPLE)
    many = isinstance(sent, dict) and "phrases" in sent
    body: AddPhrase | AddPhrases = (
        parse(AddPhrases, sent, PHRASE_EXAMPLE) if many else parse(AddPhrase, sent, PHRASE_EXAMPLE)
    )
    one = [] if isinstance(body, AddPhrases) else [{"text": body.text, "label": body.label}]
    rows = body.phrases if isinstance(body, AddPhrases) else one
    pairs: list[tuple[Any, Any]] = [
        (r.get("text"), r.get("label")) if isinstance(r, dict) else (r, None) for r in rows
    ]
    from training.store import open_store

    results = open_store(_home(), _fixtures()).add_many(
        pairs, body.by, _serving(), atomic=body.atomic
    )
    summary = Counter(r.status for r in results)
    status = 201 if summary["added"] else 200
    if not many and results[0].status in ("invalid", "conflict"):
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

    body = _body(RetrainRequest, '{"force": false, "by": "ana"}', optional=True)
    try:
        job = jobs.start(
            _home(),
            body.packs,
            body.force,
            keep=keep_versions(current_app.config["KEEP_VERSIONS"]),
            started_by={"via": "http", "by": body.by},
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
    from training.registry import rollback

    version = _body(RollbackRequest, '{"version": "20261123T120000Z-abc123"}', True).version
    before = _serving()
    try:
        with metrics().outcome(
            "rollback", refused=(ModelNotFound, RetrainBusy, ArtifactError, TrainingError)
        ):
            now = rollback(_home(), version)
    except (ArtifactError, TrainingError) as exc:  # others: errors.TABLE
        raise ApiProblem(409, "version_unusable", f"{exc}; the serving version stays") from None
    return jsonify({"serving": now, "previous": before})
