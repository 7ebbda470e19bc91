"""Charging profiles from partner eMSPs for their sessions: answer at once, execute later.

PUT -> OCPP SetChargingProfile (a TxProfile on the session's EVSE), DELETE -> OCPP
ClearChargingProfile of that profile, GET -> the profile we last set (the gateway offers no
GetCompositeSchedule). The result goes to the eMSP's response_url, as for commands.
"""

from __future__ import annotations

import logging
import zlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields
from sqlalchemy import select

from app.charging.commands import CommandSender
from app.charging.models import ChargingSession
from app.core.clock import iso_utc, utcnow
from app.core.outbox import emit
from app.extensions import db
from app.gateway import commands as ocpp
from app.gateway.errors import CommandTimeout, GatewayError, StationOffline, UnsupportedCommand
from app.ocpi import errors
from app.ocpi.client import OcpiClient
from app.ocpi.models import OcpiChargingProfile, OcpiPartner
from app.ocpi.schemas.chargingprofiles import SetChargingProfile
from app.ocpi.sessions.queries import visible_session

log = logging.getLogger("plugpool.ocpi.chargingprofiles")
PROFILE_QUEUED = "ocpi.chargingprofile"
STACK_LEVEL = 1


def accept_profile_request(
    partner: OcpiPartner, session_id: str, action: str, body: Any, args: dict[str, str]
) -> dict[str, Any]:
    """Validate a GET/PUT/DELETE, queue it, and return the ChargingProfileResponse."""
    request, response_url = _parse(action, body, args)
    session = visible_session(partner, session_id)
    if session is None or not session.is_open:
        return {"result": "UNKNOWN_SESSION", "timeout": 0}
    if session.ocpp_evse_id is None:
        return {"result": "REJECTED", "timeout": 0}
    record = OcpiChargingProfile(
        partner_id=partner.id,
        session_id=session_id,
        action=action,
        response_url=response_url,
        request=request,
    )
    db.session.add(record)
    db.session.flush()
    emit(db.session, PROFILE_QUEUED, "ocpi_chargingprofile", str(record.id), {"id": record.id})
    db.session.commit()
    return {"result": "ACCEPTED", "timeout": _timeout()}


def _parse(action: str, body: Any, args: dict[str, str]) -> tuple[dict[str, Any], str]:
    if action == "PUT":
        try:
            data = SetChargingProfile().load(body)
        except ValidationError as error:
            raise errors.InvalidParameters(
                f"Invalid SetChargingProfile: {error.messages}"
            ) from error
        return SetChargingProfile().dump(data), data["response_url"]
    response_url = args.get("response_url") or ""
    try:
        fields.Url(require_tld=False).deserialize(response_url)
    except ValidationError as error:
        raise errors.InvalidParameters("response_url is required") from error
    request: dict[str, Any] = {}
    if action == "GET":
        duration = args.get("duration", "")
        if not duration.isdigit():
            raise errors.InvalidParameters("duration (seconds) is required")
        request["duration"] = int(duration)
    return request, response_url


def execute_profile_request(record: OcpiChargingProfile, sender: CommandSender) -> str:
    """Carry out a queued request and POST its result to the eMSP."""
    session = _session(record.session_id)
    if record.action == "GET":
        body = _active_profile(record, session)
    else:
        body = {"result": _run(sender, session, record)}
    record.result = body["result"]
    _post_result(record, body)
    db.session.commit()
    return record.result


def _session(session_id: str) -> ChargingSession | None:
    query = select(ChargingSession).where(ChargingSession.ocpi_id == session_id)
    return db.session.scalars(query).first()


def _profile_id(session_id: str) -> int:
    """One stable OCPP profile id per session, so a clear finds the profile a set installed."""
    return zlib.crc32(f"ocpi-session:{session_id}".encode()) & 0x7FFFFFFF


def _command(session: ChargingSession, record: OcpiChargingProfile) -> ocpp.Command:
    profile_id = _profile_id(session.ocpi_id)
    if record.action == "DELETE":
        return ocpp.ClearChargingProfile(profile_id=profile_id)
    profile = record.request["charging_profile"]
    start = profile.get("start_date_time")
    return ocpp.SetChargingProfile(
        evse_id=session.ocpp_evse_id or 0,
        profile=ocpp.ChargingProfile(
            profile_id=profile_id,
            stack_level=STACK_LEVEL,
            purpose=ocpp.ProfilePurpose.TX,
            unit=profile["charging_rate_unit"],
            periods=tuple(
                (int(p["start_period"]), Decimal(str(p["limit"])))
                for p in profile["charging_profile_period"]
            ),
            kind="Absolute" if start else "Relative",
            start_schedule=datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None,
            duration=profile.get("duration"),
            transaction_id=session.transaction_id,
        ),
    )


def _run(
    sender: CommandSender, session: ChargingSession | None, record: OcpiChargingProfile
) -> str:
    """ChargingProfileResultType / ClearProfileResult result of the OCPP call."""
    if session is None or not session.is_open:
        return "UNKNOWN"
    try:
        answer = sender.send_command(session.station_id, _command(session, record), _timeout())
    except UnsupportedCommand:
        return "REJECTED"
    except (CommandTimeout, StationOffline, GatewayError) as error:
        log.warning("charging profile %s for %s failed: %s", record.id, session.station_id, error)
        return "UNKNOWN"
    return "ACCEPTED" if answer.status == "Accepted" else "REJECTED"


def _active_profile(record: OcpiChargingProfile, session: ChargingSession | None) -> dict[str, Any]:
    """ActiveChargingProfileResult: the last profile set on the session, for `duration`."""
    query = (
        select(OcpiChargingProfile)
        .where(
            OcpiChargingProfile.session_id == record.session_id,
            OcpiChargingProfile.action.in_(("PUT", "DELETE")),
            OcpiChargingProfile.result.is_not(None),
        )
        .order_by(OcpiChargingProfile.id.desc())
    )
    last = db.session.scalars(query).first()
    if session is None or last is None or last.action == "DELETE" or last.result != "ACCEPTED":
        return {"result": "REJECTED"}
    profile = dict(last.request["charging_profile"])
    profile["duration"] = min(
        profile.get("duration") or record.request["duration"], record.request["duration"]
    )
    start = utcnow().replace(microsecond=0)
    stamp = iso_utc(start)
    return {
        "result": "ACCEPTED",
        "profile": {"start_date_time": stamp, "charging_profile": profile},
    }


def _post_result(record: OcpiChargingProfile, body: dict[str, Any]) -> None:
    partner = db.session.get(OcpiPartner, record.partner_id) if record.partner_id else None
    if partner is None or not partner.token_out:
        return
    client = OcpiClient(
        partner.token_out, raw_token=partner.raw_tokens, to_party=partner.party("EMSP")
    )
    try:
        client.post(record.response_url, body)
        record.result_sent_at = utcnow()
    except errors.PartnerCallFailed as error:
        log.warning("charging profile result %s not delivered: %s", record.id, error)


def _timeout() -> int:
    return int(current_app.config["OCPI_COMMAND_TIMEOUT"])
