"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service.api import serving

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers HTTP (no model needed)."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: a model is loaded and passed its self-test (503 problem otherwise)."""
    return jsonify({"status": "ready", "model_version": serving().version})
