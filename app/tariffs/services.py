"""Tariff use cases that other domains call inside their own transaction."""

from __future__ import annotations

import uuid
from typing import Any

from app.extensions import db
from app.tariffs.models import Tariff
from app.tariffs.simple_price import elements_from_price


def put_owner_tariff(
    country_code: str, party_id: str, price: dict[str, Any], tariff: Tariff | None = None
) -> Tariff:
    """Create or replace the OCPI tariff behind an owner's price; joins the caller's transaction."""
    if tariff is None:
        tariff = Tariff(country_code=country_code, party_id=party_id, ocpi_id=str(uuid.uuid4()))
        db.session.add(tariff)
    tariff.currency = price["currency"]
    tariff.type = "REGULAR"
    tariff.elements = elements_from_price(price)
    tariff.tax_included = None
    return tariff
