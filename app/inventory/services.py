"""Owner listing use cases: each is one transaction that also writes its outbox event."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Role, User
from app.core import outbox
from app.core.clock import utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.security import hash_secret, new_password
from app.core.spatial import point_value
from app.extensions import db
from app.inventory import photos, queries
from app.inventory.enums import EvseStatus
from app.inventory.errors import EvsesTaken, ListingNotFound, ListingRemoved, NotYourListing
from app.inventory.events import EVSE_STATUS_CHANGED, LOCATION_CHANGED, TARIFF_CHANGED
from app.inventory.models import (
    AvailabilityWindow,
    Blackout,
    ChargeStation,
    Connector,
    Evse,
    Location,
    Party,
)
from app.inventory.schemas import ListingInSchema
from app.tariffs.models import Tariff
from app.tariffs.services import put_owner_tariff
from app.tariffs.simple_price import FIELDS as PRICE_FIELDS
from app.tariffs.simple_price import price_from_elements

LOCATION_FIELDS = (
    "name", "address", "city", "postal_code", "state", "country", "time_zone",
    "parking_type", "access_instructions", "description", "images",
    "instant_book", "cancellation_policy",
)  # fmt: skip
CONNECTOR_FIELDS = (
    "standard", "format", "power_type", "max_voltage", "max_amperage", "max_electric_power",
)  # fmt: skip
EVSE_FIELDS = ("capabilities", "physical_reference", "floor_level")
_STATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class NewStation:
    """A charge station just created: the plain OCPP password exists only here, once."""

    station: ChargeStation
    password: str
    retired: list[str] = field(default_factory=list)  # stations left without EVSEs (moved)


@dataclass(frozen=True)
class NewListing:
    """A listing just created, with its station's one-time password."""

    location: Location
    station: NewStation


