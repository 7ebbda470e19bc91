"""Read-only selects of the sessions and CDRs a partner may see: those of its own tokens.

A partner sees a session of one of PlugPool's chargers only when the session's token belongs
to a party the partner registered as eMSP. PlugPool's own drivers' sessions carry PlugPool's
party on their token, which no partner holds, so they never leave PlugPool.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import ColumnElement, Subquery, and_, false, or_, select

from app.charging.models import Cdr, ChargingSession
from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.ocpi.models import OcpiPartner

EMSP = "EMSP"


def _emsp_parties(partner: OcpiPartner) -> list[tuple[str, str]]:
    if partner.is_hub:
        return _relayed_party()
    return [(role.country_code, role.party_id) for role in partner.roles if role.role == EMSP]


def _relayed_party() -> list[tuple[str, str]]:
    """Through a hub, the eMSP is the party named in the request's OCPI-from headers."""
    sender = getattr(g, "ocpi_from", None) if has_request_context() else None
    if not sender or not all(sender):
        return []
    party = (sender[0].upper(), sender[1].upper())
    own = (current_app.config["OWN_COUNTRY_CODE"], current_app.config["OWN_PARTY_ID"])
    return [] if party == own else [party]


def token_party_filter(partner: OcpiPartner) -> ColumnElement[bool]:
    """Sessions whose token is of one of the partner's eMSP parties."""
    parties = _emsp_parties(partner)
    if not parties:
        return false()
    return or_(
        *(
            and_(
                ChargingSession.token_country_code == country_code,
                ChargingSession.token_party_id == party_id,
            )
            for country_code, party_id in parties
        )
    )


def _own_cpo(model: Any) -> list[ColumnElement[bool]]:
    config = current_app.config
    return [
        model.country_code == config["OWN_COUNTRY_CODE"],
        model.party_id == config["OWN_PARTY_ID"],
    ]


def session_filters(partner: OcpiPartner) -> list[ColumnElement[bool]]:
    """Own sessions of the partner's tokens."""
    return [*_own_cpo(ChargingSession), token_party_filter(partner)]


def cdr_filters(partner: OcpiPartner) -> list[ColumnElement[bool]]:
    """Own CDRs of sessions of the partner's tokens."""
    sessions = select(ChargingSession.id).where(*session_filters(partner))
    return [*_own_cpo(Cdr), Cdr.session_pk.in_(sessions)]


def session_rows(page: Subquery) -> list[Any]:
    """(session, location_id, evse_uid, connector_id, cdr) per session of a page, in order."""
    query = (
        select(ChargingSession, Location.ocpi_id, Evse.uid, Connector.ocpi_id, Cdr)
        .join(page, ChargingSession.id == page.c.id)
        .outerjoin(Location, Location.id == ChargingSession.location_pk)
        .outerjoin(Evse, Evse.id == ChargingSession.evse_pk)
        .outerjoin(Connector, Connector.id == ChargingSession.connector_pk)
        .outerjoin(Cdr, Cdr.session_pk == ChargingSession.id)
        .order_by(page.c.last_updated, page.c.id)
    )
    return list(db.session.execute(query))


def session_row(session_pk: int) -> Any:
    """The same row for one session."""
    query = (
        select(ChargingSession, Location.ocpi_id, Evse.uid, Connector.ocpi_id, Cdr)
        .outerjoin(Location, Location.id == ChargingSession.location_pk)
        .outerjoin(Evse, Evse.id == ChargingSession.evse_pk)
        .outerjoin(Connector, Connector.id == ChargingSession.connector_pk)
        .outerjoin(Cdr, Cdr.session_pk == ChargingSession.id)
        .where(ChargingSession.id == session_pk)
    )
    return db.session.execute(query).first()


def cdrs_in(page: Subquery) -> list[Cdr]:
    """The CDRs of a page, in page order."""
    query = select(Cdr).join(page, Cdr.id == page.c.id)
    return list(db.session.scalars(query.order_by(page.c.last_updated, page.c.id)))


def visible_session(partner: OcpiPartner, session_id: str) -> ChargingSession | None:
    """One own session of the partner's tokens, by its OCPI id."""
    query = select(ChargingSession).where(
        *session_filters(partner), ChargingSession.ocpi_id == session_id
    )
    return db.session.scalars(query).first()


def last_session_at(connector_pk: int) -> ChargingSession | None:
    """The newest session at a connector, whoever's token it ran on."""
    query = (
        select(ChargingSession)
        .where(ChargingSession.connector_pk == connector_pk)
        .order_by(ChargingSession.start_date_time.desc(), ChargingSession.id.desc())
    )
    return db.session.scalars(query.limit(1)).first()


def session_by_ocpi_id(country_code: str, party_id: str, session_id: str) -> ChargingSession | None:
    """A session by its OCPI key."""
    query = select(ChargingSession).where(
        ChargingSession.country_code == country_code,
        ChargingSession.party_id == party_id,
        ChargingSession.ocpi_id == session_id,
    )
    return db.session.scalars(query).first()


def cdr_by_ocpi_id(country_code: str, party_id: str, cdr_id: str) -> Cdr | None:
    """A CDR by its OCPI key."""
    query = select(Cdr).where(
        Cdr.country_code == country_code, Cdr.party_id == party_id, Cdr.ocpi_id == cdr_id
    )
    return db.session.scalars(query).first()
