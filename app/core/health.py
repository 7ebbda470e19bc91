"""GET /healthz: version, database dialect and the state of each component."""

from __future__ import annotations

import socket
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from app.core.errors import problem
from app.core.replica import replica_of
from app.extensions import db

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether PlugPool and its components are up."""
    from app import __version__

    components = {
        "database": _database(),
        "ocpp_gateway": _tcp(
            current_app.config["GATEWAY_HOST"], current_app.config["GATEWAY_PORT"]
        ),
        "payments": _payments(),
    }
    status = "ok" if components["database"]["status"] == "ok" else "down"
    body = {
        "status": status,
        "version": __version__,
        "database": db.engine.dialect.name,
        "components": components,
    }
    return jsonify(body), 200 if status == "ok" else 503


def _database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means the database is unusable
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok", "dialect": db.engine.dialect.name}


def _tcp(host: str, port: int) -> dict[str, Any]:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return {"status": "ok", "address": f"{host}:{port}"}
    except OSError:
        return {"status": "down", "address": f"{host}:{port}"}


def _payments() -> dict[str, Any]:
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        return {"status": "disabled"}
    mode = "local" if config.get("STRIPE_API_BASE") else "stripe"
    return {"status": "configured", "mode": mode}


@blp.get("/livez")
def livez() -> ResponseReturnValue:
    """Liveness: the process answers; nothing else is checked (a restart fixes nothing more)."""
    return jsonify({"status": "ok"}), 200


@blp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: the database, and Redis when the bus or Celery use it, answer; else 503.

    The read replica, when configured, is reported (ok, behind or down; streaming, lag) but
    never makes the node unready: its reads fall back to the primary.
    """
    checks = {"database": _database()}
    config = current_app.config
    if config["GATEWAY_BUS"] == "redis" or not config["CELERY_ALWAYS_EAGER"]:
        checks["redis"] = _redis(config["REDIS_URL"])
    replica = replica_of()
    down = sorted(name for name, check in checks.items() if check["status"] != "ok")
    if replica is not None:
        checks["replica"] = replica.state()
    if down:
        db.session.rollback()  # a failed ping leaves the session unusable for the next request
        return problem(503, "Not ready", f"unreachable: {', '.join(down)}", checks=checks)
    return jsonify({"status": "ok", "checks": checks}), 200


def _redis(url: str) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as error:
        return {"status": "down", "error": type(error).__name__}
    finally:
        client.close()
    return {"status": "ok"}
