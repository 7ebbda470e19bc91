"""Hubject bridge state: sessions Hubject knows by its SessionID, operators, pushed EVSEs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.db import Base, JSONType, Timestamped, UTCDateTime


class OicpState(Base):
    """One named watermark of the bridge (fullLoad done, last EVSE data pull, ...)."""

    __tablename__ = "oicp_state"

    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OicpOperator(Base):
    """A Hubject CPO whose EVSEs we pulled: an inventory Party of the Hubject network."""

    __tablename__ = "oicp_operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(16), unique=True)  # normalised, e.g. DE*ABC
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(100))
    network: Mapped[str] = mapped_column(String(32), default="Hubject")


class OicpPushedEvse(Base):
    """An own EVSE record Hubject holds (so a change is an update, a new one an insert)."""

    __tablename__ = "oicp_pushed_evses"

    evse_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    location_pk: Mapped[int | None] = mapped_column(Integer, index=True)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OicpSession(Timestamped, Base):
    """A charging process Hubject knows: at our charger (role CPO) or of our driver (EMP).

    `token_uid` is what the charger presents (the EvcoID of a remote start, the card UID of an
    AuthorizeStart); `charging_session_pk` links the OCPP session once it exists.
    """

    __tablename__ = "oicp_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(3))  # CPO or EMP
    session_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    cpo_partner_session_id: Mapped[str | None] = mapped_column(String(250))
    emp_partner_session_id: Mapped[str | None] = mapped_column(String(250))
    provider_id: Mapped[str | None] = mapped_column(String(8))
    operator_id: Mapped[str | None] = mapped_column(String(16))
    evse_id: Mapped[str] = mapped_column(String(48), index=True)
    evse_pk: Mapped[int | None] = mapped_column(ForeignKey("evses.id", ondelete="SET NULL"))
    token_uid: Mapped[str | None] = mapped_column(String(36), index=True)
    identification: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    kind: Mapped[str] = mapped_column(String(16))  # remote, authorize, reservation
    status: Mapped[str] = mapped_column(String(16))  # pending, started, stopped, ended, failed
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    charging_session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="SET NULL"), index=True
    )
    reservation_number: Mapped[int | None] = mapped_column(Integer)
    # The driver's card hold (app.payments.roaming), by its authorization_reference.
    charge_reference: Mapped[str | None] = mapped_column(String(36))
    notified: Mapped[list[str]] = mapped_column(JSONType, default=list)  # notifications sent
    cdr_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))


class OicpCdr(Timestamped, Base):
    """A ChargeDetailRecord Hubject sent us as EMP (or we fetched), priced and billed once."""

    __tablename__ = "oicp_cdrs"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), unique=True)
    oicp_session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("oicp_sessions.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    evse_id: Mapped[str] = mapped_column(String(48))
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    currency: Mapped[str] = mapped_column(String(3))
    total_cost_minor: Mapped[int] = mapped_column(Integer)
    billing_status: Mapped[str] = mapped_column(String(16))  # due, billed, no_driver
    roaming_charge_pk: Mapped[int | None] = mapped_column(
        ForeignKey("roaming_charges.id", ondelete="SET NULL"), unique=True
    )
