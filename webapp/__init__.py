"""The Flask application: ``create_app(config=None)`` (defaults → environment → test overrides)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from webapp.config import Config, from_environment


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application.

    Configuration comes from ``Config``, then ``WEBAPP_*`` environment variables, then ``config``
    (tests pass their database URL, a frozen clock and so on here).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    from_environment(app.config, app.instance_path)
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    from webapp import models  # noqa: F401  (registers every table on the metadata)
    from webapp.extensions import babel, csrf, db, login_manager, migrate
    from webapp.web import lifecycle, templating

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale, timezone_selector=lambda: "Asia/Shanghai")

    lifecycle.init_app(app)
    templating.init_app(app)

    from webapp.admin.views import bp as admin_bp
    from webapp.applications.views import bp as applications_bp
    from webapp.audit.views import bp as audit_bp
    from webapp.auth.views import bp as auth_bp
    from webapp.campaigns.views import bp as campaigns_bp
    from webapp.exports.views import bp as exports_bp
    from webapp.home.views import bp as home_bp
    from webapp.inspection.views import bp as inspection_bp
    from webapp.payments.views import bp as payments_bp
    from webapp.publicity.views import bp as publicity_bp
    from webapp.results.views import bp as results_bp
    from webapp.reviews.views import bp as reviews_bp

    for blueprint in (
        auth_bp, home_bp, campaigns_bp, applications_bp, reviews_bp, results_bp, publicity_bp, exports_bp, payments_bp,
        inspection_bp,
        audit_bp, admin_bp,
    ):
        app.register_blueprint(blueprint)

    from webapp.cli import register_commands

    register_commands(app)
    return app
