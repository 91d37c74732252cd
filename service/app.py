"""The Flask application factory: ``create_app()`` for gunicorn, tests and ``rolelens serve``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from service import (
    admin,
    api,
    bodies,
    errors,
    health,
    metrics,
    models_page,
    ratelimit,
    requestlog,
    security,
    watch,
    watch_api,
    web,
)
from service.config import APP_DEFAULTS, data_home, keep_versions
from service.model_holder import ModelHolder


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``ROLELENS_*`` environment variables, then ``config``.

    The model is not loaded here: the first request (or gunicorn's worker start-up hook)
    loads it, so building an app is cheap and has no side effects on disk.
    """
    app = Flask(__name__)
    app.config.from_mapping(APP_DEFAULTS)
    app.config.from_prefixed_env("ROLELENS")
    if os.environ.get("ROLELENS_ADMIN_TOKEN"):  # a secret stays text, even if it looks like JSON
        app.config["ADMIN_TOKEN"] = os.environ["ROLELENS_ADMIN_TOKEN"]
    if config is not None:
        app.config.from_mapping(config)
    # The body as a whole is bounded by MAX_CONTENT_LENGTH; a second, smaller bound on one
    # form field would only refuse a CSV sent as a multipart part without a filename.
    app.config["MAX_FORM_MEMORY_SIZE"] = app.config["MAX_CONTENT_LENGTH"]
    home = Path(str(app.config["HOME"])) if app.config["HOME"] else data_home()
    app.config["HOME"] = str(home)
    app.config["KEEP_VERSIONS"] = keep_versions(app.config["KEEP_VERSIONS"])
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["rolelens"] = ModelHolder(home, float(app.config["RELOAD_INTERVAL"]))
    errors.init_app(app)
    security.init_app(app)
    ratelimit.init_app(app)
    requestlog.init_app(app)
    watch.init_app(app)
    metrics.init_app(app)
    bodies.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(watch_api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(models_page.bp)
    return app
