"""The routing table: each process's snapshot of the hub's parties, statuses and rules.

Routing a request reads no party rows: the table answers who holds a party, its endpoints,
status and rules. It is rebuilt when older than HUB_ROUTING_CACHE_SECONDS (0: on every use,
the testing profile) and at once after a change made in this process; other processes see a
change (a suspension, a rule, a new party) within that many seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.ocpi.hub.models import ConnectionStatus, HubMember, HubRule, RuleKind
from app.ocpi.models import HUB_ROLE, OcpiPartner, PartnerStatus

Party = tuple[str, str]


@dataclass(frozen=True)
class Member:
    """What routing needs of one platform on the hub."""

    id: int
    version: str
    token_out: str
    raw_tokens: bool
    roles: tuple[tuple[str, str, str], ...]  # (role, country_code, party_id)
    endpoints: dict[tuple[str, str], str]  # (identifier, interface role) -> URL
    status: str
    suspended: bool
    allow: frozenset[Party] = field(default_factory=frozenset)
    deny: frozenset[Party] = field(default_factory=frozenset)

    @property
    def parties(self) -> list[Party]:
        return sorted({(cc, pid) for role, cc, pid in self.roles if role != HUB_ROLE})

    @property
    def connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED.value

    def endpoint(self, identifier: str, role: str) -> str | None:
        return self.endpoints.get((identifier, role))

    def allows(self, other: Member) -> bool:
        """This party's rules let it talk to the other platform."""
        theirs = set(other.parties)
        if theirs & self.deny:
            return False
        return not self.allow or bool(theirs & self.allow)


def pair_allowed(sender: Member, receiver: Member) -> bool:
    """Both parties' rules let them talk to each other."""
    return sender.allows(receiver) and receiver.allows(sender)


@dataclass
class Table:
    members: dict[int, Member]
    by_party: dict[Party, Member]
    built: float

    def holder(self, party: Party) -> Member | None:
        return self.by_party.get(party)

    def registered(self) -> list[Member]:
        return [m for m in self.members.values() if m.token_out]


_lock = threading.Lock()
_cached: Table | None = None


def table() -> Table:
    """The current table (rebuilt when stale)."""
    global _cached
    ttl = current_app.config["HUB_ROUTING_CACHE_SECONDS"]
    current = _cached
    if current is not None and ttl > 0 and time.monotonic() - current.built < ttl:
        return current
    with _lock:
        _cached = _build()
        return _cached


def invalidate() -> None:
    """Forget the table after a change made here (the next request rebuilds it)."""
    global _cached
    _cached = None


def _build() -> Table:
    partners = db.session.scalars(
        select(OcpiPartner)
        .options(selectinload(OcpiPartner.roles), selectinload(OcpiPartner.endpoints))
        .where(
            OcpiPartner.hub_member.is_(True), OcpiPartner.status == PartnerStatus.REGISTERED.value
        )
        .order_by(OcpiPartner.id)
    ).all()
    rows = {row.partner_id: row for row in db.session.scalars(select(HubMember))}
    rules: dict[int, list[HubRule]] = {}
    for rule in db.session.scalars(select(HubRule)):
        rules.setdefault(rule.partner_id, []).append(rule)
    members: dict[int, Member] = {}
    by_party: dict[Party, Member] = {}
    for partner in partners:
        row = rows.get(partner.id)
        own_rules = rules.get(partner.id, [])
        member = Member(
            id=partner.id,
            version=partner.version or "2.2.1",
            token_out=partner.token_out or "",
            raw_tokens=partner.raw_tokens,
            roles=tuple((r.role, r.country_code, r.party_id) for r in partner.roles),
            endpoints={
                (e.identifier, e.role): e.url
                for e in partner.endpoints
                if e.version == partner.version
            },
            status=row.status if row else ConnectionStatus.PLANNED.value,
            suspended=bool(row and row.suspended),
            allow=frozenset(
                (r.country_code, r.party_id) for r in own_rules if r.kind == RuleKind.ALLOW
            ),
            deny=frozenset(
                (r.country_code, r.party_id) for r in own_rules if r.kind == RuleKind.DENY
            ),
        )
        members[partner.id] = member
        for party in member.parties:
            by_party.setdefault(party, member)
    return Table(members, by_party, time.monotonic())
