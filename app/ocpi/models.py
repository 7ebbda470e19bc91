"""OCPI partners (platforms), the parties they hold, their endpoints, and their drivers' tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.db import Base, JSONType, Timestamped, UTCDateTime
from app.ocpi.hubparty.models import HubSettings

HUB_ROLE = "HUB"


class PartnerStatus(StrEnum):
    PENDING = "PENDING"  # TOKEN_A issued (or we are connecting), no credentials exchanged yet
    REGISTERED = "REGISTERED"
    UNREGISTERED = "UNREGISTERED"


class OcpiPartner(Timestamped, Base):
    """A connected OCPI platform; the credentials exchange is per platform, not per party.

    Tokens: the ones partners present to us (TOKEN_A, and TOKEN_C we issued) are stored only as
    SHA-256 digests, enough to recognise them. The token the partner issued to us must be sent
    back on every call, so it is kept as given (`token_out`): a database reader can impersonate
    PlugPool towards that partner until the next rotation (PUT credentials), which is the
    accepted trade-off without a key-management service; it is never logged or serialised.
    """

    __tablename__ = "ocpi_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PartnerStatus.PENDING.value)
    token_a_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_in_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_out: Mapped[str | None] = mapped_column(Text)
    versions_url: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(8))
    # Peers on pre-2.2 habits send and expect the token unencoded.
    raw_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    # A party (platform) connected to PlugPool's hub, not a direct roaming partner.
    hub_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[PartnerRole]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerRole.id"
    )
    endpoints: Mapped[list[PartnerEndpoint]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerEndpoint.id"
    )
    # A hub's operator settings, checked on each of its requests: loaded with the partner when
    # its token is looked up (read-only here; written by hubparty.services.set_hub_settings).
    hub_settings: Mapped[HubSettings | None] = relationship(viewonly=True)

    def __repr__(self) -> str:  # never show tokens
        return f"<OcpiPartner {self.id} {self.name!r} {self.status}>"

    def holds(self, country_code: str, party_id: str, roles: frozenset[str] | None = None) -> bool:
        """True when the partner registered this party (optionally in one of these roles).

        A hub relays for the parties behind it: it holds those its hubclientinfo reports
        CONNECTED (all, until the list is known) and PlugPool's per-hub rules do not refuse.
        """
        if self.is_hub:
            from app.ocpi.hubparty.services import accepts

            return accepts(self, country_code, party_id, roles)
        return any(
            role.country_code == country_code.upper()
            and role.party_id == party_id.upper()
            and (roles is None or role.role in roles)
            for role in self.roles
        )

    @property
    def is_hub(self) -> bool:
        """True when the partner is a hub (2.2.1 role HUB, or a 2.3.0 hub_party_id)."""
        return any(r.role == HUB_ROLE for r in self.roles)

    def party(self, role: str) -> tuple[str, str] | None:
        """(country_code, party_id) of the partner's first party in a role, for OCPI-to headers.

        A hub without a party in that role is addressed itself: a broadcast push.
        """
        held = next((r for r in self.roles if r.role == role), None)
        held = held or next((r for r in self.roles if r.role == HUB_ROLE), None)
        return (held.country_code, held.party_id) if held else None

    def endpoint(self, identifier: str, role: str) -> str | None:
        """The partner's URL for a module interface in the negotiated version."""
        for endpoint in self.endpoints:
            if (
                endpoint.version == self.version
                and endpoint.identifier == identifier
                and endpoint.role == role
            ):
                return endpoint.url
        return None


class PartnerRole(Base):
    """One CredentialsRole of a partner: a party (country_code, party_id) in a role."""

    __tablename__ = "ocpi_partner_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(8))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    business_details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    partner: Mapped[OcpiPartner] = relationship(back_populates="roles")

    __table_args__ = (UniqueConstraint("country_code", "party_id", "role"),)


class PartnerEndpoint(Base):
    """A module interface URL a partner published for one OCPI version."""

    __tablename__ = "ocpi_partner_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(8))
    identifier: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(255))

    partner: Mapped[OcpiPartner] = relationship(back_populates="endpoints")

    __table_args__ = (UniqueConstraint("partner_id", "version", "identifier", "role"),)


class Token(Base):
    """A partner eMSP's driver token, as pushed to us (OCPI Token, keyed by party, uid, type)."""

    __tablename__ = "ocpi_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The eMSP owns the token and its last_updated: stored as pushed, never moved by us.
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    # The OCPP gateway authorises by uid alone.
    uid: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(String(36))
    visual_number: Mapped[str | None] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(36))
    valid: Mapped[bool] = mapped_column(Boolean)
    whitelist: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(2))
    default_profile_type: Mapped[str | None] = mapped_column(String(16))
    energy_contract: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (UniqueConstraint("country_code", "party_id", "uid", "type"),)


