"""Read-only selects of the bridge: own EVSEs as light views (fullLoad reads 100,000s)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.inventory.models import AvailabilityWindow, Connector, Evse, Location
from app.oicp.models import OicpOperator, OicpPushedEvse, OicpSession, OicpState

LOCATION_COLUMNS = (
    Location.id,
    Location.ocpi_id,
    Location.name,
    Location.address,
    Location.city,
    Location.postal_code,
    Location.country,
    Location.latitude,
    Location.longitude,
    Location.time_zone,
    Location.parking_type,
    Location.description,
    Location.publish,
    Location.deleted_at,
)
EVSE_COLUMNS = (Evse.id, Evse.uid, Evse.evse_id, Evse.status, Evse.capabilities, Evse.location_id)
CONNECTOR_COLUMNS = (
    Connector.evse_pk,
    Connector.standard,
    Connector.format,
    Connector.power_type,
    Connector.max_voltage,
    Connector.max_amperage,
    Connector.max_electric_power,
)


class ConnectorView(SimpleNamespace):
    """A connector row with the inventory model's power rule."""

    @property
    def power_kw(self) -> Decimal:
        """Maximum power in kW (as app.inventory.models.Connector.power_kw)."""
        if self.max_electric_power:
            return Decimal(self.max_electric_power) / 1000
        phases = 3 if self.power_type == "AC_3_PHASE" else 1
        return Decimal(self.max_voltage * self.max_amperage * phases) / 1000


def own_published_filter() -> list[Any]:
    """Conditions of PlugPool's own published, live locations."""
    config = current_app.config
    return [
        Location.country_code == config["OWN_COUNTRY_CODE"],
        Location.party_id == config["OWN_PARTY_ID"],
        Location.publish.is_(True),
        Location.deleted_at.is_(None),
    ]


def own_evse_batches(size: int, evse_pks: Sequence[int] | None = None) -> Iterator[list[tuple]]:
    """Yield lists of (location view, evse view) of own published EVSEs, by EVSE id."""
    after = 0
    while True:
        query = (
            select(*EVSE_COLUMNS)
            .join(Location, Location.id == Evse.location_id)
            .where(*own_published_filter(), Evse.id > after, Evse.status != "REMOVED")
            .order_by(Evse.id)
            .limit(size)
        )
        if evse_pks is not None:
            query = query.where(Evse.id.in_(evse_pks))
        evses = [SimpleNamespace(**row._mapping) for row in db.session.execute(query)]
        if not evses:
            return
        yield _views(evses)
        after = evses[-1].id


def evses_of_locations(location_pks: Sequence[int]) -> list[tuple]:
    """(location view, evse view) of every EVSE of these own locations, whatever their state."""
    config = current_app.config
    query = (
        select(*EVSE_COLUMNS)
        .join(Location, Location.id == Evse.location_id)
        .where(
            Location.id.in_(location_pks),
            Location.country_code == config["OWN_COUNTRY_CODE"],
            Location.party_id == config["OWN_PARTY_ID"],
        )
        .order_by(Evse.id)
    )
    evses = [SimpleNamespace(**row._mapping) for row in db.session.execute(query)]
    return _views(evses) if evses else []


def _views(evses: list[SimpleNamespace]) -> list[tuple[SimpleNamespace, SimpleNamespace]]:
    location_ids = {e.location_id for e in evses}
    locations = {
        row.id: SimpleNamespace(**row._mapping, availability=[])
        for row in db.session.execute(
            select(*LOCATION_COLUMNS).where(Location.id.in_(location_ids))
        )
    }
    for window in db.session.execute(
        select(
            AvailabilityWindow.location_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_time,
            AvailabilityWindow.end_time,
        ).where(AvailabilityWindow.location_id.in_(location_ids))
    ):
        locations[window.location_id].availability.append(window)
    connectors: dict[int, list[ConnectorView]] = defaultdict(list)
    for row in db.session.execute(
        select(*CONNECTOR_COLUMNS)
        .where(Connector.evse_pk.in_([e.id for e in evses]))
        .order_by(Connector.id)
    ):
        connectors[row.evse_pk].append(ConnectorView(**row._mapping))
    for evse in evses:
        evse.connectors = connectors[evse.id]
    return [(locations[e.location_id], e) for e in evses]


def state(key: str) -> OicpState | None:
    """A named watermark."""
    return db.session.get(OicpState, key)


def pushed(evse_ids: Sequence[str]) -> set[str]:
    """Which of these EvseIDs Hubject holds."""
    if not evse_ids:
        return set()
    query = select(OicpPushedEvse.evse_id).where(OicpPushedEvse.evse_id.in_(evse_ids))
    return set(db.session.scalars(query))


def session_by_hubject_id(session_id: str) -> OicpSession | None:
    """The bridge session Hubject knows by this SessionID."""
    return db.session.scalars(
        select(OicpSession).where(OicpSession.session_id == session_id)
    ).first()


def operators() -> dict[str, OicpOperator]:
    """Hubject operators we know, by OperatorID."""
    return {op.operator_id: op for op in db.session.scalars(select(OicpOperator))}
