"""Bridge to Hubject over OICP 2.3: PlugPool as CPO (operator) and as EMP (provider).

Plain Flask blueprint under /api/oicp, like OCPI: every OICP answer is HTTP 200 with the
protocol's own Result / StatusCode body, errors included. Hubject identifies itself by its
client certificate: the endpoints must be served behind TLS that requires one issued by
Hubject's CA (`flask oicp serve` does it for a single process; in production the load
balancer does). Translation lives in mapping.py; use cases in services/.
"""

from __future__ import annotations

from flask import Flask, current_app

from app.core import outbox


def enabled() -> bool:
    """Tell whether the bridge is on (outbox copies are written only then)."""
    return bool(current_app.config.get("OICP_ENABLED"))


def init_app(app: Flask) -> None:
    """Copy the inventory's and charging's outbox topics for Hubject; hook authorisation."""
    from app.charging import tokens
    from app.oicp.services import cpo_sessions, delivery

    for copy in delivery.COPIED_TOPICS:
        outbox.copy_topic(copy.removeprefix(delivery.PREFIX), copy, enabled)
    tokens.register_hub_authorizer(cpo_sessions.authorize_at_hub)
