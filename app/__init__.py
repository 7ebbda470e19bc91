"""PlugPool: the application factory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import FunctionType
from typing import Any

from flask import Flask

import config
from app.core import http, logs, metrics, replica, spatial
from app.core.celery import init_celery
from app.core.db import install_idle_ping, json_dumps, json_loads
from app.core.errors import register_error_handlers
from app.extensions import api, db, login_manager, migrate

__version__ = "0.1.0"


class PlugPoolFlask(Flask):
    """Flask, where whether a view or hook is a coroutine function is asked once per function.

    Flask asks inspect for every hook and view of every request (a dozen calls each time);
    a plain function's answer never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: set[FunctionType] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ensure_sync, remembering the plain functions (and methods') it let through."""
        target = getattr(func, "__func__", func)
        if target in self._sync_functions:
            return func
        sync = super().ensure_sync(func)
        if sync is func and type(target) is FunctionType:
            self._sync_functions.add(target)
        return sync


def create_app(profile: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build a PlugPool app for a settings profile (default, testing, production)."""
    settings = config.load(profile, overrides)
    app = PlugPoolFlask(__name__, template_folder="../web/templates", static_folder="../web/static")
    app.config.update(settings)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **spatial.engine_options(
            settings["DATABASE_URL"],
            settings["DATABASE_POOL_SIZE"],
            settings["DATABASE_MAX_OVERFLOW"],
        ),
        "json_serializer": json_dumps,
        "json_deserializer": json_loads,
    }
    app.config["SQLALCHEMY_ECHO"] = settings["SQL_ECHO"]
    logs.init_app(app)
    http.init_app(app)
    metrics.init_app(app)
    _init_extensions(app)
    _register_modules(app)
    register_error_handlers(app)
    logging.getLogger("plugpool").setLevel(logging.INFO)
    return app


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401 -- every model must be in the metadata before use

    db.init_app(app)
    with app.app_context():
        spatial.install_spatialite(db.engine, app.config["SPATIALITE_LIBRARY_PATH"])
        install_idle_ping(db.engine, app.config["DATABASE_PING_AFTER_IDLE"])
    replica.init_app(app, db)
    migrate.init_app(app, db, directory=str(_migrations_dir()), compare_type=True)
    login_manager.init_app(app)
    api.init_app(app)
    init_celery(app)


def _register_modules(app: Flask) -> None:
    """Register every domain's blueprints and commands, from one explicit list."""
    from app import cli, ocpi, oicp
    from app.accounts import api as accounts_api
    from app.accounts import auth
    from app.accounts import views as accounts_views
    from app.bookings import api as bookings_api
    from app.bookings import queries as bookings_queries
    from app.bookings import views as bookings_views
    from app.charging import api as charging_api
    from app.charging import roaming_api, roaming_pages
    from app.charging import views as charging_views
    from app.core import assets, health, web
    from app.inventory import api as inventory_api
    from app.inventory import views as inventory_views
    from app.ocpi import cli as ocpi_cli
    from app.ocpi import versions as ocpi_versions
    from app.ocpi import views as ocpi_views
    from app.ocpi.bookings import api as ocpi_bookings
    from app.ocpi.bookings import emsp as ocpi_emsp_bookings
    from app.ocpi.chargingprofiles import api as ocpi_chargingprofiles
    from app.ocpi.commands import api as ocpi_commands
    from app.ocpi.commands import sender as ocpi_emsp_commands
    from app.ocpi.credentials import api as ocpi_credentials
    from app.ocpi.hub import api as ocpi_hub
    from app.ocpi.hub import views as hub_views
    from app.ocpi.hubparty import api as ocpi_hubparty
    from app.ocpi.locations import api as ocpi_locations
    from app.ocpi.locations import receiver as ocpi_emsp_locations
    from app.ocpi.sessions import api as ocpi_sessions
    from app.ocpi.sessions import emsp as ocpi_emsp_sessions
    from app.ocpi.tariffs import api as ocpi_tariffs
    from app.ocpi.tariffs import receiver as ocpi_emsp_tariffs
    from app.ocpi.tokens import api as ocpi_tokens
    from app.ocpi.tokens import sender as ocpi_emsp_tokens
    from app.oicp import api as oicp_api
    from app.oicp import cli as oicp_cli
    from app.oicp import driver_api as oicp_driver_api
    from app.payments import api as payments_api
    from app.payments import views as payments_views
    from app.search import api as search_api
    from app.search import queries as search_queries
    from app.search import views as search_views

    app.register_blueprint(health.blp)
    app.register_blueprint(assets.blp)
    # Search drops EVSEs that bookings hold in the asked window, inside its own SQL.
    search_queries.register_unavailability(bookings_queries.taken_evses)
    web.init_app(app)
    auth.init_app(app)
    api.register_blueprint(accounts_api.blp, url_prefix="/api/v1")
    api.register_blueprint(inventory_api.blp, url_prefix="/api/v1/listings")
    api.register_blueprint(charging_api.blp, url_prefix="/api/v1/charging")
    api.register_blueprint(roaming_api.blp, url_prefix="/api/v1/roaming")
    api.register_blueprint(search_api.blp, url_prefix="/api/v1/chargers")
    api.register_blueprint(bookings_api.blp, url_prefix="/api/v1/bookings")
    api.register_blueprint(payments_api.blp, url_prefix="/api/v1/payments")
    api.register_blueprint(oicp_driver_api.blp, url_prefix="/api/v1/roaming/hubject")
    app.register_blueprint(payments_api.webhooks_blp)
    app.register_blueprint(accounts_views.blp)
    app.register_blueprint(inventory_views.blp)
    app.register_blueprint(search_views.blp)
    app.register_blueprint(bookings_views.blp)
    app.register_blueprint(payments_views.blp)
    app.register_blueprint(charging_views.blp)
    app.register_blueprint(roaming_pages.blp)
    ocpi.init_app(app)
    app.register_blueprint(ocpi_versions.blp)
    app.register_blueprint(ocpi_credentials.blp)
    app.register_blueprint(ocpi_locations.blp)
    app.register_blueprint(ocpi_tariffs.blp)
    app.register_blueprint(ocpi_tokens.blp)
    app.register_blueprint(ocpi_commands.blp)
    app.register_blueprint(ocpi_sessions.sessions_blp)
    app.register_blueprint(ocpi_sessions.cdrs_blp)
    app.register_blueprint(ocpi_chargingprofiles.blp)
    app.register_blueprint(ocpi_bookings.blp)
    app.register_blueprint(ocpi_hub.blp)
    app.register_blueprint(hub_views.blp)
    app.register_blueprint(ocpi_emsp_sessions.sessions_blp)
    app.register_blueprint(ocpi_emsp_sessions.cdrs_blp)
    app.register_blueprint(ocpi_emsp_tokens.blp)
    app.register_blueprint(ocpi_emsp_commands.blp)
    app.register_blueprint(ocpi_emsp_bookings.blp)
    app.register_blueprint(ocpi_emsp_locations.blp)
    app.register_blueprint(ocpi_emsp_tariffs.blp)
    app.register_blueprint(ocpi_hubparty.blp)
    app.register_blueprint(ocpi_views.blp)
    cli.init_app(app)
    ocpi_cli.init_app(app)
    oicp.init_app(app)
    app.register_blueprint(oicp_api.blp)
    oicp_cli.init_app(app)


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
