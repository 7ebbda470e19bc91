"""authorize_token: whitelist rules and real-time authorisation against a real eMSP peer."""

from __future__ import annotations

from app.extensions import db as _db
from app.ocpi.models import Token
from app.ocpi.tokens.services import authorize_token


def _emsp(make_partner, peer):
    partner, _ = make_partner(
        endpoints=(("tokens", "SENDER", f"{peer.state.base}/emsp/2.2.1/tokens"),)
    )
    peer.state.tokens_accepted.add(partner.token_out)
    return partner


def _token(partner, uid="RFID1", whitelist="ALLOWED_OFFLINE", valid=True):
    from app.core.clock import utcnow

    token = Token(
        partner_id=partner.id,
        country_code="DE",
        party_id="EMS",
        uid=uid,
        type="RFID",
        contract_id="DE-EMS-C1",
        issuer="Test eMSP",
        valid=valid,
        whitelist=whitelist,
        last_updated=utcnow(),
    )
    _db.session.add(token)
    _db.session.flush()
    return token


def _authorize_calls(peer):
    return [r for r in peer.state.requests if r.path.endswith("/authorize?type=RFID")]


def test_always_and_allowed_are_decided_by_the_whitelist_without_a_call(db, make_partner, peer):
    partner = _emsp(make_partner, peer)
    _token(partner, "A1", "ALWAYS")
    _token(partner, "A2", "ALLOWED", valid=False)
    assert authorize_token("A1").allowed == "ALLOWED"
    blocked = authorize_token("A2")
    assert (blocked.allowed, blocked.source, blocked.accepted) == ("BLOCKED", "whitelist", False)
    assert _authorize_calls(peer) == []


def test_allowed_offline_asks_the_emsp_in_real_time(db, make_partner, peer):
    partner = _emsp(make_partner, peer)
    _token(partner, "R1", "ALLOWED_OFFLINE")
    peer.state.authorizations["R1"] = "NO_CREDIT"
    location = {"location_id": "LOC1", "evse_uids": ["EVSE1"]}

    result = authorize_token("R1", "RFID", location)

    assert (result.allowed, result.source) == ("NO_CREDIT", "realtime")
    assert result.authorization_reference == "REF1"
    (call,) = _authorize_calls(peer)
    assert call.method == "POST" and call.path == "/ocpi/emsp/2.2.1/tokens/R1/authorize?type=RFID"
    assert call.body == location
    assert call.headers["OCPI-to-party-id"] == "EMS" and call.headers["OCPI-from-party-id"] == "PLG"
    assert call.headers["X-Request-ID"]


def test_allowed_offline_falls_back_to_the_whitelist_when_the_emsp_is_down(db, make_partner, peer):
    partner = _emsp(make_partner, peer)
    _token(partner, "R2", "ALLOWED_OFFLINE")
    peer.state.down = True
    result = authorize_token("R2")
    assert (result.allowed, result.source) == ("ALLOWED", "offline")


def test_never_requires_the_emsp_and_refuses_when_it_is_down(db, make_partner, peer):
    partner = _emsp(make_partner, peer)
    _token(partner, "N1", "NEVER")
    peer.state.authorizations["N1"] = "ALLOWED"
    assert authorize_token("N1").allowed == "ALLOWED"
    peer.state.down = True
    assert authorize_token("N1").allowed == "NOT_ALLOWED"


def test_token_unknown_to_the_emsp_is_not_allowed(db, make_partner, peer):
    partner = _emsp(make_partner, peer)
    _token(partner, "N2", "NEVER")
    result = authorize_token("N2")
    assert (result.allowed, result.source) == ("NOT_ALLOWED", "realtime")


def test_token_nobody_pushed_is_unknown(db):
    result = authorize_token("NOBODY")
    assert result.allowed == "UNKNOWN" and result.token is None and not result.accepted


def test_a_station_asks_with_its_location_and_gets_an_ocpp_status(
    db, make_partner, peer, make_location
):
    from app.core.security import hash_secret
    from app.gateway.ports import AuthorizationStatus
    from app.inventory.models import ChargeStation
    from app.ocpi.tokens.ocpp import authorize_at_station

    partner = _emsp(make_partner, peer)
    _token(partner, "CARD1", "NEVER").group_id = "FLEET-7"
    location = make_location()
    station = ChargeStation(station_id="CP-R1", password_hash=hash_secret("y" * 16))
    db_session = _db.session
    db_session.add(station)
    db_session.flush()
    location.evses[0].station_id = station.id
    location.stations.append(station)
    db_session.flush()
    peer.state.authorizations["CARD1"] = "ALLOWED"

    result = authorize_at_station("CP-R1", "CARD1", "ISO14443")

    assert result.status is AuthorizationStatus.ACCEPTED and result.parent_id == "FLEET-7"
    (call,) = _authorize_calls(peer)
    assert call.body == {"location_id": location.ocpi_id, "evse_uids": [location.evses[0].uid]}
    peer.state.authorizations["CARD1"] = "NO_CREDIT"
    assert authorize_at_station("CP-R1", "CARD1", "ISO14443").status is AuthorizationStatus.INVALID
    assert authorize_at_station("CP-R1", "NOBODY", None).status is AuthorizationStatus.INVALID
