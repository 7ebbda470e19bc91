"""Charging sessions (OCPI Session shape), their meter values, CDRs, and station audit rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.charging.enums import SessionStatus
from app.core.clock import utcnow
from app.core.db import Base, JSONType, Timestamped, UTCDateTime

BIG_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only


class ChargingSession(Timestamped, Base):
    """One charging session at one of our stations, keyed for OCPI by (party, ocpi_id).

    `transaction_id` is the OCPP transaction id: in 1.6 the integer we assign (the row id),
    in 2.0.1 the string the station chose. `start_key` holds the 1.6 StartTransaction natural
    key, so a resent start finds the session it opened.
    """

    __tablename__ = "charging_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    ocpi_id: Mapped[str] = mapped_column(String(36))
    station_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charge_stations.id", ondelete="SET NULL"), index=True
    )
    station_id: Mapped[str] = mapped_column(String(48))
    ocpp_version: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    start_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    location_pk: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="SET NULL"), index=True
    )
    evse_pk: Mapped[int | None] = mapped_column(
        ForeignKey("evses.id", ondelete="SET NULL"), index=True
    )
    connector_pk: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="SET NULL")
    )
    ocpp_evse_id: Mapped[int | None] = mapped_column(Integer)
    ocpp_connector_id: Mapped[int | None] = mapped_column(Integer)
    token_uid: Mapped[str | None] = mapped_column(String(36))
    token_type: Mapped[str | None] = mapped_column(String(16))
    token_country_code: Mapped[str | None] = mapped_column(String(2))
    token_party_id: Mapped[str | None] = mapped_column(String(3))
    contract_id: Mapped[str | None] = mapped_column(String(36))
    auth_method: Mapped[str | None] = mapped_column(String(16))
    auth_status: Mapped[str | None] = mapped_column(String(16))  # what we answered the station
    authorization_reference: Mapped[str | None] = mapped_column(String(36))
    remote_start_id: Mapped[int | None] = mapped_column(Integer)
    start_date_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kwh: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(0))
    meter_start_wh: Mapped[Decimal | None] = mapped_column(Numeric(16, 3))
    meter_stop_wh: Mapped[Decimal | None] = mapped_column(Numeric(16, 3))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    invalid_reason: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    # A PlugPool driver's session at a partner CPO's charger (PlugPool as eMSP).
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    # Cost so far as the partner reports it (incl. VAT), and the Session object as received.
    total_cost_minor: Mapped[int | None] = mapped_column(Integer)
    received: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Set when the meter failed the plausibility check: unbilled, shown to owner and admin.
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        UniqueConstraint("country_code", "party_id", "ocpi_id"),
        UniqueConstraint("station_id", "transaction_id"),
        Index("ix_charging_sessions_party_updated", "country_code", "party_id", "last_updated"),
        # OCPI Sessions/CDRs senders page a partner's sessions by the token's (eMSP) party.
        Index(
            "ix_charging_sessions_token_party_updated",
            "token_country_code",
            "token_party_id",
            "last_updated",
            "id",
        ),
    )

    @property
    def is_open(self) -> bool:
        """Tell whether the session has not ended yet (an INVALID one may still be running)."""
        return self.end_date_time is None


class MeterValue(Base):
    """One sampled value, stored once under its natural key.

    `owner` is "tx:<transaction id>" for samples of a transaction and "connector:<n>"
    otherwise; phase and context are "" when absent so the unique key treats them as values.
    """

    __tablename__ = "meter_values"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    owner: Mapped[str] = mapped_column(String(80))
    session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="CASCADE"), index=True
    )
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    measurand: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(8), default="")
    context: Mapped[str] = mapped_column(String(32), default="")
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    unit: Mapped[str | None] = mapped_column(String(16))
    signed_data: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("station_id", "owner", "timestamp", "measurand", "phase", "context"),
    )


class TransactionEventSeen(Base):
    """A 2.0.1 TransactionEvent applied once; keeps the answer for a resend."""

    __tablename__ = "transaction_events_seen"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    transaction_id: Mapped[str] = mapped_column(String(64))
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(16))
    auth_status: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("station_id", "transaction_id", "seq_no"),)


class Cdr(Timestamped, Base):
    """An OCPI CDR of a finished session, priced by the tariff engine; never changed after."""

    __tablename__ = "cdrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    ocpi_id: Mapped[str] = mapped_column(String(39))
    # None only for a partner's CDR whose session we never heard of (flagged, kept).
    session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="RESTRICT"), unique=True
    )
    session_id: Mapped[str | None] = mapped_column(String(36))  # the Session's OCPI id
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="SET NULL"), index=True
    )
    start_date_time: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date_time: Mapped[datetime] = mapped_column(UTCDateTime)
    cdr_token: Mapped[dict[str, Any]] = mapped_column(JSONType)
    auth_method: Mapped[str] = mapped_column(String(16))
    authorization_reference: Mapped[str | None] = mapped_column(String(36))
    cdr_location: Mapped[dict[str, Any]] = mapped_column(JSONType)
    currency: Mapped[str] = mapped_column(String(3))
    tariffs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    charging_periods: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    signed_data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    total_cost_excl: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    total_cost_incl: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    total_cost_minor: Mapped[int] = mapped_column(Integer)  # incl. taxes: what is charged
    total_cost_excl_minor: Mapped[int] = mapped_column(Integer)
    cost_breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    total_energy: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    total_time: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    total_parking_time: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    # Partner CDRs (PlugPool as eMSP): who sent it, whose charge it is, and what we found.
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    audit_total_minor: Mapped[int | None] = mapped_column(Integer)  # our engine's price
    flags: Mapped[list[str]] = mapped_column(JSONType, default=list)

    __table_args__ = (
        UniqueConstraint("country_code", "party_id", "ocpi_id"),
        Index("ix_cdrs_party_updated", "country_code", "party_id", "last_updated"),
    )


class ImmutableCdr(Exception):
    """Raised when code tries to change a CDR after it was created."""


@event.listens_for(Cdr, "before_update")
def _refuse_cdr_update(_mapper: Any, _connection: Any, target: Cdr) -> None:
    """CDRs are final: corrections are new CDRs (credit CDRs), never edits."""
    raise ImmutableCdr(f"CDR {target.ocpi_id} is immutable")


class EvseStatusReport(Base):
    """The newest OCPP status report of an EVSE, so an older resend cannot win."""

    __tablename__ = "evse_status_reports"

    evse_pk: Mapped[int] = mapped_column(
        ForeignKey("evses.id", ondelete="CASCADE"), primary_key=True
    )
    ocpp_status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StationSecurityEvent(Base):
    """A SecurityEventNotification kept for the audit trail."""

    __tablename__ = "station_security_events"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    type: Mapped[str] = mapped_column(String(50))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    tech_info: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StationEvent(Base):
    """What a station reported about itself: NotifyEvent data, charging limits (2.0.1).

    `event_id` is the station's eventId (NotifyEvent), so a resent event is stored once.
    """

    __tablename__ = "station_events"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # NotifyEvent, NotifyChargingLimit, ...
    event_id: Mapped[int | None] = mapped_column(Integer)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[str | None] = mapped_column(String(16))
    component: Mapped[str | None] = mapped_column(String(50))
    variable: Mapped[str | None] = mapped_column(String(50))
    actual_value: Mapped[str | None] = mapped_column(String(2500))
    cleared: Mapped[bool | None] = mapped_column(Boolean)
    tech_info: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DriverToken(Base):
    """Links a PlugPool driver to the own-party OCPI Token the chargers see as idTag."""

    __tablename__ = "driver_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    label: Mapped[str | None] = mapped_column(String(40))  # the driver's name for an RFID card
    # A removed card stays (its sessions and partners' copies refer to it) with valid false.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BookingDispatch(Timestamped, Base):
    """What charging did when a booking started: reservation, offline flag, remote start."""

    __tablename__ = "booking_dispatches"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    station_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    reservation_status: Mapped[str | None] = mapped_column(String(24))
    remote_start_status: Mapped[str | None] = mapped_column(String(24))
    remote_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notice(Base):
    """A message for a driver or an owner (shown in the app and the portal)."""

    __tablename__ = "charging_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    booking_id: Mapped[int | None] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
