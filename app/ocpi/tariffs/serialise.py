"""Tariff rows as OCPI Tariff objects: 2.2.1 as stored, 2.3.0 with price limits and tax flag."""

from __future__ import annotations

from typing import Any

from app.tariffs.models import Tariff

TAX_INCLUDED = {True: "YES", False: "NO", None: "N/A"}


def tariff_to_ocpi(tariff: Tariff, version: str) -> dict[str, Any]:
    """One Tariff in the shape of the version."""
    data = tariff.to_ocpi()
    if version == "2.2.1":
        return data
    for key in ("min_price", "max_price"):
        if key in data:
            data[key] = _price_limit(data[key])
    data["tax_included"] = TAX_INCLUDED[tariff.tax_included]
    return data


def _price_limit(price: dict[str, Any]) -> dict[str, Any]:
    """2.2.1 Price {excl_vat, incl_vat} as 2.3.0 PriceLimit {before_taxes, after_taxes}."""
    limit = {"before_taxes": price.get("excl_vat", price.get("before_taxes"))}
    after = price.get("incl_vat", price.get("after_taxes"))
    if after is not None:
        limit["after_taxes"] = after
    return limit
