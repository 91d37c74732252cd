"""``/models``: every version, what it is, its validation pictures, and a diff of two versions.

Rendered on the server (no script): pick two versions, see the phrases added and removed,
the largest weight changes and the validation calls that moved, with the phrases behind
each move (``training.diff``). Each version's reliability diagram and ROC curve are the
pictures drawn when it was trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file

from classifier.artifacts import PLOT_FILE, read_card, version_dir
from classifier.errors import ArtifactError, ModelNotFound

if TYPE_CHECKING:  # the training library is loaded by the page only when it is asked for
    from training.diff import VersionDiff
    from training.versions import VersionInfo

bp = Blueprint("models_page", __name__)


def _home() -> Path:
    return Path(current_app.config["HOME"])


def _default_pair(versions: list[VersionInfo]) -> tuple[str | None, str | None]:
    """Before: the previous version (else the second newest); after: the serving one."""
    names = [v.version for v in versions if not v.problem]
    after = next((v.version for v in versions if v.serving), names[0] if names else None)
    before = next((v.version for v in versions if "previous" in v.roles), None)
    if before is None:
        before = next((name for name in names if name != after), None)
    return before, after


@bp.get("/models")
def page() -> str:
    """The version list, each version's pictures, and the diff of ``a`` and ``b``."""
    from training.diff import diff_versions
    from training.versions import describe_all

    home = _home()
    versions = describe_all(home)
    default_a, default_b = _default_pair(versions)
    a, b = request.args.get("a") or default_a, request.args.get("b") or default_b
    diff: VersionDiff | None = None
    problem = None
    if a and b and a != b:
        try:
            diff = diff_versions(home, a, b)
        except (ModelNotFound, ArtifactError) as exc:
            problem = str(exc)
    plots = {}
    for info in versions:
        if info.problem:
            continue
        card_plots = read_card(home, info.version).get("plots") or {}
        plots[info.version] = (
            card_plots.get("validation"),
            card_plots.get(
                "missing_because", "this version was trained before pictures were drawn"
            ),
        )
    return render_template(
        "models.html",
        versions=versions,
        a=a,
        b=b,
        diff=diff,
        problem=problem,
        plots=plots,
    )


@bp.get(f"/models/<version>/{PLOT_FILE}")
def picture(version: str) -> Response:
    """A version's reliability diagram and ROC curve, drawn when it was trained."""
    try:
        path = version_dir(_home(), version) / PLOT_FILE
    except (ModelNotFound, ArtifactError):
        abort(404)
    if path.is_symlink() or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)
