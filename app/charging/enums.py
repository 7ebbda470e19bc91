"""OCPI session states, authorisation methods and CDR dimensions used by charging."""

from __future__ import annotations

from enum import StrEnum


class SessionStatus(StrEnum):
    """OCPI SessionStatus."""

    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class AuthMethod(StrEnum):
    """OCPI AuthMethod: how the session's token was authorised."""

    AUTH_REQUEST = "AUTH_REQUEST"  # real-time authorisation with the eMSP
    COMMAND = "COMMAND"  # started remotely (app, booking, OCPI START_SESSION)
    WHITELIST = "WHITELIST"  # known locally (own drivers, pushed tokens)


class CdrDimension(StrEnum):
    """OCPI CdrDimensionType values a CDR's charging periods carry."""

    ENERGY = "ENERGY"
    TIME = "TIME"
    PARKING_TIME = "PARKING_TIME"


class NoticeKind(StrEnum):
    """What a notice to a driver or owner is about."""

    STATION_OFFLINE = "station_offline"  # the station was offline when the booking started
    RESERVATION_FAILED = "reservation_failed"  # the station refused ReserveNow
    RESERVATION_ENDED = "reservation_ended"  # the station expired or removed the reservation
    SESSION_FLAGGED = "session_flagged"  # the meter failed the plausibility check: unbilled


ENERGY_REGISTER = "Energy.Active.Import.Register"
