"""Deliver changes from the outbox to registered eMSPs' receivers.

Inventory topics (app.inventory.events, written by app.inventory.services in the change's own
transaction) go to every eMSP with the receiver: a Location change -> PUT the Location (or
PATCH its EVSEs REMOVED once unpublished/removed), an EVSE status -> PATCH the EVSE, a Tariff
-> PUT (or DELETE) it; an EVSE PATCH the partner answers 404 or 2003 (it does not hold the
Location) is followed by a PUT of the whole Location. A newly registered partner gets the full
set (app.ocpi.full_set). Charging topics go only to the eMSP whose token the session used: a
session change -> PUT the Session, a new CDR -> POST it (app.ocpi.sessions.push), and
partner bookings' changes -> PUT the Booking (app.ocpi.bookings.push). Our drivers' token
changes go to every partner CPO with a Tokens Receiver (app.ocpi.tokens.push).
One attempt per partner and event: the spec forbids queuing pushes forever, a partner that
missed one resyncs by GET. Failures are kept in the event's last_error for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from app.core.clock import utcnow
from app.core.metrics import OCPI_PUSH_FAILURES
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.inventory.events import EVSE_STATUS_CHANGED, LOCATION_CHANGED, TARIFF_CHANGED
from app.inventory.models import Location
from app.ocpi import full_set
from app.ocpi.bookings import push as bookings_push
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.credentials.queries import registered_partners_with
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.hubparty import services as hubparty
from app.ocpi.locations.serialise import location_to_ocpi, timestamp
from app.ocpi.models import OcpiPartner
from app.ocpi.sessions import push as sessions_push
from app.ocpi.tariffs.serialise import tariff_to_ocpi
from app.ocpi.tokens import push as tokens_push
from app.tariffs.models import Tariff

log = logging.getLogger("plugpool.ocpi.push")
INVENTORY_TOPICS = (LOCATION_CHANGED, EVSE_STATUS_CHANGED, TARIFF_CHANGED)
TOPICS = (*INVENTORY_TOPICS, *sessions_push.TOPICS, *full_set.TOPICS, *tokens_push.TOPICS)


def deliver_events(batch: int) -> int:
    """Push up to `batch` pending OCPI events; return how many were handled.

    A round leases its batch (OCPI_PUSH_LEASE_SECONDS) and commits each event's attempt
    before the push and its outcome after, so a worker killed mid-round costs no duplicate:
    the rest of its batch is pushed by a later round once the lease ends, and the one event
    it was pushing is closed without a second attempt (one attempt per event; the partner
    resyncs by GET), its last_error saying so.
    """
    claimed = _claim(batch)
    if not claimed:
        return 0
    receivers = {
        module: registered_partners_with(module, "RECEIVER") for module in ("locations", "tariffs")
    }
    for index, event_id in enumerate(claimed):
        event = db.session.get(OutboxEvent, event_id)
        targets = _targets(event, receivers) if event is not None else []
        if event is not None and event.attempts == 0 and not targets:
            # Nothing goes out (most events: no partner concerned): no attempt to guard.
            event.attempts, event.delivered_at = 1, utcnow()
            continue
        event = _attempt(event_id, claimed[index + 1 :])
        if event is None:
            continue
        failures = []
        for partner, push in targets:
            held = _not_reachable(event, partner)
            if held is not None:
                failures.append(held)  # shown to the operator; the party pulls on return
                continue
            try:
                push(partner, event)
            except PartnerCallFailed as error:
                failures.append(f"partner {partner.id}: {error}")
                OCPI_PUSH_FAILURES.labels(partner=partner.name).inc()
        event.delivered_at = utcnow()
        event.last_error = "; ".join(failures) or None
        db.session.commit()
    db.session.commit()
    return len(claimed)


INTERRUPTED = "the push was cut off (its worker stopped): delivered or not, it is not sent again"


def _attempt(event_id: int, rest: list[int]) -> OutboxEvent | None:
    """Record the event's one attempt (committed) and return it; None when it must not go out.

    An event attempted before without an outcome was cut off: it is closed, not resent. The
    attempt is taken by a compare-and-set, so a round whose lease ran out cannot push an
    event another round has taken meanwhile. Each attempt renews the lease on the rest of
    the batch: it lapses only when the round stops, not when a slow partner makes it long.
    """
    if rest:
        db.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(rest), OutboxEvent.delivered_at.is_(None))
            .values(available_at=_lease_end())
        )
    taken = db.session.execute(
        update(OutboxEvent)
        .where(
            OutboxEvent.id == event_id,
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.attempts == 0,
        )
        .values(attempts=1)
    )
    if taken.rowcount == 1:
        db.session.commit()
        return db.session.get(OutboxEvent, event_id)
    event = db.session.get(OutboxEvent, event_id)
    if event is not None and event.delivered_at is None:
        event.delivered_at = utcnow()
        event.last_error = INTERRUPTED
        log.warning("outbox event %s: %s", event_id, INTERRUPTED)
    db.session.commit()
    return None


def _targets(
    event: OutboxEvent, receivers: dict[str, list[OcpiPartner]]
) -> list[tuple[OcpiPartner, Callable[[OcpiPartner, OutboxEvent], None]]]:
    """The partners an event goes to, each with the function that pushes it; a hub whose
    settings say "only serve pulls", or do not offer it our role, gets no push."""
    role = "EMSP" if event.topic in tokens_push.TOPICS else "CPO"
    return [
        (partner, push)
        for partner, push in _all_targets(event, receivers)
        if hubparty.pushes_to(partner, role)
    ]


def _all_targets(
    event: OutboxEvent, receivers: dict[str, list[OcpiPartner]]
) -> list[tuple[OcpiPartner, Callable[[OcpiPartner, OutboxEvent], None]]]:
    if event.topic in sessions_push.TOPICS:
        return [(partner, sessions_push.push) for partner in sessions_push.recipients(event)]
    if event.topic in tokens_push.TOPICS:
        return [(partner, tokens_push.push) for partner in tokens_push.recipients(event)]
    if event.topic in bookings_push.TOPICS:
        return [(partner, bookings_push.push) for partner in bookings_push.recipients(event)]
    if event.topic in full_set.TOPICS:
        return [(partner, full_set.push) for partner in full_set.recipients(event)]
    module = "tariffs" if event.topic == TARIFF_CHANGED else "locations"
    return [(partner, _push) for partner in receivers[module]]


def _not_reachable(event: OutboxEvent, partner: OcpiPartner) -> str | None:
    """Through a hub: why the addressed party gets no push (the hub reports it OFFLINE or
    SUSPENDED, or our settings refuse it); None when it may be pushed to. Never queued: OCPI
    pushes are one attempt, and the party resyncs by GET when it is back."""
    if not partner.is_hub:
        return None
    if event.topic in sessions_push.TOPICS:
        party = sessions_push.addressed(event)
    elif event.topic in bookings_push.TOPICS:
        party = bookings_push.addressed(event)
    else:
        party = partner.party("CPO" if event.topic in tokens_push.TOPICS else "EMSP")
    reason = hubparty.unreachable(partner, party)
    if reason is None or party is None:
        return None
    return f"partner {partner.id}: {party[0]}*{party[1]} {reason}, not pushed"


def _claim(batch: int) -> list[int]:
    query = (
        select(OutboxEvent)
        .where(
            or_(OutboxEvent.topic.in_(TOPICS), bookings_push.claimable()),
            OutboxEvent.delivered_at.is_(None),
            OutboxEvent.available_at <= utcnow(),
        )
        .order_by(OutboxEvent.id)
        .limit(batch)
        # Two workers never claim the same event.
        .with_for_update(skip_locked=True)
    )
    events = list(db.session.scalars(query))
    # The lease keeps other rounds off the batch while this one pushes it (without holding
    # row locks across HTTP calls); a round that dies leaves the rest claimable after it.
    lease = _lease_end()
    for event in events:
        event.available_at = lease
    claimed = [event.id for event in events]
    db.session.commit()
    return claimed


def _lease_end() -> datetime:
    """When a lease taken now runs out."""
    return utcnow() + timedelta(seconds=float(current_app.config["OCPI_PUSH_LEASE_SECONDS"]))


def _client(partner: OcpiPartner) -> OcpiClient:
    return OcpiClient(
        partner.token_out or "", raw_token=partner.raw_tokens, to_party=partner.party("EMSP")
    )


def _push(partner: OcpiPartner, event: OutboxEvent) -> None:
    if not partner.token_out:
        return
    if event.topic == TARIFF_CHANGED:
        _push_tariff(partner, event.payload)
        return
    url = partner.endpoint("locations", "RECEIVER")
    location = db.session.get(Location, _location_pk(event.payload))
    if location is None or url is None:
        return
    base = endpoint_url(url, location.country_code, location.party_id, location.ocpi_id)
    client = _client(partner)
    if event.topic == EVSE_STATUS_CHANGED:
        evse = next((e for e in location.evses if e.uid == event.payload["evse_uid"]), None)
        if evse is not None and location.publish:
            body = {"status": evse.status, "last_updated": timestamp(evse.last_updated)}
            _patch_or_put(client, base, evse.uid, body, location, partner.version)
    elif location.publish and location.deleted_at is None:
        client.put(base, location_to_ocpi(location, partner.version or "2.2.1"))
    else:
        _remove(client, base, location)


def _patch_or_put(
    client: OcpiClient,
    base: str,
    evse_uid: str,
    body: dict[str, Any],
    location: Location,
    version: str | None,
) -> None:
    """PATCH the EVSE; a partner that does not hold the location (404, 2003) gets it whole."""
    try:
        client.patch(endpoint_url(base, evse_uid), body)
    except PartnerCallFailed as error:
        if error.http_status != 404 and error.ocpi_status != 2003:
            raise
        client.put(base, location_to_ocpi(location, version or "2.2.1"))


def _location_pk(payload: dict[str, Any]) -> int | None:
    """The Location row id (the OCPI id travels as "location_id")."""
    value = payload.get("pk")
    return value if isinstance(value, int) else None


def _remove(client: OcpiClient, base: str, location: Location) -> None:
    """A listing taken off: its EVSEs become REMOVED at the partner (OCPI has no DELETE)."""
    stamp = timestamp(location.last_updated)
    for evse in location.evses:
        client.patch(endpoint_url(base, evse.uid), {"status": "REMOVED", "last_updated": stamp})


def _push_tariff(partner: OcpiPartner, payload: dict[str, Any]) -> None:
    url = partner.endpoint("tariffs", "RECEIVER")
    query = select(Tariff).where(
        Tariff.country_code == payload["country_code"],
        Tariff.party_id == payload["party_id"],
        Tariff.ocpi_id == payload["tariff_id"],
    )
    tariff = db.session.scalars(query).first()
    if url is None or tariff is None:
        return
    target = endpoint_url(url, tariff.country_code, tariff.party_id, tariff.ocpi_id)
    if tariff.deleted_at is not None:
        _client(partner).delete(target)
    else:
        _client(partner).put(target, tariff_to_ocpi(tariff, partner.version or "2.2.1"))