def parse_listing(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a listing given outside HTTP (CLI, demo data) exactly as the API does."""
    try:
        return dict(ListingInSchema().load(raw))
    except ValidationError as error:
        raise ValidationFailed(error.normalized_messages()) from error


def ensure_own_party() -> Party:
    """Return PlugPool's own OCPI party, creating it in the caller's transaction if missing."""
    config = current_app.config
    party = queries.own_party(config["OWN_COUNTRY_CODE"], config["OWN_PARTY_ID"])
    if party is None:
        party = Party(
            country_code=config["OWN_COUNTRY_CODE"],
            party_id=config["OWN_PARTY_ID"],
            name=config["OWN_PARTY_NAME"],
            roles=["CPO", "EMSP"],
            is_own=True,
        )
        db.session.add(party)
        db.session.flush()
    return party


def create_listing(
    owner: User, data: dict[str, Any], password: str | None = None, station_id: str | None = None
) -> NewListing:
    """Create a location with its EVSEs, price, schedule and charge station identity."""
    if not owner.has_role(Role.OWNER):
        raise NotYourListing("Only owners can list chargers")
    with _one_transaction():
        party = ensure_own_party()
        tariff = put_owner_tariff(party.country_code, party.party_id, data["price"])
        location = Location(
            country_code=party.country_code,
            party_id=party.party_id,
            ocpi_id=str(uuid.uuid4()),
            owner_id=owner.id,
            publish=data.get("publish", False),
        )
        if location.publish:
            _require_payouts(owner.id, data["price"])
        _apply_location_fields(location, data)
        new_station = _new_station(location, password, station_id)
        for number, evse_data in enumerate(data["evses"], start=1):
            location.evses.append(
                _new_evse(location, new_station.station, number, evse_data, tariff)
            )
        _apply_schedule(location, data)
        db.session.add(location)
        db.session.flush()
        _emit_location(location, "created")
        _emit_tariff(tariff, "created")
    return NewListing(location=location, station=new_station)


def get_listing(user: User, listing_id: int) -> Location:
    """Return a live listing the user may see (owner or admin)."""
    location = _owned(user, listing_id)
    if location.deleted_at is not None:
        raise ListingNotFound(f"Listing {listing_id} was removed")
    return location


def list_listings(user: User) -> list[Location]:
    """Return the user's live listings; an admin sees every owner's."""
    return queries.listings_of(None if user.role == Role.ADMIN else user)


def update_listing(user: User, listing_id: int, changes: dict[str, Any]) -> Location:
    """Change a listing's fields; a list given (evses, availability, blackouts) replaces the old."""
    location = get_listing(user, listing_id)
    if not changes:
        return location
    with _one_transaction():
        _apply_location_fields(location, changes)
        _apply_schedule(location, changes)
        if "evses" in changes:
            _replace_evses(location, changes["evses"])
        if "price" in changes:
            _emit_tariff(_update_price(location, changes["price"]))
        location.last_updated = utcnow()
        db.session.flush()
        _emit_location(location, "updated")
    return location


def set_published(user: User, listing_id: int, publish: bool) -> Location:
    """Publish a listing to drivers and partners, or take it off."""
    location = get_listing(user, listing_id)
    if publish and not location.publish:
        tariff = queries.listing_tariff(location)
        if tariff is not None:
            _require_payouts(
                location.owner_id, price_from_elements(tariff.currency, tariff.elements)
            )
    with _one_transaction():
        if location.publish != publish:
            location.publish = publish
            db.session.flush()
            _emit_location(location, "published" if publish else "unpublished")
    return location


def add_photo(user: User, listing_id: int, data: bytes, url_for_name: Any) -> Location:
    """Store a checked, resized photo and add it to the listing's OCPI images."""
    location = get_listing(user, listing_id)
    if len(location.images or []) >= photos.MAX_PHOTOS:
        raise ValidationFailed({"photo": [f"A listing has at most {photos.MAX_PHOTOS} photos."]})
    stored = photos.store_photo(data)
    image = {
        "url": url_for_name(f"{stored.name}.jpg"),
        "thumbnail": url_for_name(f"{stored.name}-thumb.jpg"),
        "category": "LOCATION",
        "type": "jpeg",
        "width": stored.width,
        "height": stored.height,
    }
    with _one_transaction():
        location.images = [*(location.images or []), image]
        location.last_updated = utcnow()
        db.session.flush()
        _emit_location(location, "updated")
    return location


def _require_payouts(owner_id: int, price: dict[str, Any]) -> None:
    """A paid listing goes live only when its owner's payout account can be paid."""
    if not any(price.get(field) for field in PRICE_FIELDS):
        return  # free charging needs no payout account
    from app.payments import queries as payment_queries  # payments builds on inventory

    account = payment_queries.owner_account(owner_id)
    if account is None or not account.payable:
        raise Conflict(
            "Set up payouts before publishing a charger with a price: "
            "drivers pay through PlugPool and you are paid to your payout account.",
            reason="payouts_not_ready",
        )


def remove_listing(user: User, listing_id: int) -> None:
    """Soft-delete: keep the rows for history, mark EVSEs REMOVED, stop the station."""
    location = get_listing(user, listing_id)
    with _one_transaction():
        location.deleted_at = utcnow()
        location.publish = False
        for evse in location.evses:
            evse.status = EvseStatus.REMOVED.value
        for station in location.stations:
            station.approved = False
        tariff = queries.listing_tariff(location)
        if tariff is not None:
            tariff.deleted_at = location.deleted_at
            _emit_tariff(tariff, "removed")
        db.session.flush()
        _emit_location(location, "removed")


def create_station(
    location_id: int, password: str | None = None, *, move_evses: bool = False
) -> NewStation:
    """Give a location a new OCPP identity linked to its EVSEs without a station.

    When every EVSE already has a station it is refused (a station without EVSEs bills
    its sessions at zero), unless `move_evses`: then the EVSEs move to the new station and
    a station left without any is no longer approved (it cannot charge unbilled).
    """
    location = queries.listing(location_id)
    if location is None:
        raise ListingNotFound(f"No listing {location_id}")
    if location.deleted_at is not None:
        raise ListingRemoved(f"Listing {location_id} was removed")
    live = [e for e in location.evses if e.status != EvseStatus.REMOVED]
    free = [e for e in live if e.station is None]
    if not live:
        raise EvsesTaken(f"Listing {location_id} has no EVSE to link a station to")
    if not free and not move_evses:
        owners = sorted({e.station.station_id for e in live if e.station is not None})
        raise EvsesTaken(
            f"Every EVSE of listing {location_id} already has a station ({', '.join(owners)}); "
            "pass --move-evses to move them to a new station"
        )
    with _one_transaction():
        new_station = _new_station(location, password)
        moved = live if move_evses else free
        previous = {e.station for e in moved if e.station is not None}
        for evse in moved:
            evse.station = None
            evse.ocpp_evse_id = None
        db.session.flush()  # frees (station, ocpp_evse_id) before renumbering
        for number, evse in enumerate(moved, start=1):
            evse.station = new_station.station
            evse.ocpp_evse_id = number
        for station in previous:
            if not station.evses:
                station.approved = False
                new_station.retired.append(station.station_id)
        db.session.flush()
        _emit_location(location, "station_created")
    return new_station


def set_evse_status(evse: Evse, status: str) -> Evse:
    """Record an EVSE's new status (from OCPP); an unchanged status is not news."""
    if status not in EvseStatus.__members__:
        raise ValidationFailed({"status": [f"unknown EVSE status {status!r}"]})
    if evse.status == status:
        return evse
    with _one_transaction():
        now = utcnow()
        evse.status = status
        evse.last_updated = now
        # An OCPI Location's last_updated covers its EVSEs: pulls with date_from must see it.
        evse.location.last_updated = now
        db.session.flush()
        _emit_evse_status(evse)
    return evse


def _owned(user: User, listing_id: int) -> Location:
    location = queries.listing(listing_id)
    if location is None:
        raise ListingNotFound(f"No listing {listing_id}")
    if user.role != Role.ADMIN and location.owner_id != user.id:
        raise NotYourListing(f"Listing {listing_id} belongs to another owner")
    return location


def _apply_location_fields(location: Location, data: dict[str, Any]) -> None:
    for name in LOCATION_FIELDS:
        if name in data:
            setattr(location, name, data[name])
    if "latitude" in data or "longitude" in data:
        location.latitude = data.get("latitude", location.latitude)
        location.longitude = data.get("longitude", location.longitude)
        location.geog = point_value(location.latitude, location.longitude)


def _apply_schedule(location: Location, data: dict[str, Any]) -> None:
    if "availability" in data:
        location.availability = [
            AvailabilityWindow(weekday=w["weekday"], start_time=w["start"], end_time=w["end"])
            for w in data["availability"]
        ]
    if "blackouts" in data:
        location.blackouts = [Blackout(**blackout) for blackout in data["blackouts"]]


def _new_station(
    location: Location, password: str | None, station_id: str | None = None
) -> NewStation:
    plain = password or new_password()
    station = ChargeStation(
        station_id=station_id or _free_station_id(),
        password_hash=hash_secret(plain),
        location=location,
    )
    db.session.add(station)
    return NewStation(station=station, password=plain)


def _free_station_id() -> str:
    while True:
        candidate = "PP-" + "".join(secrets.choice(_STATION_ALPHABET) for _ in range(8))
        if queries.station_by_station_id(candidate) is None:
            return candidate


def _new_evse(
    location: Location, station: ChargeStation, number: int, data: dict[str, Any], tariff: Tariff
) -> Evse:
    code = station.station_id.removeprefix("PP-")
    evse = Evse(
        uid=str(uuid.uuid4()),
        evse_id=f"{location.country_code}*{location.party_id}*E{code}*{number}",
        status=EvseStatus.AVAILABLE.value,
        station=station,
        ocpp_evse_id=number,
    )
    _apply_evse(evse, data, [tariff.ocpi_id])
    return evse


def _apply_evse(evse: Evse, data: dict[str, Any], tariff_ids: list[str]) -> None:
    for name in EVSE_FIELDS:
        if name in data:
            setattr(evse, name, data[name])
    old = list(evse.connectors)
    for index, connector_data in enumerate(data["connectors"]):
        connector = old[index] if index < len(old) else Connector(ocpi_id=str(index + 1))
        for name in CONNECTOR_FIELDS:
            setattr(connector, name, connector_data.get(name))
        connector.tariff_ids = list(tariff_ids)
        if index >= len(old):
            evse.connectors.append(connector)
    for connector in old[len(data["connectors"]) :]:
        evse.connectors.remove(connector)


def _replace_evses(location: Location, evses: list[dict[str, Any]]) -> None:
    """Match EVSEs by position; extra old ones become REMOVED (OCPI keeps EVSEs), new ones join."""
    live = [evse for evse in location.evses if evse.status != EvseStatus.REMOVED]
    tariff = queries.listing_tariff(location)
    tariff_ids = [tariff.ocpi_id] if tariff else []
    for index, data in enumerate(evses):
        if index < len(live):
            _apply_evse(live[index], data, tariff_ids)
        else:
            location.evses.append(_added_evse(location, data, tariff))
    for evse in live[len(evses) :]:
        evse.status = EvseStatus.REMOVED.value


def _added_evse(location: Location, data: dict[str, Any], tariff: Tariff | None) -> Evse:
    station = next((s for s in location.stations if s.approved), None)
    if station is None or tariff is None:
        raise Conflict("This listing has no active station or tariff to attach an EVSE to")
    numbers = [e.ocpp_evse_id or 0 for e in location.evses if e.station is station]
    return _new_evse(location, station, max(numbers, default=0) + 1, data, tariff)


def _update_price(location: Location, price: dict[str, Any]) -> Tariff:
    tariff = put_owner_tariff(
        location.country_code, location.party_id, price, queries.listing_tariff(location)
    )
    db.session.flush()
    for evse in location.evses:
        for connector in evse.connectors:
            if connector.tariff_ids != [tariff.ocpi_id]:
                connector.tariff_ids = [tariff.ocpi_id]
    return tariff


def _emit_location(location: Location, change: str) -> None:
    outbox.emit(
        db.session,
        LOCATION_CHANGED,
        "location",
        location.ocpi_id,
        {
            "country_code": location.country_code,
            "party_id": location.party_id,
            "location_id": location.ocpi_id,
            "pk": location.id,
            "change": change,
            "publish": location.publish,
        },
    )


def _emit_evse_status(evse: Evse) -> None:
    location = evse.location
    outbox.emit(
        db.session,
        EVSE_STATUS_CHANGED,
        "evse",
        evse.uid,
        {
            "country_code": location.country_code,
            "party_id": location.party_id,
            "location_id": location.ocpi_id,
            "pk": location.id,
            "evse_uid": evse.uid,
            "status": evse.status,
        },
    )


def _emit_tariff(tariff: Tariff, change: str = "updated") -> None:
    outbox.emit(
        db.session,
        TARIFF_CHANGED,
        "tariff",
        tariff.ocpi_id,
        {
            "country_code": tariff.country_code,
            "party_id": tariff.party_id,
            "tariff_id": tariff.ocpi_id,
            "change": change,
        },
    )


@contextmanager
def _one_transaction() -> Iterator[None]:
    """Commit everything the block did, or nothing: any error rolls the whole change back."""
    try:
        yield
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict("The change conflicts with existing data") from error
    except BaseException:
        db.session.rollback()
        raise
