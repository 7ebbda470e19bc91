"""PlugPool as EMP: Hubject's EVSE data, status and pricing pulled into the one inventory.

Each Hubject operator becomes an inventory Party (and an `oicp_operators` row, network
"Hubject"); its EVSEs become published Locations, EVSEs and Connectors, so search, the map and
quotes show them like any roaming charger. Pages are written with multi-row upserts (one
statement per table and page): a full pull is hundreds of thousands of records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, select, text, update

from app.core.clock import utcnow
from app.core.spatial import point_value
from app.extensions import db
from app.inventory.models import AvailabilityWindow, Connector, Evse, Location, Party
from app.oicp import bulk, mapping
from app.oicp.client import HubjectClient
from app.oicp.models import OicpOperator, OicpState
from app.oicp.schemas.evse import EvseDataPage, EvseStatusAnswer
from app.oicp.schemas.pricing import EvsePricingAnswer, PricingProductAnswer
from app.oicp.services import pricing
from app.tariffs.models import Tariff

log = logging.getLogger("plugpool.oicp.pull")
DATA_PULL = "evse_data_pull"
PRICING_PULL = "evse_pricing_pull"


def _provider() -> str:
    return mapping.provider_id(current_app.config["OICP_PROVIDER_ID"])


def _own_operator() -> str:
    return mapping.compact(current_app.config["OICP_OPERATOR_ID"])


def pull_evse_data(client: HubjectClient | None = None) -> int:
    """PullEvseData 2.3: everything the first time, then the changes since the last call."""
    client = client or HubjectClient()
    started = utcnow()
    last = db.session.get(OicpState, DATA_PULL)
    body: dict[str, Any] = {
        "ProviderID": _provider(),
        "GeoCoordinatesResponseFormat": "DecimalDegree",
    }
    if last is not None and last.value is not None:
        body["LastCall"] = mapping.iso(last.value)
    size = int(current_app.config["OICP_PULL_PAGE_SIZE"])
    path = f"evsepull/v23/providers/{_provider()}/data-records"
    total = 0

    def fetch(page: int) -> dict[str, Any]:
        return client.post(path, body, EvseDataPage, params={"page": page, "size": size})

    # The next page is fetched and checked while this one is written (one request ahead).
    with (
        bulk.few_collections(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="oicp-pull") as fetcher,
    ):
        page, coming = 0, fetcher.submit(fetch, 0)
        while True:
            answer = coming.result()
            more = not answer["last"] and bool(answer["content"])
            if more:
                page += 1
                coming = fetcher.submit(fetch, page)
            total += store_records(answer["content"])
            db.session.commit()
            if not more:
                break
    _mark(DATA_PULL, started)
    db.session.commit()
    return total


def _mark(key: str, when: datetime) -> None:
    row = db.session.get(OicpState, key) or OicpState(key=key)
    row.value = when
    db.session.add(row)


def store_records(records: list[dict[str, Any]]) -> int:
    """Upsert a page of pulled EVSE data records; return how many were applied."""
    own = _own_operator()
    records = [r for r in records if mapping.compact(r["OperatorID"]) != own]
    if not records:
        return 0
    parties = _ensure_operators(records)
    location_ids = _upsert_locations(records, parties)
    evse_ids = _upsert_evses(records, parties, location_ids)
    _upsert_connectors(records, evse_ids)
    _replace_windows(records, parties, location_ids)
    return len(records)


def _ensure_operators(records: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Party and oicp_operators rows of the page's operators; OperatorID -> (cc, party)."""
    names = {mapping.operator_id(r["OperatorID"]): r["OperatorName"] for r in records}
    known = {
        op.operator_id: op
        for op in db.session.scalars(
            select(OicpOperator).where(OicpOperator.operator_id.in_(list(names)))
        )
    }
    for operator_id, name in names.items():
        if operator_id in known:
            continue
        country, party = mapping.party_of(operator_id)
        row = OicpOperator(operator_id=operator_id, country_code=country, party_id=party, name=name)
        db.session.add(row)
        known[operator_id] = row
        exists = db.session.scalars(
            select(Party.id).where(Party.country_code == country, Party.party_id == party)
        ).first()
        if exists is None:
            db.session.add(
                Party(country_code=country, party_id=party, name=name[:100], roles=["CPO"])
            )
    db.session.flush()
    return {key: (op.country_code, op.party_id) for key, op in known.items()}


def _party(record: dict[str, Any], parties: dict[str, tuple[str, str]]) -> tuple[str, str]:
    return parties[mapping.operator_id(record["OperatorID"])]


