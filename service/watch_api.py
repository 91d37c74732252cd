"""``/api/v1/models/shadow`` and ``/api/v1/drift``: the shadow challenger and drift over HTTP.

Reads are open; starting and stopping the shadow need the admin token. The figures come
from the store every worker writes to, so any worker answers for the whole service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from classifier.artifacts import shadow_version
from classifier.errors import ArtifactError, ModelNotFound
from service.auth import admin_only
from service.contract import ShadowRequest, parse
from service.errors import ApiProblem
from service.postings import read_json
from service.watch import watch

bp = Blueprint("watch", __name__, url_prefix="/api/v1")
SHADOW_EXAMPLE = '{"version": "20261201T120000Z-000007"}'


def _home() -> Path:
    return Path(current_app.config["HOME"])


def shadow_report(home: Path) -> dict[str, Any]:
    """The shadow's figures, or ``version: null`` when none is set."""
    version = shadow_version(home)
    if version is None:
        return {
            "version": None,
            "n": 0,
            "agreement": None,
            "mean_abs_delta_p": None,
            "disagreements": [],
        }
    return {"version": version, **watch().store.shadow_summary(version)}


@bp.get("/models/shadow")
def shadow() -> Response:
    """How the shadow version's calls compare with the serving version's."""
    return jsonify(shadow_report(_home()))


@bp.post("/models/shadow")
@admin_only
def shadow_start() -> Response:
    """Start shadowing the version named in ``version`` (the figures start from zero)."""
    from training.errors import RetrainBusy, TrainingError
    from training.shadow import start_shadow

    version = parse(ShadowRequest, read_json(request, SHADOW_EXAMPLE), SHADOW_EXAMPLE).version
    try:
        start_shadow(_home(), version)
    except ModelNotFound as exc:
        raise ApiProblem(404, "not_found", str(exc)) from None
    except RetrainBusy as exc:
        raise ApiProblem(409, "retrain_running", str(exc)) from None
    except (ArtifactError, TrainingError) as exc:
        raise ApiProblem(409, "version_unusable", str(exc)) from None
    watch().store.clear_shadow()
    return jsonify(shadow_report(_home()))


@bp.delete("/models/shadow")
@admin_only
def shadow_stop() -> Response:
    """Stop shadowing; the figures gathered so far are answered one last time."""
    from training.errors import RetrainBusy
    from training.shadow import stop_shadow

    report = shadow_report(_home())
    try:
        stop_shadow(_home())
    except RetrainBusy as exc:
        raise ApiProblem(409, "retrain_running", str(exc)) from None
    return jsonify(report)


@bp.get("/drift")
def drift() -> Response:
    """Recent postings against the serving version's reference: PSI, OOV and coverage shift."""
    return jsonify(watch().drift_report())
