"""Read-only selects of the tariffs PlugPool publishes."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Select, select

from app.tariffs.models import Tariff


def published_tariffs() -> Select[Any]:
    """Own tariffs that are not deleted."""
    config = current_app.config
    return select(Tariff).where(
        Tariff.country_code == config["OWN_COUNTRY_CODE"],
        Tariff.party_id == config["OWN_PARTY_ID"],
        Tariff.deleted_at.is_(None),
    )
