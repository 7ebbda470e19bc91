"""Read-only lookups of the hub: parties, their rules, proxies, and the message log figures."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.hub.models import HubMember, HubMessage, HubRule, RuleKind
from app.ocpi.models import HUB_ROLE, OcpiPartner, PartnerRole, PartnerStatus


def member_holding(country_code: str, party_id: str) -> OcpiPartner | None:
    """The registered hub party (platform) that holds this party, in any role."""
    query = (
        select(OcpiPartner)
        .options(selectinload(OcpiPartner.roles), selectinload(OcpiPartner.endpoints))
        .join(PartnerRole)
        .where(
            OcpiPartner.hub_member.is_(True),
            OcpiPartner.status == PartnerStatus.REGISTERED.value,
            PartnerRole.country_code == country_code.upper(),
            PartnerRole.party_id == party_id.upper(),
        )
    )
    return db.session.scalars(query).first()


def members(registered_only: bool = True) -> list[OcpiPartner]:
    """Hub parties, oldest first."""
    query = (
        select(OcpiPartner)
        .options(selectinload(OcpiPartner.roles), selectinload(OcpiPartner.endpoints))
        .where(OcpiPartner.hub_member.is_(True))
        .order_by(OcpiPartner.id)
    )
    if registered_only:
        query = query.where(OcpiPartner.status == PartnerStatus.REGISTERED.value)
    return list(db.session.scalars(query))


def statuses() -> dict[int, HubMember]:
    """Each party's hub row by partner id."""
    return {row.partner_id: row for row in db.session.scalars(select(HubMember))}


def parties_of(partner: OcpiPartner) -> list[tuple[str, str]]:
    """The (country_code, party_id) pairs a platform holds (its HUB role excluded)."""
    return sorted({(r.country_code, r.party_id) for r in partner.roles if r.role != HUB_ROLE})


def rules() -> dict[int, list[HubRule]]:
    """Every party's rules by partner id."""
    grouped: dict[int, list[HubRule]] = {}
    for rule in db.session.scalars(select(HubRule).order_by(HubRule.id)):
        grouped.setdefault(rule.partner_id, []).append(rule)
    return grouped


def allows(own_rules: list[HubRule], counterparties: list[tuple[str, str]]) -> bool:
    """True when a party's rules let it talk to a platform holding these parties."""
    listed = set(counterparties)
    if any(r.kind == RuleKind.DENY and (r.country_code, r.party_id) in listed for r in own_rules):
        return False
    allow = [(r.country_code, r.party_id) for r in own_rules if r.kind == RuleKind.ALLOW]
    return not allow or bool(listed & set(allow))


def pair_allowed(
    sender: OcpiPartner, receiver: OcpiPartner, grouped: dict[int, list[HubRule]] | None = None
) -> bool:
    """Both parties' rules let them talk to each other."""
    grouped = rules() if grouped is None else grouped
    return allows(grouped.get(sender.id, []), parties_of(receiver)) and allows(
        grouped.get(receiver.id, []), parties_of(sender)
    )


def traffic(partner_id: int, since: datetime) -> tuple[int, int]:
    """(requests, errors) a party sent or received since a moment."""
    # No OCPI status at all: the delivery never got an answer.
    failed = HubMessage.status_code.is_(None) | (HubMessage.status_code >= 2000)
    error = case((failed, 1), else_=0)
    involved = (HubMessage.sender_partner_id == partner_id) | (
        HubMessage.receiver_partner_id == partner_id
    )
    query = select(func.count(), func.coalesce(func.sum(error), 0)).where(
        involved, HubMessage.created_at >= since
    )
    total, errors = db.session.execute(query).one()
    return int(total), int(errors)


def hourly(partner_id: int, hours: int = 24) -> list[tuple[int, int]]:
    """(requests, errors) per hour over the last `hours`, oldest first (for the chart)."""
    now = utcnow()
    start = now - timedelta(hours=hours)
    involved = (HubMessage.sender_partner_id == partner_id) | (
        HubMessage.receiver_partner_id == partner_id
    )
    rows = db.session.execute(
        select(HubMessage.created_at, HubMessage.status_code).where(
            involved, HubMessage.created_at >= start
        )
    )
    buckets = [[0, 0] for _ in range(hours)]
    for created_at, status_code in rows:
        index = min(int((created_at - start).total_seconds() // 3600), hours - 1)
        buckets[index][0] += 1
        buckets[index][1] += int(status_code is None or status_code >= 2000)
    return [(total, errors) for total, errors in buckets]


def recent_messages(limit: int = 200, partner_id: int | None = None) -> list[HubMessage]:
    """The newest routed messages' metadata."""
    query = select(HubMessage).order_by(HubMessage.id.desc()).limit(limit)
    if partner_id is not None:
        query = query.where(
            (HubMessage.sender_partner_id == partner_id)
            | (HubMessage.receiver_partner_id == partner_id)
        )
    return list(db.session.scalars(query))


def overview() -> list[dict[str, object]]:
    """One row per hub party for the operator: roles, version, modules, status, traffic."""
    now = utcnow()
    rows = statuses()
    grouped = rules()
    listing = []
    for partner in members(registered_only=False):
        row = rows.get(partner.id)
        listing.append(
            {
                "partner": partner,
                "parties": [
                    f"{r.role} {r.country_code}*{r.party_id}"
                    for r in partner.roles
                    if r.role != HUB_ROLE
                ],
                "modules": sorted({e.identifier for e in partner.endpoints}),
                "status": row.status if row else "PLANNED",
                "suspended": bool(row and row.suspended),
                "last_seen": row.last_seen_at if row else None,
                "hour": traffic(partner.id, now - timedelta(hours=1)),
                "day": traffic(partner.id, now - timedelta(days=1)),
                "chart": hourly(partner.id),
                "rules": grouped.get(partner.id, []),
            }
        )
    return listing
