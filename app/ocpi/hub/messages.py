"""The hub's message log: metadata of each routed message (never a body), and its retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete

from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.hub.models import HubMessage, HubProxy


def party_code(party: tuple[str, str] | None) -> str | None:
    """'NLPLG' for ('NL', 'PLG')."""
    return "".join(party) if party else None


def record(**fields: Any) -> None:
    """Add one message's metadata to the session (committed with the caller's work)."""
    db.session.add(HubMessage(created_at=utcnow(), **fields))


def purge() -> int:
    """Delete log rows and proxy URLs older than HUB_MESSAGE_RETENTION_DAYS; return rows gone."""
    cutoff = utcnow() - timedelta(days=current_app.config["HUB_MESSAGE_RETENTION_DAYS"])
    gone = db.session.execute(delete(HubMessage).where(HubMessage.created_at < cutoff)).rowcount
    db.session.execute(delete(HubProxy).where(HubProxy.created_at < cutoff))
    db.session.commit()
    return gone or 0
