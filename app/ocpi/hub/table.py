"""The routing table: each process's snapshot of the hub's parties, statuses and rules.

Routing a request reads no party rows: the table answers who holds a party, its endpoints,
status and rules. A request reads one value, the routing version (hub_state; a statement of
its own, before the request's transaction begins), and the table is
rebuilt when it differs from the version the table was built at. Every change to what routing
reads (`changed()`: a suspension, a rule, a status, a registration) writes a new version in its
own transaction, so every process routes by it from the moment it commits.

The table also authenticates hub parties (token digest -> member): any flush that changes a hub
party's token, status or deletes it writes a new version in that transaction (`_on_flush`), so
a rotated or removed token is refused by every process from its commit on.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field

from flask import has_request_context, request
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, selectinload

from app.core.db import read_alone
from app.core.replica import leave_replica
from app.core.security import same_secret
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

    # Derived once (a broadcast checks every member's rules against every other's).
    parties: list[Party] = field(init=False)
    party_set: frozenset[Party] = field(init=False)

    def __post_init__(self) -> None:
        own = {(cc, pid) for role, cc, pid in self.roles if role != HUB_ROLE}
        object.__setattr__(self, "parties", sorted(own))
        object.__setattr__(self, "party_set", frozenset(own))

    @property
    def connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED.value

    def endpoint(self, identifier: str, role: str) -> str | None:
        return self.endpoints.get((identifier, role))

    def allows(self, other: Member) -> bool:
        """This party's rules let it talk to the other platform."""
        theirs = other.party_set
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
    version: str | None  # the routing version it was built at (None: not to be reused)
    by_token: dict[str, tuple[str, Member]] = field(default_factory=dict)  # digest -> member

    def holder(self, party: Party) -> Member | None:
        return self.by_party.get(party)

    def registered(self) -> list[Member]:
        return [m for m in self.members.values() if m.token_out]

    def authenticate(self, digest: str, raw: bool) -> Member | None:
        """The registered party whose token (credentials token C) has this digest."""
        found = self.by_token.get(digest)
        if found is None or (raw and not found[1].raw_tokens):
            return None
        return found[1] if same_secret(found[0], digest) else None


_PER_REQUEST = "plugpool.hub_table"  # the environ key of the table a request uses
_lock = threading.Lock()
_cached: Table | None = None
_VERSION_SQL = "SELECT routing_version FROM hub_state WHERE id = 1"
# Same text on PostgreSQL and SQLite: one row, created by the first change if missing.
_SET_VERSION = text(
    "INSERT INTO hub_state (id, routing_version) VALUES (1, :version) "
    "ON CONFLICT (id) DO UPDATE SET routing_version = excluded.routing_version"
)


def table() -> Table:
    """The current table: the cached one while the routing version is unchanged (the version is
    read once per request: authentication and routing share it)."""
    if not has_request_context():
        return _current()
    current = request.environ.get(_PER_REQUEST)
    if current is None:
        current = request.environ[_PER_REQUEST] = _current()
    return current


def _current() -> Table:
    global _cached
    # Read before the rows: a table is never labelled with a version newer than its rows.
    version = _version()
    current = _cached
    if current is not None and version is not None and current.version == version:
        return current
    with _lock:
        current = _cached
        if current is not None and version is not None and current.version == version:
            return current
        built = _build(version)
        _cached = built
        return built


def _version() -> str | None:
    """The routing version committed now: a statement of its own while the request's
    transaction has not begun, else read in it (a change it made itself is seen)."""
    rows = read_alone(_VERSION_SQL)
    return rows[0][0] if rows else None


def changed() -> None:
    """Note a change to routing data in the caller's transaction: every process rebuilds its
    table once the transaction commits (and this one at its next use)."""
    global _cached
    # Not flushing the caller's pending rows first: changes lock the version row before any
    # member row, so two of them never wait on each other crosswise.
    leave_replica(db.session())  # a write (a text statement would not say so by itself)
    with db.session.no_autoflush:
        db.session.execute(_SET_VERSION, {"version": uuid.uuid4().hex})
    forget()


def forget() -> None:
    """Drop this process's table (the next use rebuilds it), e.g. for a party not in it yet."""
    global _cached
    _cached = None
    if has_request_context():
        request.environ.pop(_PER_REQUEST, None)


# What the table (and hub authentication) reads of a partner row.
_WATCHED = ("token_in_digest", "token_a_digest", "raw_tokens", "status", "hub_member", "version")


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: object, _instances: object) -> None:
    """A hub party's token, status or row changed: a new version in the same transaction."""
    added_or_gone = [*session.new, *session.deleted]
    if any(isinstance(o, OcpiPartner) and o.hub_member for o in added_or_gone) or any(
        isinstance(o, OcpiPartner) and _changed(o) for o in session.dirty
    ):
        leave_replica(session)
        session.execute(_SET_VERSION, {"version": uuid.uuid4().hex})
        forget()


def _changed(partner: OcpiPartner) -> bool:
    attrs = inspect(partner).attrs
    if not any(attrs[name].history.has_changes() for name in _WATCHED):
        return False
    return bool(partner.hub_member) or any(attrs.hub_member.history.deleted)


def _build(version: str | None) -> Table:
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
    by_token: dict[str, tuple[str, Member]] = {}
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
        if partner.token_in_digest:
            by_token[partner.token_in_digest] = (partner.token_in_digest, member)
    return Table(members, by_party, version, by_token)
