"""The web page: paste a posting, see the call and the phrases that drove it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

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