class OcpiCommand(Timestamped, Base):
    """A command a partner eMSP sent us; its CommandResult goes to response_url when known."""

    __tablename__ = "ocpi_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    command: Mapped[str] = mapped_column(String(24))
    response_url: Mapped[str] = mapped_column(String(255))
    request: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    response: Mapped[str] = mapped_column(String(16))  # CommandResponseType we answered
    result: Mapped[str | None] = mapped_column(String(24))  # CommandResultType sent later
    result_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Through a hub: why the CommandResult is held ("held: ..." while the eMSP party is OFFLINE)
    # or was never delivered ("not delivered: ..."); None once sent.
    result_error: Mapped[str | None] = mapped_column(String(255))


class OcpiChargingProfile(Timestamped, Base):
    """A charging profile request a partner sent for one of its sessions, and how it went."""

    __tablename__ = "ocpi_charging_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[str] = mapped_column(String(36), index=True)  # the OCPI Session.id
    action: Mapped[str] = mapped_column(String(8))  # GET, PUT (set) or DELETE (clear)
    response_url: Mapped[str] = mapped_column(String(255))
    request: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result: Mapped[str | None] = mapped_column(String(24))
    result_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OcpiBooking(Timestamped, Base):
    """A partner eMSP's OCPI 2.3.0 booking, carried by a PlugPool booking of its driver."""

    __tablename__ = "ocpi_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), unique=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    # The requesting eMSP party and its request id (the same for every edit of the booking).
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    request_id: Mapped[str] = mapped_column(String(36))
    authorization_reference: Mapped[str] = mapped_column(String(36))
    tokens: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # BookingRequestStatus objects: every request received for this booking and its answer.
    requests: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    __table_args__ = (UniqueConstraint("country_code", "party_id", "request_id"),)


class EmspCommand(Timestamped, Base):
    """A command PlugPool (as eMSP) sent a partner CPO for a driver, and how it went.

    `uid` ends our response_url, so the CommandResult finds its row; `deadline` is when a
    missing CommandResult turns into a failure shown to the driver.
    """

    __tablename__ = "emsp_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    command: Mapped[str] = mapped_column(String(24))
    request: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    authorization_reference: Mapped[str | None] = mapped_column(String(36), index=True)
    response: Mapped[str | None] = mapped_column(String(24))  # CommandResponseType received
    result: Mapped[str | None] = mapped_column(String(24))  # CommandResultType, or TIMEOUT
    message: Mapped[str | None] = mapped_column(String(255))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="SET NULL")
    )


class SyncStatus(StrEnum):
    NEVER = "NEVER"  # no pull yet: the next one is full
    RUNNING = "RUNNING"
    OK = "OK"
    FAILING = "FAILING"  # the last attempt failed; retried with backoff


class OcpiSync(Base):
    """Our pull of one module (locations, tariffs) from one partner CPO: where it stands.

    `synced_until` is the start of the last successful pull: the next incremental pull asks for
    date_from=synced_until, so a change made while a pull ran is fetched again, never missed.
    """

    __tablename__ = "ocpi_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("ocpi_partners.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=SyncStatus.NEVER.value)
    full_due: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    done: Mapped[int] = mapped_column(Integer, default=0)  # objects received in this pull
    total: Mapped[int | None] = mapped_column(Integer)  # X-Total-Count of this pull

    partner: Mapped[OcpiPartner] = relationship()

    __table_args__ = (UniqueConstraint("partner_id", "module"),)


class EmspBooking(Timestamped, Base):
    """A booking PlugPool (as eMSP, OCPI 2.3.0) asked a partner CPO for, for one driver.

    `request_id` is ours and names every request about it; `booking` is the partner's Booking
    object as last answered or pushed, `reservation_status` what the driver sees.
    """

    __tablename__ = "emsp_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("ocpi_partners.id", ondelete="SET NULL"), index=True
    )
    country_code: Mapped[str] = mapped_column(String(2))  # the CPO's party
    party_id: Mapped[str] = mapped_column(String(3))
    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    booking_id: Mapped[str | None] = mapped_column(String(36))  # the CPO's Booking.id
    location_id: Mapped[str] = mapped_column(String(36))
    evse_uid: Mapped[str | None] = mapped_column(String(36))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    authorization_reference: Mapped[str] = mapped_column(String(36))
    reservation_status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(String(255))
    booking: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
