"""Read-only lookups of partners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import current_app
from sqlalchemy import select

from app.core.db import json_loads, read_alone
from app.core.security import digest_token, same_secret
from app.extensions import db
from app.ocpi.models import HUB_ROLE, OcpiPartner, PartnerRole


@dataclass(frozen=True)
class TokenHolder:
    """What authenticating a request needs of the partner presenting a token (no ORM row)."""

    id: int
    kind: str  # "A" (TOKEN_A) or "C" (the credentials token we issued)
    name: str
    status: str
    hub_member: bool
    is_hub: bool  # a hub partner of ours (role HUB): its settings say what we offer it
    settings: Any  # its ocpi_hub_settings columns (offer_roles, offer_parties, ...); None: none


# One round trip, on every OCPI request: the partner, whether it is a hub, and a hub's settings.
_HOLDER_SQL = f"""
SELECT p.id, p.name, p.status, p.hub_member, p.raw_tokens, p.token_in_digest, p.token_a_digest,
       EXISTS (SELECT 1 FROM ocpi_partner_roles r
               WHERE r.partner_id = p.id AND r.role = '{HUB_ROLE}') AS is_hub,
       s.id IS NOT NULL AS has_settings, s.offer_roles, s.offer_parties, s.allow, s.deny, s.push
FROM ocpi_partners p LEFT JOIN ocpi_hub_settings s ON s.partner_id = p.id
WHERE p.token_in_digest = %(digest)s OR p.token_a_digest = %(digest)s
"""  # noqa: S608 (a constant role name)


class StoredSettings(NamedTuple):
    """A hub partner's stored settings as the token lookup read them."""

    offer_roles: list[str]
    offer_parties: list[str]
    allow: list[str]
    deny: list[str]
    push: bool


def holder_for_token(token: str, raw: bool) -> TokenHolder | None:
    """The partner presenting token (raw tokens only if it uses them); None when nobody."""
    digest = digest_token(token)
    rows = read_alone(_HOLDER_SQL, {"digest": digest})
    if not rows:
        return None
    pid, name, status, hub_member, raw_tokens, token_in, token_a, is_hub, has_settings, *stored = (
        rows[0]
    )
    if raw and not raw_tokens:
        return None
    if token_in and same_secret(token_in, digest):
        kind = "C"
    elif token_a and same_secret(token_a, digest):
        kind = "A"
    else:
        return None
    # JSON columns come back as text where the database has no JSON type (SQLite).
    stored = [json_loads(value) if isinstance(value, str) else value for value in stored]
    settings = StoredSettings(*stored) if has_settings else None
    return TokenHolder(pid, kind, name, status, hub_member, is_hub, settings)


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
    from app.ocpi.models import PartnerStatus

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
