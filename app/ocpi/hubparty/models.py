"""The parties behind a hub partner, as its hubclientinfo reports them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


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