def _upsert_locations(
    records: list[dict[str, Any]], parties: dict[str, tuple[str, str]]
) -> dict[tuple[str, str, str], int]:
    """Upsert one Location per location key; return (cc, party, key) -> row id."""
    now = utcnow()
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        country, party = _party(record, parties)
        key = mapping.location_key(record)
        lat, lon = mapping.coordinates(record["GeoCoordinates"])
        rows[(country, party, key)] = {
            "country_code": country,
            "party_id": party,
            "ocpi_id": key,
            "publish": True,
            "name": mapping.name_of(record),
            **mapping.address_of(record),
            "latitude": lat,
            "longitude": lon,
            "geog": point_value(lat, lon),
            "time_zone": "UTC",
            "facilities": [],
            "directions": [],
            "images": [],
            "charging_when_closed": True,
            "instant_book": True,
            "cancellation_policy": "moderate",
            "created_at": now,
            "last_updated": now,
            "deleted_at": None,
        }
    found = bulk.upsert(
        Location,
        list(rows.values()),
        keys=("country_code", "party_id", "ocpi_id"),
        changed=(
            "name",
            "address",
            "city",
            "postal_code",
            "state",
            "country",
            "parking_type",
            "latitude",
            "longitude",
            "geog",
            "last_updated",
            "deleted_at",
            "publish",
        ),
        returning=("id", "country_code", "party_id", "ocpi_id"),
    )
    return {(r.country_code, r.party_id, r.ocpi_id): r.id for r in found}


def _evse_uid(record: dict[str, Any]) -> str:
    return mapping.compact(record["EvseID"])[:36]


def _upsert_evses(
    records: list[dict[str, Any]],
    parties: dict[str, tuple[str, str]],
    location_ids: dict[tuple[str, str, str], int],
) -> dict[str, int]:
    """Upsert the EVSEs (deltaType delete -> REMOVED); return EvseID uid -> row id."""
    now = utcnow()
    rows = {}
    for record in records:
        country, party = _party(record, parties)
        removed = record.get("deltaType") == "delete"
        rows[_evse_uid(record)] = {
            "location_id": location_ids[(country, party, mapping.location_key(record))],
            "uid": _evse_uid(record),
            "evse_id": record["EvseID"].upper()[:48],
            "status": "REMOVED" if removed else "UNKNOWN",
            "capabilities": mapping.capabilities_of(record),
            "parking_restrictions": [],
            "created_at": now,
            "last_updated": now,
        }
    found = bulk.upsert(
        Evse,
        list(rows.values()),
        keys=("location_id", "uid"),
        changed=("evse_id", "capabilities", "last_updated"),
        returning=("id", "uid"),
        # A data push carries no status: keep the pulled one unless the record is deleted.
        special={"status": _KEEP_STATUS},
    )
    return {row.uid: row.id for row in found}


_KEEP_STATUS = "CASE WHEN excluded.status = 'REMOVED' THEN 'REMOVED' ELSE evses.status END"


def _upsert_connectors(records: list[dict[str, Any]], evse_ids: dict[str, int]) -> None:
    now = utcnow()
    rows = []
    for record in records:
        evse_pk = evse_ids[_evse_uid(record)]
        for connector in mapping.connectors_of(record):
            rows.append(
                {
                    "evse_pk": evse_pk,
                    **connector,
                    "tariff_ids": [],
                    "created_at": now,
                    "last_updated": now,
                }
            )
    bulk.upsert(
        Connector,
        rows,
        keys=("evse_pk", "ocpi_id"),
        changed=(
            "standard",
            "format",
            "power_type",
            "max_voltage",
            "max_amperage",
            "max_electric_power",
            "last_updated",
        ),
    )


def _replace_windows(
    records: list[dict[str, Any]],
    parties: dict[str, tuple[str, str]],
    location_ids: dict[tuple[str, str, str], int],
) -> None:
    """Opening times as weekly windows (a location open around the clock has none)."""
    windows: dict[int, list[tuple[Any, Any, Any]]] = {}
    for record in records:
        country, party = _party(record, parties)
        pk = location_ids[(country, party, mapping.location_key(record))]
        if record.get("IsOpen24Hours") or not record.get("OpeningTimes"):
            windows.setdefault(pk, [])
        else:
            windows[pk] = mapping.windows_of(record["OpeningTimes"])
    db.session.execute(
        delete(AvailabilityWindow).where(AvailabilityWindow.location_id.in_(list(windows)))
    )
    rows = [
        {"location_id": pk, "weekday": day, "start_time": start, "end_time": end}
        for pk, found in windows.items()
        for day, start, end in found
    ]
    bulk.upsert(AvailabilityWindow, rows)


