"""Read-only selects of the bridge: own EVSEs as light views (fullLoad reads 100,000s)."""

from __future__ import annotations

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
    """Yield lists of (location view, evse view) of own published EVSEs, by EVSE id.

    Three set-based selects per batch (EVSEs with their locations, then the batch's connectors
    and opening windows by joining the same conditions over the batch's id range), never a
    list of 10,000 ids sent back to the database.
    """
    after = 0
    while True:
        where = [*own_published_filter(), Evse.status != "REMOVED", Evse.id > after]
        if evse_pks is not None:
            where.append(Evse.id.in_(evse_pks))
        query = (
            select(*EVSE_COLUMNS, *_LOCATION_LABELLED)
            .join(Location, Location.id == Evse.location_id)
            .where(*where)
            .order_by(Evse.id)
            .limit(size)
        )
        rows = db.session.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        yield _views(rows, [*where, Evse.id <= last])
        after = last


def evses_of_locations(location_pks: Sequence[int]) -> list[tuple]:
    """(location view, evse view) of every EVSE of these own locations, whatever their state."""
    config = current_app.config
    where = [
        Location.id.in_(location_pks),
        Location.country_code == config["OWN_COUNTRY_CODE"],
        Location.party_id == config["OWN_PARTY_ID"],
    ]
    query = (
        select(*EVSE_COLUMNS, *_LOCATION_LABELLED)
        .join(Location, Location.id == Evse.location_id)
        .where(*where)
        .order_by(Evse.id)
    )
    rows = db.session.execute(query).all()
    return _views(rows, where) if rows else []


_LOCATION_LABELLED = tuple(column.label(f"loc_{column.key}") for column in LOCATION_COLUMNS)


def _views(rows: list[Any], where: list[Any]) -> list[tuple[SimpleNamespace, SimpleNamespace]]:
    """Views of EVSE+location rows; `where` selects the same EVSEs (joined with Location)."""
    locations: dict[int, SimpleNamespace] = {}
    evses = []
    for row in rows:
        values = row._mapping
        location_id = values["loc_id"]
        if location_id not in locations:
            locations[location_id] = SimpleNamespace(
                **{column.key: values[f"loc_{column.key}"] for column in LOCATION_COLUMNS},
                availability=[],
            )
        evse = SimpleNamespace(**{column.key: values[column.key] for column in EVSE_COLUMNS})
        evse.connectors = []
        evses.append(evse)
    scope = select(Evse.location_id).join(Location, Location.id == Evse.location_id).where(*where)
    for window in db.session.execute(
        select(
            AvailabilityWindow.location_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_time,
            AvailabilityWindow.end_time,
        ).where(AvailabilityWindow.location_id.in_(scope.scalar_subquery()))
    ):
        locations[window.location_id].availability.append(window)
    by_pk = {evse.id: evse for evse in evses}
    for row in db.session.execute(
        select(*CONNECTOR_COLUMNS)
        .join(Evse, Evse.id == Connector.evse_pk)
        .join(Location, Location.id == Evse.location_id)
        .where(*where)
        .order_by(Connector.id)
    ):
        by_pk[row.evse_pk].connectors.append(ConnectorView(**row._mapping))
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
