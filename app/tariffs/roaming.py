"""Partner CPOs' tariffs in the one tariffs table, priced by the one engine like our own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from app.core.bulk import upsert
from app.core.clock import utcnow
from app.extensions import db
from app.tariffs.models import Tariff

TARIFF_COLUMNS = (
    "currency", "type", "tariff_alt_text", "tariff_alt_url", "min_price", "max_price",
    "elements", "energy_mix", "tax_included", "start_date_time", "end_date_time", "deleted_at",
    "last_updated",
)  # fmt: skip


def put_tariffs(rows: Sequence[dict[str, Any]]) -> int:
    """Write whole partner Tariffs (PUT or a pulled page) in one transaction; return how many
    were applied (older than stored: skipped). A re-sent deleted tariff comes back to life."""
    if not rows:
        return 0
    now = utcnow()
    params = [{"created_at": now, "deleted_at": None, **row} for row in rows]
    written = upsert(
        Tariff.__table__, ("country_code", "party_id", "ocpi_id"), TARIFF_COLUMNS, params
    )
    db.session.commit()
    return len(written)


def partner_tariff(country_code: str, party_id: str, ocpi_id: str) -> Tariff | None:
    """A tariff by its OCPI key (deleted ones too), or None."""
    query = select(Tariff).where(
        Tariff.country_code == country_code,
        Tariff.party_id == party_id,
        Tariff.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).one_or_none()


def delete_tariff(tariff: Tariff, when: datetime | None = None) -> None:
    """Mark a partner tariff deleted: connectors that name it are no longer priced by it."""
    # last_updated stays the partner's: a later PUT of the tariff (newer) brings it back.
    db.session.execute(
        update(Tariff).where(Tariff.id == tariff.id).values(deleted_at=when or utcnow())
    )
    db.session.commit()
