"""Outbox delivery to Hubject: inventory deltas, then notifications and CDRs of our sessions."""

from __future__ import annotations

from app.charging.models import Cdr
from app.core.clock import utcnow
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.oicp.client import HubjectClient
from app.oicp.errors import HubjectCallFailed
from app.oicp.services import cpo_push, cpo_sessions
from app.oicp.services.cpo_push import PREFIX, claim

SESSION_TOPIC = PREFIX + "session.changed"
CDR_TOPIC = PREFIX + "cdr.created"
COPIED_TOPICS = (
    cpo_push.LOCATION_TOPIC,
    cpo_push.STATUS_TOPIC,
    SESSION_TOPIC,
    CDR_TOPIC,
)


def deliver(batch: int = 500, client: HubjectClient | None = None) -> int:
    """Deliver pending Hubject events until none is left; return how many were handled."""
    client = client or HubjectClient()
    handled = 0
    while (
        done := cpo_push.deliver_inventory(batch, client) + _deliver_sessions(batch, client)
    ) > 0:
        handled += done
        if done < batch:
            break
    return handled


def _deliver_sessions(batch: int, client: HubjectClient) -> int:
    """Send up to `batch` notifications and CDRs, leasing one at a time: a worker killed
    mid-round leaves only the one it was sending closed unsent-or-not, never resent."""
    handled = 0
    while handled < batch and (events := claim((SESSION_TOPIC, CDR_TOPIC), 1)):
        [event] = events
        try:
            _one(event, client)
        except HubjectCallFailed as error:
            cpo_push._retry_later([event], str(error))
        else:
            event.delivered_at = utcnow()
            event.last_error = None
        db.session.commit()
        handled += 1
    return handled


def _one(event: OutboxEvent, client: HubjectClient) -> None:
    payload = event.payload
    session = cpo_sessions.session_by_ocpi_id(
        payload["country_code"], payload["party_id"], payload["session_id"]
    )
    if session is None:
        return
    record = cpo_sessions.session_of(session)
    if record is None:
        return
    if event.topic == CDR_TOPIC:
        cdr = db.session.get(Cdr, payload.get("cdr_pk"))
        if cdr is not None:
            cpo_sessions.send_cdr(record, session, cdr, client)
    cpo_sessions.notify(record, session, client)
