"""Partner CPOs' inventory: their parties, locations, EVSEs and connectors in the one inventory.

Rows come already translated (app.ocpi.locations.received) and already scoped to a party the
partner holds. Writes are set-based (one multi-row upsert per table), so a page of 1,000
pulled locations and one pushed EVSE take the same path. The partner owns last_updated: a
row is only replaced by one at least as new, so an old page or a late push never rolls
anything back. Nothing here writes an outbox event: partner objects are not ours to push.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, true, update

from app.core.bulk import one_of, upsert
from app.core.clock import utcnow
from app.extensions import db
from app.inventory.enums import EvseStatus
from app.inventory.models import Connector, Evse, Location, Party

LOCATION_COLUMNS = (
    "publish", "name", "address", "city", "postal_code", "state", "country", "latitude",
    "longitude", "geog", "time_zone", "parking_type", "facilities", "directions", "images",
    "opening_times", "charging_when_closed", "last_updated",
)  # fmt: skip
EVSE_COLUMNS = (
    "evse_id", "status", "capabilities", "floor_level", "physical_reference",
    "parking_restrictions", "last_updated",
)  # fmt: skip
CONNECTOR_COLUMNS = (
    "standard", "format", "power_type", "max_voltage", "max_amperage", "max_electric_power",
    "tariff_ids", "terms_and_conditions", "last_updated",
)  # fmt: skip


@dataclass
class EvseRow:
    """An EVSE's column values and its connectors' (each a dict with ocpi_id and columns)."""

    uid: str
    values: dict[str, Any]
    connectors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class LocationRow:
    """A whole partner Location: its key, column values and EVSEs."""

    country_code: str
    party_id: str
    ocpi_id: str
    values: dict[str, Any]
    evses: list[EvseRow] = field(default_factory=list)


def put_partner_party(
    country_code: str, party_id: str, name: str, roles: Sequence[str], website: str | None
) -> Party:
    """Create or update a partner's party (its network name) in the caller's transaction."""
    query = select(Party).where(Party.country_code == country_code, Party.party_id == party_id)
    party = db.session.scalars(query).one_or_none()
    if party is None:
        party = Party(country_code=country_code, party_id=party_id, is_own=False)
        db.session.add(party)
    if not party.is_own:
        party.name, party.website = name[:100], website
        party.roles = sorted(set(party.roles or []) | set(roles))
    return party


def put_locations(rows: Sequence[LocationRow]) -> int:
    """Write whole partner Locations (PUT or a pulled page) in one transaction; return how many
    were applied (older than stored: skipped).

    An EVSE the new Location no longer lists becomes REMOVED (OCPI never deletes EVSEs, and
    sessions refer to them); a connector it no longer lists is deleted.
    """
    if not rows:
        return 0
    now = utcnow()
    written = upsert(
        Location.__table__,
        ("country_code", "party_id", "ocpi_id"),
        LOCATION_COLUMNS,
        [_location_params(row, now) for row in rows],
    )
    by_key = {(row.country_code, row.party_id, row.ocpi_id): row for row in rows}
    applied = {pk: by_key[(cc, party, ocpi_id)] for pk, cc, party, ocpi_id in written}
    evses = [(pk, evse) for pk, row in applied.items() for evse in row.evses]
    _put_evses(evses, now)
    _remove_unlisted(list(applied), [(pk, evse.uid) for pk, evse in evses])
    db.session.commit()
    return len(applied)


def _location_params(row: LocationRow, now: datetime) -> dict[str, Any]:
    return {
        "country_code": row.country_code,
        "party_id": row.party_id,
        "ocpi_id": row.ocpi_id,
        "created_at": now,
        "owner_id": None,
        "deleted_at": None,
        "description": None,
        "access_instructions": None,
        "instant_book": False,
        "cancellation_policy": "moderate",
        **row.values,
    }


def _put_evses(evses: list[tuple[int, EvseRow]], now: datetime) -> None:
    """Upsert EVSEs (location pk, row) and, of those at least as new, their connectors."""
    if not evses:
        return
    params = [
        {"location_id": pk, "uid": evse.uid, "created_at": now, **evse.values} for pk, evse in evses
    ]
    written = upsert(Evse.__table__, ("location_id", "uid"), EVSE_COLUMNS, params)
    by_key = {(pk, evse.uid): evse for pk, evse in evses}
    _put_connectors([(pk, by_key[(location, uid)]) for pk, location, uid in written], now)


def _remove_unlisted(locations: list[int], listed: list[tuple[int, str]]) -> None:
    """EVSEs of these whole Locations that were not written: REMOVED, as of their Location."""
    if not locations:
        return
    existing = select(Evse.id, Evse.location_id, Evse.uid).where(
        one_of(Evse.location_id, locations), Evse.status != EvseStatus.REMOVED.value
    )
    keep = set(listed)
    stale = [
        pk for pk, location, uid in db.session.execute(existing) if (location, uid) not in keep
    ]
    if not stale:
        return
    stamp = select(Location.last_updated).where(Location.id == Evse.location_id)
    db.session.execute(
        update(Evse)
        .where(one_of(Evse.id, stale))
        .values(status=EvseStatus.REMOVED.value, last_updated=stamp.scalar_subquery())
    )


def _put_connectors(evses: list[tuple[int, EvseRow]], now: datetime) -> None:
    """Upsert the EVSEs' connectors and delete the ones they no longer list."""
    if not evses:
        return
    params = [
        {"evse_pk": pk, "created_at": now, **connector}
        for pk, evse in evses
        for connector in evse.connectors
    ]
    upsert(Connector.__table__, ("evse_pk", "ocpi_id"), CONNECTOR_COLUMNS, params)
    listed = {(pk, connector["ocpi_id"]) for pk, evse in evses for connector in evse.connectors}
    existing = select(Connector.id, Connector.evse_pk, Connector.ocpi_id).where(
        one_of(Connector.evse_pk, [pk for pk, _ in evses])
    )
    gone = [
        pk for pk, evse, ocpi_id in db.session.execute(existing) if (evse, ocpi_id) not in listed
    ]
    if gone:
        db.session.execute(delete(Connector).where(one_of(Connector.id, gone)))


