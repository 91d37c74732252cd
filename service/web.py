"""The web page: paste a posting, see the call and the phrases that drove it."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> str:
    """The page; its script talks to ``POST /api/v1/classify``."""
    return render_template("index.html", max_chars=int(current_app.config["MAX_POSTING_CHARS"]))