def pull_evse_status(client: HubjectClient | None = None) -> int:
    """PullEvseStatus 2.1: the status of every Hubject EVSE we hold; return how many changed."""
    client = client or HubjectClient()
    path = f"evsepull/v21/providers/{_provider()}/status-records"
    answer = client.post(path, {"ProviderID": _provider()}, EvseStatusAnswer)
    own = _own_operator()
    pairs = [
        {
            "b_uid": mapping.compact(record["EvseID"])[:36],
            "b_status": mapping.STATUS_IN[record["EvseStatus"]],
        }
        for block in answer["EvseStatuses"]["OperatorEvseStatus"]
        if mapping.compact(block["OperatorID"]) != own
        for record in block["EvseStatusRecord"]
    ]
    if not pairs:
        return 0
    changed = _apply_statuses(pairs)
    db.session.commit()
    return changed


# One statement for the whole answer: a join with the pairs, not a lookup per EVSE.
_STATUS_UPDATE = text(
    """
    UPDATE evses SET status = v.status, last_updated = :now
    FROM unnest(CAST(:uids AS text[]), CAST(:statuses AS text[])) AS v(uid, status),
         locations l, oicp_operators o
    WHERE evses.uid = v.uid AND evses.location_id = l.id
      AND l.country_code = o.country_code AND l.party_id = o.party_id
      AND evses.status <> 'REMOVED' AND evses.status <> v.status
    """
)


def _apply_statuses(pairs: list[dict[str, str]]) -> int:
    """Set the pulled statuses of Hubject EVSEs; return how many changed."""
    if db.session.get_bind().dialect.name == "postgresql":
        result = db.session.execute(
            _STATUS_UPDATE,
            {
                "uids": [p["b_uid"] for p in pairs],
                "statuses": [p["b_status"] for p in pairs],
                "now": utcnow(),
            },
        )
        return int(result.rowcount or 0)
    hubject = select(Location.id).join(
        OicpOperator,
        (OicpOperator.country_code == Location.country_code)
        & (OicpOperator.party_id == Location.party_id),
    )
    statement = (
        update(Evse)
        .where(
            Evse.uid == bindparam("b_uid"),
            Evse.location_id.in_(hubject.scalar_subquery()),
            Evse.status != "REMOVED",
        )
        .values(status=bindparam("b_status"), last_updated=utcnow())
    )
    result = db.session.connection().execute(statement, pairs)
    return int(result.rowcount or 0)


def pull_pricing(client: HubjectClient | None = None) -> int:
    """PullPricingProductData + PullEVSEPricing 1.0: Hubject products become OCPI Tariffs of
    their operator, named by the connectors of the EVSEs they apply to; return EVSEs priced."""
    client = client or HubjectClient()
    operators = [op.operator_id for op in db.session.scalars(select(OicpOperator))]
    if not operators:
        return 0
    body = {"ProviderID": _provider(), "OperatorIDs": operators}
    products = client.post(
        f"dynamicpricing/v10/providers/{_provider()}/pricing-products", body, PricingProductAnswer
    )
    assignments = client.post(
        f"dynamicpricing/v10/providers/{_provider()}/evse-pricing", body, EvsePricingAnswer
    )
    for data in products["PricingProductData"]:
        _store_products(data)
    priced = 0
    for block in assignments["OperatorEVSEPricing"]:
        for item in block["EVSEPricing"]:
            priced += _assign(block["OperatorID"], item)
    _mark(PRICING_PULL, utcnow())
    db.session.commit()
    return priced


def _store_products(data: dict[str, Any]) -> None:
    country, party = mapping.party_of(data["OperatorID"])
    for product in data["PricingProductDataRecords"]:
        tariff_id = pricing.tariff_id_of(product["ProductID"])
        tariff = db.session.scalars(
            select(Tariff).where(
                Tariff.country_code == country,
                Tariff.party_id == party,
                Tariff.ocpi_id == tariff_id,
            )
        ).first() or Tariff(country_code=country, party_id=party, ocpi_id=tariff_id)
        tariff.currency = product["ProductPriceCurrency"]
        tariff.elements = pricing.elements_of_product(product)
        tariff.deleted_at = None
        db.session.add(tariff)
    db.session.flush()


def _assign(operator_id: str, item: dict[str, Any]) -> int:
    """Name the EVSE's products as its connectors' tariffs (the first applies)."""
    tariff_ids = [pricing.tariff_id_of(p["ProductID"]) for p in item["EvseIDProductList"]]
    evse = db.session.scalars(
        select(Evse).where(Evse.uid == mapping.compact(item["EvseID"])[:36])
    ).first()
    if evse is None:
        return 0
    for connector in evse.connectors:
        connector.tariff_ids = tariff_ids
    return 1
