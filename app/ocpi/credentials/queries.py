"""Read-only lookups of partners."""

from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload

from app.core.security import digest_token, same_secret
from app.extensions import db
from app.ocpi.models import OcpiPartner, PartnerRole


def partner_for_token(token: str, raw: bool) -> tuple[OcpiPartner, str] | None:
    """The partner presenting token and its kind ("A" or "C"); raw tokens only if allowed."""
    digest = digest_token(token)
    partner = db.session.scalars(_by_token(), {"digest": digest}).unique().first()
    if partner is None or (raw and not partner.raw_tokens):
        return None
    if partner.token_in_digest and same_secret(partner.token_in_digest, digest):
        return partner, "C"
    if partner.token_a_digest and same_secret(partner.token_a_digest, digest):
        return partner, "A"
    return None


@functools.cache
def _by_token() -> Select[tuple[OcpiPartner]]:
    # Built once: every OCPI request runs it, and a constant statement's cache key is memoised.
    digest = bindparam("digest")
    return (
        select(OcpiPartner)
        .where(or_(OcpiPartner.token_in_digest == digest, OcpiPartner.token_a_digest == digest))
        # Every receiver checks the caller's parties, and a hub's settings (what we offer it):
        # loaded in the same round trip.
        .options(joinedload(OcpiPartner.roles), joinedload(OcpiPartner.hub_settings))
    )


def partner_by_name(name: str) -> OcpiPartner | None:
    """A partner by its operator-given name."""
    return db.session.scalars(select(OcpiPartner).where(OcpiPartner.name == name)).first()


def party_holder(country_code: str, party_id: str, role: str) -> OcpiPartner | None:
    """The partner that registered a party in a role; else the hub we reach other parties by.

    PlugPool's own party is never reached through a hub (its drivers' sessions stay here).
    """
    config = current_app.config
    if (country_code.upper(), party_id.upper()) == (
        config["OWN_COUNTRY_CODE"],
        config["OWN_PARTY_ID"],
    ):
        return None
    holder = direct_holder(country_code, party_id, role)
    if holder is not None and holder.hub_member:
        # A party on PlugPool's own hub is not a partner of PlugPool's CPO/eMSP.
        holder = None
    return holder or _hub(country_code, party_id, role)


def _hub(country_code: str, party_id: str, role: str) -> OcpiPartner | None:
    """The hub the party is behind: the first that accepts it in the role (its hubclientinfo
    and our rules), else the first hub (its callers check what that hub accepts)."""
    from app.ocpi.models import HUB_ROLE, PartnerStatus

    query = (
        select(OcpiPartner)
        .join(PartnerRole)
        .where(
            PartnerRole.role == HUB_ROLE,
            OcpiPartner.status == PartnerStatus.REGISTERED.value,
            OcpiPartner.hub_member.is_(False),
        )
        .order_by(OcpiPartner.id)
    )
    hubs = list(db.session.scalars(query).unique())
    wanted = frozenset({role})
    return next((hub for hub in hubs if hub.holds(country_code, party_id, wanted)), None) or next(
        iter(hubs), None
    )


def direct_holder(country_code: str, party_id: str, role: str) -> OcpiPartner | None:
    """The partner that registered a party in a role itself."""
    query = (
        select(OcpiPartner)
        .join(PartnerRole)
        .where(
            PartnerRole.country_code == country_code.upper(),
            PartnerRole.party_id == party_id.upper(),
            PartnerRole.role == role,
        )
    )
    return db.session.scalars(query).first()


def registered_partners_with(identifier: str, role: str) -> list[OcpiPartner]:
    """Registered partners that published an interface in their negotiated version.

    Parties on PlugPool's hub are not among them: the hub routes for them.
    """
    from app.ocpi.models import PartnerEndpoint, PartnerStatus

    query = (
        select(OcpiPartner)
        .join(PartnerEndpoint)
        .where(
            OcpiPartner.status == PartnerStatus.REGISTERED.value,
            OcpiPartner.hub_member.is_(False),
            PartnerEndpoint.version == OcpiPartner.version,
            PartnerEndpoint.identifier == identifier,
            PartnerEndpoint.role == role,
        )
        .order_by(OcpiPartner.id)
    )
    return list(db.session.scalars(query).unique())
