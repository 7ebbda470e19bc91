"""The parties behind a hub partner, as its hubclientinfo reports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, JSONType, UTCDateTime


class HubParty(Base):
    """One ClientInfo of a hub partner: a party in a role behind the hub, and its status."""

    __tablename__ = "ocpi_hub_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True
    )
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    role: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # CONNECTED, OFFLINE, PLANNED, SUSPENDED
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("partner_id", "country_code", "party_id", "role"),)


class HubSettings(Base):
    """An operator's settings for one hub partner: what we offer it, whom behind it we accept,
    and whether we push to it or only serve its pulls."""

    __tablename__ = "ocpi_hub_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), unique=True
    )
    # Our roles (CPO, EMSP) and parties ("CC*PID"; empty: all of ours) offered to the hub.
    offer_roles: Mapped[list[str]] = mapped_column(JSONType, default=lambda: ["CPO", "EMSP"])
    offer_parties: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Parties behind the hub ("CC*PID"): an empty allow list = every CONNECTED one.
    allow: Mapped[list[str]] = mapped_column(JSONType, default=list)
    deny: Mapped[list[str]] = mapped_column(JSONType, default=list)
    push: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
