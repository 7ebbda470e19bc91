"""Read-only selects of the tariffs PlugPool publishes."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import ColumnElement, Subquery, select

from app.extensions import db
from app.tariffs.models import Tariff


def published_filters() -> list[ColumnElement[bool]]:
    """Own tariffs that are not deleted."""
    config = current_app.config
    return [
        Tariff.country_code == config["OWN_COUNTRY_CODE"],
        Tariff.party_id == config["OWN_PARTY_ID"],
        Tariff.deleted_at.is_(None),
    ]


def tariffs_in(page: Subquery) -> list[Tariff]:
    """The tariffs of a page, in page order."""
    query = select(Tariff).join(page, Tariff.id == page.c.id)
    return list(db.session.scalars(query.order_by(page.c.last_updated, page.c.id)))
