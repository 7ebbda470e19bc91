"""OCPI Tariffs as stored; the pricing engine reads them through to_ocpi()."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import iso_utc
from app.core.db import Base, JSONType, Timestamped, UTCDateTime


class Tariff(Timestamped, Base):
    """An OCPI Tariff; elements keep the OCPI structure (components, restrictions)."""

    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    ocpi_id: Mapped[str] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    type: Mapped[str | None] = mapped_column(String(24))
    tariff_alt_text: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    tariff_alt_url: Mapped[str | None] = mapped_column(String(255))
    min_price: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    max_price: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    elements: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    energy_mix: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    tax_included: Mapped[bool | None] = mapped_column(Boolean)
    start_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("country_code", "party_id", "ocpi_id"),
        ForeignKeyConstraint(
            ["country_code", "party_id"], ["parties.country_code", "parties.party_id"]
        ),
        Index("ix_tariffs_party_updated", "country_code", "party_id", "last_updated", "id"),
    )

    def to_ocpi(self) -> dict[str, Any]:
        """Return the tariff as an OCPI Tariff object (2.2.1 field names)."""
        data: dict[str, Any] = {
            "country_code": self.country_code,
            "party_id": self.party_id,
            "id": self.ocpi_id,
            "currency": self.currency,
            "elements": self.elements,
            "last_updated": iso_utc(self.last_updated),
        }
        optional = {
            "type": self.type,
            "tariff_alt_text": self.tariff_alt_text or None,
            "tariff_alt_url": self.tariff_alt_url,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "energy_mix": self.energy_mix,
            "start_date_time": _iso(self.start_date_time),
            "end_date_time": _iso(self.end_date_time),
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value else None
