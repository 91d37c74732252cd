"""The web page: paste a posting, see the call and the phrases that drove it."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, send_from_directory

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> str:
    """The page; its scripts talk to the classify, batch and admin endpoints."""
    config = current_app.config
    return render_template(
        "index.html",
        max_chars=int(config["MAX_POSTING_CHARS"]),
        max_rows=int(config["MAX_BATCH_ROWS"]),
        max_mb=round(int(config["MAX_CONTENT_LENGTH"]) / 1024 / 1024, 1),
    )


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The page's icon, for clients that ask for it at the conventional path."""
    return send_from_directory(
        str(current_app.static_folder), "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
