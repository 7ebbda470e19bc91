"""Which parties behind a hub partner PlugPool deals with: hubclientinfo status and own rules.

The operator's rules per hub: the partner's stored HubSettings (`flask ocpi hub-settings`),
merged with OCPI_HUB_PARTY_RULES (per hub name, from the settings file): the deny lists add
up, a stored allow list replaces the settings file's. What we offer the hub (our roles and
parties) and whether we push to it come from HubSettings only; without a row: everything
offered, pushes on.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields, validate
from sqlalchemy import select

from app.core.errors import ValidationFailed
from app.extensions import db
from app.ocpi import errors
from app.ocpi.client import OcpiClient
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.hubparty.models import HubParty, HubSettings
from app.ocpi.models import HUB_ROLE, OcpiPartner
from app.ocpi.schemas.common import OcpiDateTime, OcpiSchema, cistring

log = logging.getLogger("plugpool.ocpi.hubparty")
CONNECTED = "CONNECTED"
STATUSES = ("CONNECTED", "OFFLINE", "PLANNED", "SUSPENDED")
MAX_PAGES = 100
OUR_ROLES = ("CPO", "EMSP")
PARTY_FORMAT = r"^[A-Z]{2}\*[A-Z0-9]{3}$"


class ClientInfo(OcpiSchema):
    party_id = cistring(3, required=True)
    country_code = cistring(2, required=True)
    role = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    last_updated = OcpiDateTime(required=True)


def _party(country_code: str, party_id: str) -> str:
    return f"{country_code.upper()}*{party_id.upper()}"


@dataclass(frozen=True)
class HubRules:
    """The rules in force for one hub partner (stored settings merged with the settings file)."""

    offer_roles: frozenset[str]
    offer_parties: frozenset[str]  # empty: all of ours
    allow: frozenset[str]  # empty: every CONNECTED party
    deny: frozenset[str]
    push: bool


def hub_settings(partner: OcpiPartner) -> HubSettings | None:
    """The operator's stored settings for a partner, if any."""
    if partner.id is None:
        return None
    return partner.hub_settings  # joined to the token lookup; else one SELECT


def rules_for(partner: OcpiPartner) -> HubRules:
    """The stored settings merged with OCPI_HUB_PARTY_RULES for this partner's name."""
    return rules_from(partner.name, hub_settings(partner))


def rules_from(name: str, stored: Any) -> HubRules:
    """The rules of a hub partner by its name and stored settings (a HubSettings row or its
    columns as the token lookup reads them; None: no row)."""
    configured = current_app.config["OCPI_HUB_PARTY_RULES"].get(name) or {}

    def upper(entries: Any) -> frozenset[str]:
        return frozenset(str(entry).upper() for entry in entries or ())

    allow = upper(stored.allow if stored is not None else ()) or upper(configured.get("allow"))
    deny = upper(stored.deny if stored is not None else ()) | upper(configured.get("deny"))
    if stored is None:
        return HubRules(frozenset(OUR_ROLES), frozenset(), allow, deny, True)
    return HubRules(
        frozenset(stored.offer_roles), upper(stored.offer_parties), allow, deny, stored.push
    )


def refused_by_rules(partner: OcpiPartner, country_code: str, party_id: str) -> bool:
    """True when the operator's rules for this hub (allow/deny lists) refuse the party."""
    rules = rules_for(partner)
    party = _party(country_code, party_id)
    return party in rules.deny or (bool(rules.allow) and party not in rules.allow)


def offers(partner: OcpiPartner, role: str, party: tuple[str, str] | None = None) -> bool:
    """Whether we offer this partner our party (default: ours) in a role; always, unless a hub."""
    return not partner.is_hub or rules_offer(rules_for(partner), role, party)


