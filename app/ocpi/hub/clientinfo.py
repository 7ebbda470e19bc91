"""hubclientinfo: the ClientInfo list (GET, paged), ClientInfo pushes, the still-alive check."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app

from app.core.clock import iso_utc, utcnow
from app.core.db import json_dumps
from app.extensions import db
from app.ocpi.client import OcpiClient
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.hub import delivery, queries
from app.ocpi.hub.identity import hub_party
from app.ocpi.hub.models import ConnectionStatus, HubMember
from app.ocpi.models import HUB_ROLE, OcpiPartner

log = logging.getLogger("plugpool.ocpi.hub")
MODULE = "hubclientinfo"


def client_info(role: Any, row: HubMember) -> dict[str, Any]:
    """One ClientInfo object for a party's role."""
    return {
        "party_id": role.party_id,
        "country_code": role.country_code,
        "role": role.role,
        "status": row.status,
        "last_updated": iso_utc(row.status_changed_at),
    }


def list_for(viewer: OcpiPartner) -> list[dict[str, Any]]:
    """The viewer's GET of the list: it counts as contact (an OFFLINE party is back)."""
    from app.ocpi.hub import status

    status.seen(viewer)
    db.session.commit()
    return all_client_infos(viewer)


def all_client_infos(viewer: OcpiPartner) -> list[dict[str, Any]]:
    """ClientInfo of every party the viewer may talk to, oldest change first."""
    rows = queries.statuses()
    grouped = queries.rules()
    infos = []
    for partner in queries.members(registered_only=False):
        row = rows.get(partner.id)
        if partner.id == viewer.id or row is None:
            continue
        if not queries.pair_allowed(viewer, partner, grouped):
            continue
        infos.extend(client_info(role, row) for role in partner.roles if role.role != HUB_ROLE)
    return sorted(
        infos, key=lambda info: (info["last_updated"], info["country_code"], info["party_id"])
    )


def announce(partner: OcpiPartner, row: HubMember) -> None:
    """PUT the party's ClientInfo to every other connected party with the receiver interface."""
    roles = [role for role in partner.roles if role.role != HUB_ROLE]
    if not roles:
        return
    grouped = queries.rules()
    statuses = queries.statuses()
    deliveries = []
    for other in queries.members():
        url = other.endpoint(MODULE, "RECEIVER")
        state = statuses.get(other.id)
        connected = state is not None and state.status == ConnectionStatus.CONNECTED.value
        if other.id == partner.id or url is None or not connected:
            continue
        if not queries.pair_allowed(partner, other, grouped):
            continue
        deliveries.extend(_put(other, url, role, row) for role in roles)
    delivery.enqueue(deliveries)


def _put(other: OcpiPartner, url: str, role: Any, row: HubMember) -> dict[str, Any]:
    hub = "".join(hub_party())
    to = queries.parties_of(other)[0] if queries.parties_of(other) else hub_party()
    return {
        "partner_id": other.id,
        "method": "PUT",
        "url": f"{url.rstrip('/')}/{role.country_code}/{role.party_id}",
        "body": json_dumps(client_info(role, row)),
        "module": MODULE,
        "kind": "clientinfo",
        "from": hub,
        "to": "".join(to),
        "correlation_id": None,
    }


def check_members() -> dict[str, int]:
    """Still-alive check: GET the versions of each party quiet for HUB_CHECK_INTERVAL.

    A party that does not answer goes OFFLINE; one that answers again is CONNECTED.
    """
    quiet = utcnow() - timedelta(seconds=current_app.config["HUB_CHECK_INTERVAL"])
    statuses = queries.statuses()
    counts = {"checked": 0, "offline": 0}
    for partner in queries.members():
        row = statuses.get(partner.id)
        if row is None or row.suspended or not partner.token_out or not partner.versions_url:
            continue
        if (
            row.status == ConnectionStatus.CONNECTED.value
            and row.last_seen_at
            and row.last_seen_at > quiet
        ):
            continue
        counts["checked"] += 1
        if _alive(partner):
            from app.ocpi.hub import status

            status.connected(partner)
            status.member(partner).last_seen_at = utcnow()
        else:
            from app.ocpi.hub import status

            counts["offline"] += 1
            status.offline(partner)
        # Each party's outcome on its own: a status change holds the routing version's row.
        db.session.commit()
    return counts


def _alive(partner: OcpiPartner) -> bool:
    client = OcpiClient(
        partner.token_out or "",
        raw_token=partner.raw_tokens,
        timeout=current_app.config["HUB_FORWARD_TIMEOUT"],
        from_party=hub_party(),
    )
    try:
        client.get(partner.versions_url or "")
    except PartnerCallFailed as error:
        log.warning("hub party %s failed its still-alive check: %s", partner.id, error)
        return False
    return True
