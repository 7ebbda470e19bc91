"""Hub state: each party's connection status, routing rules, proxied URLs and the message log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import Base, UTCDateTime


class ConnectionStatus(StrEnum):
    """OCPI hubclientinfo ConnectionStatus."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


class HubMember(Base):
    """A platform connected to the hub: its connection status (the ClientInfo) and last contact."""

    __tablename__ = "hub_members"

    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10), default=ConnectionStatus.PLANNED.value)
    # ClientInfo.last_updated: when the status last changed.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the operator: only the operator's resume ends it (not a re-registration).
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)


class HubState(Base):
    """One row: the version of the routing data (parties, statuses, rules).

    Every change to what routing reads sets a new random `routing_version` in the change's own
    transaction; each process keeps its routing table until the version it reads differs.
    """

    __tablename__ = "hub_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    routing_version: Mapped[str] = mapped_column(String(32))


class RuleKind(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class HubRule(Base):
    """One entry of a party's allow-list or deny-list of counter-parties.

    A party with any allow entry talks only to the parties listed; deny entries always refuse.
    A rule holds both ways: the party neither sends to nor receives from a refused counter-party.
    """

    __tablename__ = "hub_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(5))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))


class HubProxy(Base):
    """A hub URL standing in for a party's URL: a response_url (callback) or a Link (page).

    owner_partner_id may call the hub URL; the call goes to `url` with target_partner_id's token.
    """

    __tablename__ = "hub_proxies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    module: Mapped[str] = mapped_column(String(32))
    owner_partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE")
    )
    target_partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class HubMessage(Base):
    """Metadata of one routed message, kept for disputes; never the body (personal data)."""

    __tablename__ = "hub_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))  # forward, broadcast, getall, callback, page
    method: Mapped[str] = mapped_column(String(7))
    module: Mapped[str] = mapped_column(String(32))
    sender_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL")
    )
    receiver_partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL")
    )
    from_party: Mapped[str | None] = mapped_column(String(5))
    to_party: Mapped[str | None] = mapped_column(String(5))
    request_id: Mapped[str | None] = mapped_column(String(64))
    forwarded_request_id: Mapped[str | None] = mapped_column(String(64))
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # OCPI status answered
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_hub_messages_created_at", "created_at"),
        Index("ix_hub_messages_sender", "sender_partner_id", "created_at"),
        Index("ix_hub_messages_receiver", "receiver_partner_id", "created_at"),
    )