def rules_offer(rules: HubRules, role: str, party: tuple[str, str] | None = None) -> bool:
    """Whether a hub's rules offer it our party (default: ours) in a role."""
    if role not in rules.offer_roles:
        return False
    if party is None:
        config = current_app.config
        party = (config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"])
    return not rules.offer_parties or _party(*party) in rules.offer_parties


def offered_roles(partner: OcpiPartner | None, roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Our CredentialsRoles as offered to this partner (a hub gets what its settings say)."""
    if partner is None:
        return roles
    return [r for r in roles if offers(partner, r["role"], (r["country_code"], r["party_id"]))]


def pushes_to(partner: OcpiPartner, role: str) -> bool:
    """Whether we push to this partner in our role: a hub only when its settings allow pushes
    (else it is served its pulls only) and the role is offered to it."""
    if not partner.is_hub:
        return True
    return rules_for(partner).push and offers(partner, role)


def set_hub_settings(
    partner: OcpiPartner,
    *,
    offer_roles: list[str] | None = None,
    offer_parties: list[str] | None = None,
    allow: list[str] | None = None,
    deny: list[str] | None = None,
    push: bool | None = None,
) -> HubSettings:
    """Create or change the operator's settings for a hub partner (None: left as is); one
    transaction. Our offer must keep at least one party in one role."""
    config = current_app.config
    own = _party(config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"])
    changes: dict[str, Any] = {}
    problems: dict[str, Any] = {}
    if offer_roles is not None:
        changes["offer_roles"] = sorted({role.upper() for role in offer_roles})
        if not changes["offer_roles"] or not set(changes["offer_roles"]) <= set(OUR_ROLES):
            problems["offer_roles"] = [f"one or more of {', '.join(OUR_ROLES)}"]
    if offer_parties is not None:
        changes["offer_parties"] = sorted({entry.upper() for entry in offer_parties})
        if any(entry != own for entry in changes["offer_parties"]):
            problems["offer_parties"] = [f"our parties are: {own}"]
    for name, entries in (("allow", allow), ("deny", deny)):
        if entries is not None:
            changes[name] = sorted({entry.upper() for entry in entries})
            if not all(re.fullmatch(PARTY_FORMAT, entry) for entry in changes[name]):
                problems[name] = ["parties as CC*PID, e.g. FR*ABC"]
    if push is not None:
        changes["push"] = push
    if problems:
        raise ValidationFailed(problems, "Invalid hub settings")
    row = hub_settings(partner) or HubSettings(
        partner_id=partner.id, offer_roles=list(OUR_ROLES), offer_parties=[], allow=[], deny=[]
    )
    for name, value in changes.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.commit()
    return row


def _rows(partner: OcpiPartner) -> list[HubParty]:
    return list(db.session.scalars(select(HubParty).where(HubParty.partner_id == partner.id)))


def accepts(
    partner: OcpiPartner, country_code: str, party_id: str, roles: frozenset[str] | None
) -> bool:
    """A party behind the hub is accepted when not refused by our rules and, once the hub's
    ClientInfo list is known, CONNECTED there in one of the roles."""
    if refused_by_rules(partner, country_code, party_id):
        return False
    rows = _rows(partner)
    if not rows:
        return True  # hubclientinfo not (yet) known: the hub vouches for its parties
    return any(
        row.country_code == country_code.upper()
        and row.party_id == party_id.upper()
        and (roles is None or row.role in roles)
        and row.status == CONNECTED
        for row in rows
    )


def unreachable(partner: OcpiPartner, party: tuple[str, str] | None) -> str | None:
    """Why nothing may be sent through this hub to the addressed party: "SUSPENDED" or
    "OFFLINE" (as the hub reports it, CONNECTED in no role), "refused by our hub settings";
    None when it may (a broadcast addressed to the hub itself always may)."""
    if party is None or not partner.is_hub or _upper(party) == partner.party(HUB_ROLE):
        return None
    if refused_by_rules(partner, *party):
        return "refused by our hub settings"
    rows = [r for r in _rows(partner) if (r.country_code, r.party_id) == _upper(party)]
    if any(row.status == CONNECTED for row in rows):
        return None
    statuses = {row.status for row in rows}
    return next((status for status in ("SUSPENDED", "OFFLINE") if status in statuses), None)


def reachable(partner: OcpiPartner, party: tuple[str, str] | None) -> bool:
    """False when the hub reports the addressed party OFFLINE or SUSPENDED, or our settings
    refuse it (nothing is pushed to it then)."""
    return unreachable(partner, party) is None


def _upper(party: tuple[str, str]) -> tuple[str, str]:
    return party[0].upper(), party[1].upper()


def store(partner: OcpiPartner, body: Any, key: tuple[str, str] | None = None) -> HubParty:
    """Insert or update one ClientInfo (PUT from the hub or a pulled list entry); no commit."""
    if not partner.is_hub:
        raise errors.Unauthorized("hubclientinfo is served to hub partners only")
    try:
        data = ClientInfo().load(body)
    except ValidationError as error:
        raise errors.InvalidParameters(f"ClientInfo: {error.messages}") from error
    country_code, party_id = data["country_code"].upper(), data["party_id"].upper()
    if key is not None and (country_code, party_id) != _upper(key):
        raise errors.InvalidParameters("ClientInfo party differs from the URL")
    row = db.session.scalar(
        select(HubParty).where(
            HubParty.partner_id == partner.id,
            HubParty.country_code == country_code,
            HubParty.party_id == party_id,
            HubParty.role == data["role"],
        )
    )
    if row is None:
        row = HubParty(
            partner_id=partner.id, country_code=country_code, party_id=party_id, role=data["role"]
        )
        db.session.add(row)
    elif row.last_updated > data["last_updated"]:
        return row  # ours is newer: a late retry of an older status
    row.status, row.last_updated = data["status"], data["last_updated"]
    if row.role == "CPO":
        _known_cpo(country_code, party_id)
    return row


def _known_cpo(country_code: str, party_id: str) -> None:
    """A CPO behind a hub enters the inventory's parties (its objects are stored under it)."""
    from app.inventory.models import Party
    from app.inventory.roaming import put_partner_party

    query = select(Party.id).where(Party.country_code == country_code, Party.party_id == party_id)
    if db.session.scalar(query) is None:
        put_partner_party(country_code, party_id, f"{country_code}*{party_id}", ("CPO",), None)


def store_reachable(partner: OcpiPartner, roles: list[dict[str, Any]]) -> None:
    """A 2.3.0 hub lists the parties reachable through it in its Credentials' roles: known as
    CONNECTED until its hubclientinfo says otherwise (dated at the epoch, so any ClientInfo
    wins). PlugPool's own party and the hub's are skipped; no commit."""
    config = current_app.config
    skipped = {(config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"]), partner.party(HUB_ROLE)}
    for role in roles:
        party = _upper((role["country_code"], role["party_id"]))
        if party in skipped or role["role"] not in ("CPO", "EMSP", "NSP", "NAP", "SCSP", "PTP"):
            continue
        info = {
            "country_code": party[0],
            "party_id": party[1],
            "role": role["role"],
            "status": CONNECTED,
            "last_updated": "1970-01-01T00:00:00Z",
        }
        store(partner, info)


def put_client_info(partner: OcpiPartner, key: tuple[str, str], body: Any) -> None:
    """The hub's PUT of one ClientInfo, in one transaction."""
    store(partner, body, key)
    db.session.commit()


def pull_client_info(partner: OcpiPartner) -> int:
    """GET the hub's ClientInfo list (all pages) and store it; return the entries stored."""
    url = partner.endpoint("hubclientinfo", "SENDER")
    if not partner.is_hub or url is None or not partner.token_out:
        return 0
    from app.ocpi.pull import _next_link

    client = OcpiClient(
        partner.token_out, raw_token=partner.raw_tokens, to_party=partner.party("HUB")
    )
    stored = 0
    pages = 0
    next_url: str | None = url
    while next_url and pages < MAX_PAGES:
        reply = client.get(next_url)
        if reply.status_code != 1000 or not isinstance(reply.data, list):
            raise PartnerCallFailed(f"hubclientinfo answered {reply.status_code}")
        for info in reply.data:
            try:
                store(partner, info)
                stored += 1
            except errors.OcpiError as error:
                log.warning("hub %s: ClientInfo refused: %s", partner.id, error.status_message)
        pages += 1
        next_url = _next_link(reply)
    db.session.commit()
    return stored


def pull_all_hubs() -> int:
    """Refresh the ClientInfo list of every registered hub partner (beat job)."""
    from app.ocpi.models import HUB_ROLE, PartnerRole, PartnerStatus

    hub_ids = db.session.scalars(
        select(OcpiPartner.id)
        .join(PartnerRole)
        .where(PartnerRole.role == HUB_ROLE, OcpiPartner.status == PartnerStatus.REGISTERED.value)
        .distinct()
    ).all()
    total = 0
    for hub_id in hub_ids:
        partner = db.session.get(OcpiPartner, hub_id)
        try:
            total += pull_client_info(partner)
        except PartnerCallFailed as error:
            db.session.rollback()
            log.warning("hub %s: hubclientinfo pull failed: %s", hub_id, error)
    return total
