"""Read-only lookups of hub partners (PlugPool behind another hub) for the admin page."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.ocpi.hubparty.models import HubParty
from app.ocpi.models import HUB_ROLE, OcpiPartner, PartnerRole


def hub_partners() -> list[OcpiPartner]:
    """Partners that registered as a hub (not parties on PlugPool's own hub), by name."""
    query = (
        select(OcpiPartner)
        .join(PartnerRole)
        .where(PartnerRole.role == HUB_ROLE, OcpiPartner.hub_member.is_(False))
        .order_by(OcpiPartner.name)
    )
    return list(db.session.scalars(query).unique())


def parties_behind(partner: OcpiPartner) -> list[HubParty]:
    """The hub's ClientInfo list as we hold it."""
    query = (
        select(HubParty)
        .where(HubParty.partner_id == partner.id)
        .order_by(HubParty.country_code, HubParty.party_id, HubParty.role)
    )
    return list(db.session.scalars(query))
