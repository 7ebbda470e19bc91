"""Read-only selects of the locations PlugPool publishes to partners."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.inventory.models import Evse, Location


def published_locations() -> Select[Any]:
    """Own, published, not deleted locations, with what a Location object needs."""
    config = current_app.config
    return (
        select(Location)
        .where(
            Location.country_code == config["OWN_COUNTRY_CODE"],
            Location.party_id == config["OWN_PARTY_ID"],
            Location.publish.is_(True),
            Location.deleted_at.is_(None),
        )
        .options(
            selectinload(Location.evses).selectinload(Evse.connectors),
            selectinload(Location.availability),
            selectinload(Location.blackouts),
        )
    )


def published_location(ocpi_id: str) -> Location | None:
    """One published own location by its OCPI id."""
    return db.session.scalars(published_locations().where(Location.ocpi_id == ocpi_id)).first()
