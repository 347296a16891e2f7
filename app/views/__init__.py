"""Blueprints, one per audience and domain."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.views.admin import bp as admin_bp
    from app.views.api import bp as api_bp
    from app.views.auth import bp as auth_bp
    from app.views.health import bp as health_bp
    from app.views.store import bp as store_bp
    from app.views.supervisor import bp as supervisor_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(store_bp)
    app.register_blueprint(supervisor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    from app.views.admin_webhooks import bp as admin_webhooks_bp
    app.register_blueprint(admin_webhooks_bp)
    from app.views.admin_channels import bp as admin_channels_bp
    from app.views.channel_webhooks import bp as channel_webhooks_bp
    app.register_blueprint(channel_webhooks_bp)
    app.register_blueprint(admin_channels_bp)
    from app.views.reports import bp as reports_bp
    app.register_blueprint(reports_bp)
