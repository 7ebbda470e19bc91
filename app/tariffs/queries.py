"""Read-only tariff selects."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.tariffs.models import Tariff


def tariff_by_ocpi_id(country_code: str, party_id: str, ocpi_id: str) -> Tariff | None:
    """Return a party's tariff by its OCPI id, or None."""
    query = select(Tariff).where(
        Tariff.country_code == country_code,
        Tariff.party_id == party_id,
        Tariff.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).one_or_none()
