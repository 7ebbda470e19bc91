"""The full set for a partner that has just registered: every published tariff and location.

Registration writes one `ocpi.full_set` outbox event for the partner. Each delivery PUTs one batch
to the partner's receiver (tariffs first, since locations name them, then locations) and
writes the event for the next batch, so a large inventory goes out in bounded steps through
the same outbox, job and retry rules as every other push. The partner may pull as well.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.outbox import OutboxEvent, emit
from app.extensions import db
from app.inventory.models import Location
from app.ocpi.client import OcpiClient, endpoint_url
from app.ocpi.errors import PartnerCallFailed
from app.ocpi.locations.queries import published_locations
from app.ocpi.locations.serialise import location_to_ocpi
from app.ocpi.models import OcpiPartner, PartnerStatus
from app.ocpi.tariffs.queries import published_filters as published_tariffs
from app.ocpi.tariffs.serialise import tariff_to_ocpi
from app.tariffs.models import Tariff

FULL_SET = "ocpi.full_set"
TOPICS = (FULL_SET,)
BATCH = 100
MODULES = ("tariffs", "locations")


def offer_full_set(partner: OcpiPartner) -> None:
    """Queue the full set for the partner, in the caller's transaction."""
    _emit(partner, MODULES[0], 0)


def recipients(event: OutboxEvent) -> list[OcpiPartner]:
    """The partner the event is for, while it is registered."""
    partner = db.session.get(OcpiPartner, event.payload["partner_id"])
    if partner is None or partner.status != PartnerStatus.REGISTERED or not partner.token_out:
        return []
    return [partner]


def push(partner: OcpiPartner, event: OutboxEvent) -> None:
    """PUT the event's batch to the partner and queue the next one."""
    module, after = event.payload["module"], int(event.payload["after"])
    url = partner.endpoint(module, "RECEIVER")
    rows = _batch(module, after) if url else []
    _queue_next(partner, module, rows)
    client = OcpiClient(
        partner.token_out or "", raw_token=partner.raw_tokens, to_party=partner.party("EMSP")
    )
    failures = []
    for row in rows:
        target = endpoint_url(url or "", row.country_code, row.party_id, row.ocpi_id)
        try:
            client.put(target, _document(row, partner.version or "2.2.1"))
        except PartnerCallFailed as error:
            failures.append(str(error))
    if failures:
        raise PartnerCallFailed(f"{len(failures)} of {len(rows)} {module}: {failures[0]}")


def _batch(module: str, after: int) -> list[Any]:
    if module == "tariffs":
        query = select(Tariff).where(*published_tariffs(), Tariff.id > after).order_by(Tariff.id)
    else:
        query = published_locations().where(Location.id > after).order_by(Location.id)
    return list(db.session.scalars(query.limit(BATCH)))


def _queue_next(partner: OcpiPartner, module: str, rows: list[Any]) -> None:
    if len(rows) == BATCH:
        _emit(partner, module, rows[-1].id)
    elif module != MODULES[-1]:
        _emit(partner, MODULES[MODULES.index(module) + 1], 0)


def _document(row: Any, version: str) -> dict[str, Any]:
    if isinstance(row, Tariff):
        return tariff_to_ocpi(row, version)
    return location_to_ocpi(row, version)


def _emit(partner: OcpiPartner, module: str, after: int) -> None:
    payload = {"partner_id": partner.id, "module": module, "after": after}
    emit(db.session, FULL_SET, "ocpi_partner", str(partner.id), payload)