def partner_location(country_code: str, party_id: str, ocpi_id: str) -> Location | None:
    """A partner's Location row by its OCPI key (any state), or None."""
    query = select(Location).where(
        Location.country_code == country_code,
        Location.party_id == party_id,
        Location.ocpi_id == ocpi_id,
    )
    return db.session.scalars(query).one_or_none()


def put_evse(location: Location, row: EvseRow) -> bool:
    """Write one whole EVSE (PUT) of a partner Location; False when older than stored."""
    existing = _evse_of(location, row.uid)
    if existing is not None and existing.last_updated > row.values["last_updated"]:
        return False
    _put_evses([(location.id, row)], utcnow())
    _touch_location(location, row.values["last_updated"])
    db.session.commit()
    return True


def put_connector(location: Location, evse: Evse, values: dict[str, Any]) -> bool:
    """Write one whole Connector (PUT); False when older than stored."""
    existing = next((c for c in evse.connectors if c.ocpi_id == values["ocpi_id"]), None)
    if existing is not None and existing.last_updated > values["last_updated"]:
        return False
    params = {"evse_pk": evse.id, "created_at": utcnow(), **values}
    upsert(Connector.__table__, ("evse_pk", "ocpi_id"), CONNECTOR_COLUMNS, [params])
    _touch_evse(evse, values["last_updated"])
    _touch_location(location, values["last_updated"])
    db.session.commit()
    return True


def patch_object(target: Location | Evse | Connector, changes: dict[str, Any]) -> bool:
    """Apply a partial update (PATCH) to a partner object; False when older than stored.

    The Location (and EVSE) that contain the object take its last_updated too, as OCPI asks.
    """
    stamp = changes["last_updated"]
    if target.last_updated > stamp:
        return False
    values = {k: v for k, v in changes.items() if k in target.__table__.c}
    model = type(target)
    db.session.execute(update(model).where(model.id == target.id).values(**values))
    if isinstance(target, Connector):
        _touch_evse(target.evse, stamp)
        _touch_location(target.evse.location, stamp)
    elif isinstance(target, Evse):
        _touch_location(target.location, stamp)
    db.session.commit()
    return True


def patch_evse(
    key: tuple[str, str, str], uid: str, changes: dict[str, Any], connectors: list[dict] | None
) -> bool | None:
    """PATCH one EVSE of the Location key (cc, party, id): the hot path of status pushes.

    Guarded by last_updated; the Location's last_updated moves with it; a connectors list
    replaces the EVSE's. Returns True (applied), False (older than stored, ignored) or None
    (no such EVSE).
    """
    stamp = changes["last_updated"]
    location_pk = (
        select(Location.id)
        .where(
            Location.country_code == key[0], Location.party_id == key[1], Location.ocpi_id == key[2]
        )
        .scalar_subquery()
    )
    values = {k: v for k, v in changes.items() if k in EVSE_COLUMNS}
    patched = (
        update(Evse)
        .where(Evse.location_id == location_pk, Evse.uid == uid, Evse.last_updated <= stamp)
        .values(**values)
        .returning(Evse.id, Evse.location_id)
    )
    written = _patch_with_location(patched, stamp)
    if written is None:
        exists = select(Evse.id).where(Evse.location_id == location_pk, Evse.uid == uid)
        return False if db.session.execute(exists).first() is not None else None
    if connectors is not None:
        _put_connectors([(written.id, EvseRow(uid, {}, connectors))], utcnow())
    db.session.commit()
    return True


def _patch_with_location(patched: Any, stamp: datetime) -> Any:
    """Run the EVSE update and move its Location's last_updated: one round trip on PostgreSQL.

    A status push is news of the moment, superseded by the next one, and a partner resyncs by
    GET: its transaction commits without waiting for the WAL flush (synchronous_commit off for
    this transaction only). A database crash may lose the last instant's statuses; it can
    never corrupt or half-apply them.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        written = db.session.execute(patched).first()
        if written is not None:
            _touch_location_pk(written.location_id, stamp)
        return written
    evse = patched.cte("patched")
    touched = (
        update(Location)
        .where(Location.id == evse.c.location_id, Location.last_updated < stamp)
        .values(last_updated=stamp)
        .returning(Location.id)
        .cte("touched")
    )
    quick = select(func.set_config("synchronous_commit", "off", True).label("setting")).cte("quick")
    statement = select(evse.c.id, evse.c.location_id).add_cte(touched).join(quick, true())
    return db.session.execute(statement).first()


def _touch_location_pk(location_pk: int, stamp: datetime) -> None:
    db.session.execute(
        update(Location)
        .where(Location.id == location_pk, Location.last_updated < stamp)
        .values(last_updated=stamp)
    )


def _touch_evse(evse: Evse, stamp: datetime) -> None:
    db.session.execute(
        update(Evse).where(Evse.id == evse.id, Evse.last_updated < stamp).values(last_updated=stamp)
    )


def _touch_location(location: Location, stamp: datetime) -> None:
    db.session.execute(
        update(Location)
        .where(Location.id == location.id, Location.last_updated < stamp)
        .values(last_updated=stamp)
    )


def _evse_of(location: Location, uid: str) -> Evse | None:
    return next((evse for evse in location.evses if evse.uid == uid), None)
