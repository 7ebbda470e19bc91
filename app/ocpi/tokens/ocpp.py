"""Roaming tokens at our chargers: what the gateway's `StationPort.authorize` answers for them.

The DB-backed StationPort (outside app/gateway) calls `authorize_at_station` for an idToken
it does not know as a PlugPool driver's; the whitelist and real-time rules live in
`services.authorize_token`.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.gateway.ports import AuthorizationResult, AuthorizationStatus
from app.inventory.models import ChargeStation
from app.ocpi.tokens.services import LocationReference, authorize_token

STATUS = {
    "ALLOWED": AuthorizationStatus.ACCEPTED,
    "BLOCKED": AuthorizationStatus.BLOCKED,
    "EXPIRED": AuthorizationStatus.EXPIRED,
}
# OCPP idToken types that are a card; "Central" (remote start) tokens are app users.
OCPP_TO_OCPI_TYPE = {"Central": "APP_USER", "eMAID": "APP_USER"}


def authorize_at_station(
    station_id: str, id_token: str, token_type: str | None
) -> AuthorizationResult:
    """Authorise a roaming token presented at a station (NO_CREDIT, NOT_ALLOWED -> Invalid)."""
    ocpi_type = OCPP_TO_OCPI_TYPE.get(token_type or "", "RFID")
    result = authorize_token(id_token, ocpi_type, _location_reference(station_id))
    status = STATUS.get(result.allowed, AuthorizationStatus.INVALID)
    parent = result.token.group_id if result.token is not None else None
    return AuthorizationResult(status=status, parent_id=parent)


def _location_reference(station_id: str) -> LocationReference | None:
    """The location and EVSEs of a station, sent along with real-time authorisation."""
    station = db.session.scalars(
        select(ChargeStation).where(ChargeStation.station_id == station_id)
    ).first()
    if station is None or station.location is None:
        return None
    return {
        "location_id": station.location.ocpi_id,
        "evse_uids": [evse.uid for evse in station.evses],
    }
