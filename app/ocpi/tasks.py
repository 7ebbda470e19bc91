"""OCPI jobs. Celery is not wired into the app yet: `flask ocpi push` runs them."""

from __future__ import annotations

from app.ocpi import push


def deliver_outbox(batch: int = 100) -> int:
    """Deliver pending location/EVSE changes to registered eMSPs; return the events handled."""
    return push.deliver_events(batch)
