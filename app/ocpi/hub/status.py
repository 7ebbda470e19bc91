"""A party's connection status on the hub; every change is pushed to the others as ClientInfo."""

from __future__ import annotations

import time
from datetime import timedelta

from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.hub import table
from app.ocpi.hub.models import ConnectionStatus, HubMember
from app.ocpi.models import OcpiPartner

# A request from a party refreshes its last-seen time at most this often (one UPDATE).
SEEN_GRANULARITY = timedelta(seconds=30)
_written: dict[int, float] = {}


def member(partner: OcpiPartner) -> HubMember:
    """The party's hub row (created PLANNED on first use)."""
    row = db.session.get(HubMember, partner.id)
    if row is None:
        row = HubMember(
            partner_id=partner.id,
            status=ConnectionStatus.PLANNED.value,
            status_changed_at=utcnow(),
            suspended=False,
        )
        db.session.add(row)
        db.session.flush()
    return row


def set_status(partner: OcpiPartner, status: ConnectionStatus) -> bool:
    """Change the party's status; announce it to the other parties. False when unchanged."""
    from app.ocpi.hub import clientinfo

    row = member(partner)
    if row.status == status.value:
        return False
    table.changed()  # first: every status change locks the version row before a member row
    row.status = status.value
    row.status_changed_at = utcnow()
    db.session.flush()
    clientinfo.announce(partner, row)
    return True


def planned(partner: OcpiPartner) -> None:
    """TOKEN_A issued, no credentials exchanged yet."""
    set_status(partner, ConnectionStatus.PLANNED)


def registered(partner: OcpiPartner) -> None:
    """Credentials exchanged or updated: its roles, endpoints or version may have changed."""
    table.changed()
    connected(partner)


def connected(partner: OcpiPartner) -> None:
    """Registered or reachable again (an operator's suspension holds until resumed)."""
    if not member(partner).suspended:
        set_status(partner, ConnectionStatus.CONNECTED)


def offline(partner: OcpiPartner) -> None:
    """Not reachable: a failed forward or still-alive check."""
    if member(partner).status == ConnectionStatus.CONNECTED.value:
        set_status(partner, ConnectionStatus.OFFLINE)


def suspended(partner: OcpiPartner) -> None:
    """Unregistered: it will not connect any more."""
    table.changed()  # it leaves the table even if its status was SUSPENDED already
    set_status(partner, ConnectionStatus.SUSPENDED)


def seen(partner: OcpiPartner | int, known_status: str | None = None) -> None:
    """The party called the hub: note the time; an OFFLINE party is CONNECTED again.

    known_status: its status as the routing table has it; with it, a CONNECTED party's row is
    touched at most every SEEN_GRANULARITY by this process (no read on the hot path).
    partner: its row, or its id (the row is then read only when something is written).
    """
    partner_id = partner if isinstance(partner, int) else partner.id
    clock = time.monotonic()
    recent = clock - _written.get(partner_id, -1e9) < SEEN_GRANULARITY.total_seconds()
    if known_status == ConnectionStatus.CONNECTED.value and recent:
        return
    if isinstance(partner, int):
        loaded = db.session.get(OcpiPartner, partner)
        assert loaded is not None  # authenticated in this request
        partner = loaded
    row = member(partner)
    now = utcnow()
    if row.last_seen_at is None or now - row.last_seen_at > SEEN_GRANULARITY:
        row.last_seen_at = now
    _written[partner.id] = clock
    if row.status == ConnectionStatus.OFFLINE.value:
        set_status(partner, ConnectionStatus.CONNECTED)
    # Committed on its own: no member row stays locked while the request is forwarded, and
    # a status change does not wait on the request's log commit (which may skip the disk).
    db.session.commit()


def suspend(partner: OcpiPartner) -> None:
    """The operator suspends the party: nothing is routed to or from it until resumed."""
    table.changed()
    member(partner).suspended = True
    set_status(partner, ConnectionStatus.SUSPENDED)
    db.session.commit()


def resume(partner: OcpiPartner) -> None:
    """The operator lifts a suspension."""
    table.changed()
    member(partner).suspended = False
    done = partner.status == "REGISTERED"
    set_status(partner, ConnectionStatus.CONNECTED if done else ConnectionStatus.PLANNED)
    db.session.commit()
