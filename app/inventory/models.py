"""The one inventory: OCPI-shaped Parties, Locations, EVSEs, Connectors, schedules, stations."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, JSONType, Timestamped, UTCDateTime
from app.core.spatial import point_type


class Party(Timestamped, Base):
    """An OCPI party: PlugPool itself or a roaming partner's CPO / eMSP."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_own: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (UniqueConstraint("country_code", "party_id"),)


class Location(Timestamped, Base):
    """An OCPI Location; for own listings also the owner's listing."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    ocpi_id: Mapped[str] = mapped_column(String(36))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    publish: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(255))
    city: Mapped[str] = mapped_column(String(45))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(3))
    latitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    geog: Mapped[Any] = mapped_column(point_type())
    time_zone: Mapped[str] = mapped_column(String(64))
    parking_type: Mapped[str | None] = mapped_column(String(32))
    facilities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    directions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    opening_times: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    charging_when_closed: Mapped[bool] = mapped_column(Boolean, default=True)
    access_instructions: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Marketplace listing terms (bookings): instant book or owner approval, cancellation tier.
    instant_book: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    cancellation_policy: Mapped[str] = mapped_column(
        String(16), default="moderate", server_default="moderate"
    )

    evses: Mapped[list[Evse]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="Evse.id"
    )
    availability: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="AvailabilityWindow.id"
    )
    blackouts: Mapped[list[Blackout]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="Blackout.id"
    )
    stations: Mapped[list[ChargeStation]] = relationship(back_populates="location")

    __table_args__ = (
        UniqueConstraint("country_code", "party_id", "ocpi_id"),
        ForeignKeyConstraint(
            ["country_code", "party_id"], ["parties.country_code", "parties.party_id"]
        ),
        Index("ix_locations_geog", "geog", postgresql_using="gist").ddl_if(dialect="postgresql"),
        # Keyset pagination for OCPI pulls: (last_updated, id) per party.
        Index("ix_locations_party_updated", "country_code", "party_id", "last_updated", "id"),
    )


class Evse(Timestamped, Base):
    """An OCPI EVSE: one vehicle can charge at a time."""

    __tablename__ = "evses"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(36))
    evse_id: Mapped[str | None] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16), default="UNKNOWN")
    capabilities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    floor_level: Mapped[str | None] = mapped_column(String(4))
    physical_reference: Mapped[str | None] = mapped_column(String(16))
    parking_restrictions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("charge_stations.id", ondelete="SET NULL"), index=True
    )
    # The EVSE's number on its station: OCPP 2.0.1 evseId, or the 1.6 connectorId.
    ocpp_evse_id: Mapped[int | None] = mapped_column(SmallInteger)

    location: Mapped[Location] = relationship(back_populates="evses")
    connectors: Mapped[list[Connector]] = relationship(
        back_populates="evse", cascade="all, delete-orphan", order_by="Connector.id"
    )
    station: Mapped[ChargeStation | None] = relationship(back_populates="evses")

    __table_args__ = (
        UniqueConstraint("location_id", "uid"),
        UniqueConstraint("station_id", "ocpp_evse_id"),
        # Hubject's EvseIDs (their compact form is the uid) are looked up across locations.
        Index("ix_evses_uid", "uid"),
    )


class Connector(Timestamped, Base):
    """An OCPI Connector of an EVSE."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    evse_pk: Mapped[int] = mapped_column(ForeignKey("evses.id", ondelete="CASCADE"), index=True)
    ocpi_id: Mapped[str] = mapped_column(String(36))
    standard: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    power_type: Mapped[str] = mapped_column(String(20))
    max_voltage: Mapped[int] = mapped_column(Integer)
    max_amperage: Mapped[int] = mapped_column(Integer)
    max_electric_power: Mapped[int | None] = mapped_column(Integer)
    tariff_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    terms_and_conditions: Mapped[str | None] = mapped_column(String(255))

    evse: Mapped[Evse] = relationship(back_populates="connectors")

    __table_args__ = (UniqueConstraint("evse_pk", "ocpi_id"),)

    @property
    def power_kw(self) -> Decimal:
        """Maximum power in kW, from max_electric_power or volts x amps x phases."""
        if self.max_electric_power:
            return Decimal(self.max_electric_power) / 1000
        phases = 3 if self.power_type == "AC_3_PHASE" else 1
        return Decimal(self.max_voltage * self.max_amperage * phases) / 1000


class AvailabilityWindow(Base):
    """A weekly window in which the owner shares the charger, in the location's time zone."""

    __tablename__ = "availability_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger)  # ISO: 1 = Monday ... 7 = Sunday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)  # 00:00 as end means midnight at the day's end

    location: Mapped[Location] = relationship(back_populates="availability")


class Blackout(Base):
    """Dates on which the owner does not share the charger (inclusive, local dates)."""

    __tablename__ = "blackouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(255))

    location: Mapped[Location] = relationship(back_populates="blackouts")


class ChargeStation(Timestamped, Base):
    """A charger's OCPP identity; its password is stored only as a hash."""

    __tablename__ = "charge_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(48), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_missing_subprotocol: Mapped[bool] = mapped_column(Boolean, default=False)
    protocol: Mapped[str | None] = mapped_column(String(16))
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    violation_count: Mapped[int] = mapped_column(Integer, default=0)
    # Last BootNotification answered Accepted: such a station is served on reconnect
    # without booting again (OCPP 1.6 section 4.2; chargers boot only when they boot).
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    firmware_status: Mapped[str | None] = mapped_column(String(32))
    firmware_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    log_status: Mapped[str | None] = mapped_column(String(32))  # 1.6 diagnostics, 2.0.1 logs
    log_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped[Location | None] = relationship(back_populates="stations")
    evses: Mapped[list[Evse]] = relationship(back_populates="station")


@event.listens_for(Session, "before_flush")
def _touch_last_updated(session: Session, _context: Any, _instances: Any) -> None:
    """OCPI: a change to an EVSE or Connector moves its Location's last_updated too.

    Also covers changes that touch only a collection (a connector removed, windows replaced),
    which update no column of the parent and so never fire its onupdate. Bulk UPDATE
    statements bypass the session: their authors must set last_updated themselves.
    """
    now = utcnow()
    with session.no_autoflush:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            stamp = _explicit_last_updated(obj) or now
            for touched in _ocpi_chain(obj):
                if touched is None or touched in session.deleted:
                    continue
                # A last_updated the caller set itself is kept (OCPI pushes and tests set one
                # instant on EVSE and Location together); the rest of the chain gets it too.
                if _explicit_last_updated(touched) is None:
                    touched.last_updated = stamp


def _explicit_last_updated(obj: Any) -> datetime | None:
    """Return a last_updated set on the object since it was loaded, if any."""
    state = inspect(obj, raiseerr=False)
    if state is None or "last_updated" not in state.mapper.attrs:
        return None
    added = state.attrs.last_updated.history.added
    return added[0] if added and added[0] is not None else None


def _ocpi_chain(obj: object) -> tuple[Any, ...]:
    """The object (when it carries last_updated) and the OCPI objects that contain it."""
    if isinstance(obj, Connector):
        evse = obj.evse
        return (obj, evse, evse.location if evse is not None else None)
    if isinstance(obj, Evse):
        return (obj, obj.location)
    if isinstance(obj, AvailabilityWindow | Blackout):
        return (obj.location,)
    if isinstance(obj, Location):
        return (obj,)
    return ()
