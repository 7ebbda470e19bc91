"""eMSP side of Tariffs: partner CPOs' tariffs pushed (PUT, DELETE) or pulled, stored as ours are.

Stored in the 2.2.1 shape the pricing engine reads (2.3.0 price limits become excl/incl VAT,
the tax flag a boolean), so a partner's connector is quoted by app/tariffs like our own.
"""

from __future__ import annotations

import logging
from typing import Any

from app.ocpi import errors
from app.ocpi.locations.received import check_party, same_id, to_json
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.received import load_received
from app.ocpi.schemas.tariffs import TARIFF
from app.ocpi.tariffs.serialise import tariff_to_ocpi
from app.tariffs import roaming

log = logging.getLogger("plugpool.ocpi.emsp")
_SCHEMAS = {version: schema() for version, schema in TARIFF.items()}
_TAX_INCLUDED = {"YES": True, "NO": False, "N/A": None}


def tariff_row(data: dict[str, Any]) -> dict[str, Any]:
    """A validated Tariff as the tariffs table's columns."""
    row: dict[str, Any] = {
        "country_code": data["country_code"].upper(),
        "party_id": data["party_id"].upper(),
        "ocpi_id": data["id"],
        "currency": data["currency"],
        "type": data.get("type"),
        "tariff_alt_text": to_json(data.get("tariff_alt_text", [])),
        "tariff_alt_url": data.get("tariff_alt_url"),
        "min_price": _price(data.get("min_price")),
        "max_price": _price(data.get("max_price")),
        "elements": to_json(data["elements"]),
        "energy_mix": to_json(data.get("energy_mix")),
        "tax_included": _TAX_INCLUDED.get(data.get("tax_included", "N/A")),
        "start_date_time": data.get("start_date_time"),
        "end_date_time": data.get("end_date_time"),
        "last_updated": data["last_updated"],
    }
    return row


def _price(price: dict[str, Any] | None) -> dict[str, Any] | None:
    """A 2.2.1 Price or a 2.3.0 PriceLimit as the 2.2.1 Price we store."""
    if price is None:
        return None
    stored = {"excl_vat": price.get("excl_vat", price.get("before_taxes"))}
    incl = price.get("incl_vat", price.get("after_taxes"))
    if incl is not None:
        stored["incl_vat"] = incl
    return stored


def _load(version: str, body: Any) -> dict[str, Any]:
    return load_received(_SCHEMAS[version], body)


def get_tariff(partner: OcpiPartner, version: str, cc: str, party: str, tariff_id: str) -> Any:
    """Our copy of a partner's Tariff."""
    cc, party = check_party(partner, cc, party)
    tariff = roaming.partner_tariff(cc, party, tariff_id)
    if tariff is None or tariff.deleted_at is not None:
        raise errors.UnknownObject(f"Unknown tariff {tariff_id}")
    return tariff_to_ocpi(tariff, version)


def put_tariff(
    partner: OcpiPartner, version: str, cc: str, party: str, tariff_id: str, body: Any
) -> bool:
    """Store a whole Tariff; False when older than ours (ignored)."""
    cc, party = check_party(partner, cc, party)
    data = _load(version, body)
    same_id(cc, data["country_code"], "country_code")
    same_id(party, data["party_id"], "party_id")
    same_id(tariff_id, data["id"], "id")
    return roaming.put_tariffs([tariff_row(data)]) == 1


def delete_tariff(partner: OcpiPartner, cc: str, party: str, tariff_id: str) -> None:
    """Delete a partner's Tariff: connectors naming it are no longer priced by it."""
    cc, party = check_party(partner, cc, party)
    tariff = roaming.partner_tariff(cc, party, tariff_id)
    if tariff is None:
        raise errors.UnknownObject(f"Unknown tariff {tariff_id}")
    roaming.delete_tariff(tariff)


def put_pulled(partner: OcpiPartner, version: str, items: list[Any]) -> tuple[int, int]:
    """Store a pulled page of Tariffs; return (applied, refused: invalid or foreign party)."""
    rows, refused = [], 0
    for item in items:
        try:
            data = _load(version, item)
            check_party(partner, data["country_code"], data["party_id"])
        except errors.InvalidParameters as error:
            refused += 1
            log.warning("partner %s: tariff refused: %s", partner.id, error.status_message)
            continue
        rows.append(tariff_row(data))
    return roaming.put_tariffs(rows), refused
