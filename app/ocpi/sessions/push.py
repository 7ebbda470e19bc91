"""Push session progress and new CDRs to the eMSP whose token the session used.

A session's first change is PUT whole; later ones PATCH its progress fields, unless the
earlier push failed (then PUT again: the partner may not hold the session).

Only that eMSP hears of it (never a broadcast), with OCPI-to headers naming the token's
party; sessions of PlugPool's own drivers carry PlugPool's party and go nowhere.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from app.charging.models import ChargingSession
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.credentials.queries import party_holder
from app.ocpi.models import OcpiPartner, PartnerStatus
from app.ocpi.sessions import queries
from app.ocpi.sessions.serialise import cdr_to_ocpi, session_to_ocpi

SESSION_CHANGED = "session.changed"
CDR_CREATED = "cdr.created"
TOPICS = (SESSION_CHANGED, CDR_CREATED)
MODULE = {SESSION_CHANGED: "sessions", CDR_CREATED: "cdrs"}
# What a session's progress changes: sent by PATCH once the partner holds the session.
PROGRESS_FIELDS = frozenset(
    {
        "kwh",
        "status",
        "end_date_time",
        "auth_method",
        "authorization_reference",
        "currency",
        "charging_periods",
        "total_cost",
        "last_updated",
    }
)


def _pushed_before(event: OutboxEvent) -> bool:
    """Whether an earlier change of the same session already reached the partner (by PUT)."""
    query = select(OutboxEvent.id).where(
        OutboxEvent.topic == SESSION_CHANGED,
        OutboxEvent.aggregate_id == event.aggregate_id,
        OutboxEvent.id < event.id,
        OutboxEvent.delivered_at.is_not(None),
        OutboxEvent.last_error.is_(None),
    )
    return db.session.scalars(query.limit(1)).first() is not None


def _session(event: OutboxEvent) -> ChargingSession | None:
    payload = event.payload
    return queries.session_by_ocpi_id(
        payload["country_code"], payload["party_id"], payload["session_id"]
    )


def _token_party(session: ChargingSession) -> tuple[str, str] | None:
    if session.token_country_code is None or session.token_party_id is None:
        return None
    party = (session.token_country_code, session.token_party_id)
    config = current_app.config
    if party == (config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"]):
        return None  # PlugPool's own driver
    return party


def recipients(event: OutboxEvent) -> list[OcpiPartner]:
    """The registered eMSP holding the session's token party, if it has the receiver."""
    session = _session(event)
    party = _token_party(session) if session is not None else None
    if party is None:
        return []
    partner = party_holder(*party, "EMSP")
    if (
        partner is None
        or partner.status != PartnerStatus.REGISTERED
        or not partner.token_out
        or partner.endpoint(MODULE[event.topic], "RECEIVER") is None
    ):
        return []
    return [partner]


def addressed(event: OutboxEvent) -> tuple[str, str] | None:
    """The party the push is addressed to (OCPI-to): the session token's eMSP party."""
    session = _session(event)
    return _token_party(session) if session is not None else None


def push(partner: OcpiPartner, event: OutboxEvent) -> None:
    """PUT the Session, or POST the new CDR, to the partner."""
    session = _session(event)
    if session is None:
        return
    party = _token_party(session)
    client = OcpiClient(partner.token_out or "", raw_token=partner.raw_tokens, to_party=party)
    url = partner.endpoint(MODULE[event.topic], "RECEIVER") or ""
    version = partner.version or "2.2.1"
    if event.topic == SESSION_CHANGED:
        row = queries.session_row(session.id)
        body = session_to_ocpi(row[0], version, *row[1:])
        target = endpoint_url(url, session.country_code, session.party_id, session.ocpi_id)
        if _pushed_before(event):
            client.patch(target, {k: v for k, v in body.items() if k in PROGRESS_FIELDS})
        else:
            client.put(target, body)
        return
    cdr = _cdr(event.payload)
    if cdr is not None:
        client.post(url, cdr_to_ocpi(cdr, version))


def _cdr(payload: dict[str, Any]) -> Any:
    return queries.cdr_by_ocpi_id(payload["country_code"], payload["party_id"], payload["cdr_id"])
