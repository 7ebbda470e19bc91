"""Deliver inventory changes from the outbox to every registered eMSP's locations receiver.

One attempt per partner and event: the spec forbids queuing pushes forever, a partner that
missed one resyncs by GET. Failures are kept in the event's last_error for the operator.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from app.core.clock import utcnow
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.inventory.models import Location
from app.inventory.services import EVSE_STATUS_CHANGED, LOCATION_CHANGED
from app.ocpi.client import OcpiClient
from app.ocpi.credentials.queries import registered_partners_with
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.locations.serialise import location_to_ocpi, timestamp
from app.ocpi.models import OcpiPartner

log = logging.getLogger("plugpool.ocpi.push")
TOPICS = (LOCATION_CHANGED, EVSE_STATUS_CHANGED)


def deliver_events(batch: int) -> int:
    """Push up to `batch` pending OCPI events; return how many were handled."""
    events = _claim(batch)
    if not events:
        return 0
    partners = registered_partners_with("locations", "RECEIVER")
    for event in events:
        failures = []
        for partner in partners:
            try:
                _push(partner, event)
            except PartnerCallFailed as error:
                failures.append(f"partner {partner.id}: {error}")
        event.attempts += 1
        event.delivered_at = utcnow()
        event.last_error = "; ".join(failures) or None
    db.session.commit()
    return len(events)


def _claim(batch: int) -> list[OutboxEvent]:
    query = (
        select(OutboxEvent)
        .where(
            OutboxEvent.topic.in_(TOPICS),
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.available_at <= utcnow(),
        )
        .order_by(OutboxEvent.id)
        .limit(batch)
        # Two workers never push the same event twice.
        .with_for_update(skip_locked=True)
    )
    return list(db.session.scalars(query))


def _push(partner: OcpiPartner, event: OutboxEvent) -> None:
    location = db.session.get(Location, event.payload["location_id"])
    url = partner.endpoint("locations", "RECEIVER")
    if location is None or url is None or not partner.token_out:
        return
    client = OcpiClient(
        partner.token_out, raw_token=partner.raw_tokens, to_party=_party_of(partner)
    )
    base = f"{url.rstrip('/')}/{location.country_code}/{location.party_id}/{location.ocpi_id}"
    if event.topic == EVSE_STATUS_CHANGED:
        evse = next((e for e in location.evses if e.uid == event.payload["evse_uid"]), None)
        if evse is not None:
            body = {"status": evse.status, "last_updated": timestamp(evse.last_updated)}
            client.patch(f"{base}/{evse.uid}", body)
    elif location.publish and location.deleted_at is None:
        client.put(base, location_to_ocpi(location, partner.version or "2.2.1"))
    else:
        _remove(client, base, location)


def _remove(client: OcpiClient, base: str, location: Location) -> None:
    """An unpublished or deleted listing: its EVSEs become REMOVED at the partner."""
    stamp = timestamp(location.last_updated)
    for evse in location.evses:
        client.patch(f"{base}/{evse.uid}", {"status": "REMOVED", "last_updated": stamp})


def _party_of(partner: OcpiPartner) -> tuple[str, str] | None:
    emsp: Any = next((r for r in partner.roles if r.role == "EMSP"), None)
    return (emsp.country_code, emsp.party_id) if emsp else None
