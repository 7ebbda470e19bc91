"""Charging profiles from an eMSP reach the charger as OCPP profiles; results go to response_url."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.routing import on
from ocpp.v16 import call_result as result16

from app.extensions import db as _db
from app.ocpi.tasks import run_commands
from tests.gateway.support import Charger16
from tests.ocpi.conftest import token_header
from tests.ocpi.peer import CHARGING_PROFILE, with_nulls
from tests.ocpi.test_commands import LiveGateway


class ProfileCharger(Charger16):
    """A 1.6 charger that also clears profiles."""

    @on("ClearChargingProfile")
    def on_clear(self, **payload: Any) -> result16.ClearChargingProfile:
        self.received.append(("ClearChargingProfile", payload))
        return result16.ClearChargingProfile(status="Accepted")


@pytest.fixture
def running(make_session):
    session = make_session(ended=False)
    session.station_id = "CP16"
    _db.session.flush()
    return session


@pytest.fixture
def emsp(make_partner, peer):
    partner, token = make_partner()
    peer.state.tokens_accepted.add(partner.token_out)
    return token


PROFILE = {
    "charging_rate_unit": "W",
    "charging_profile_period": [
        {"start_period": 0, "limit": 7400},
        {"start_period": 1800, "limit": 3700},
    ],
}


def test_set_get_and_clear_a_profile_through_the_charger(client, emsp, running, peer):
    results = f"{peer.state.base}/emsp/2.2.1/commands/profiles"
    url = f"/ocpi/cpo/2.2.1/chargingprofiles/{running.ocpi_id}"
    body = {"response_url": f"{results}/1", "charging_profile": PROFILE}
    answer = client.put(url, json=body, headers=token_header(emsp)).get_json()
    assert answer["data"] == {"result": "ACCEPTED", "timeout": 30}

    with LiveGateway(ProfileCharger) as gateway:
        assert run_commands(10, gateway.bus) == 1
        got = client.get(
            f"{url}?duration=900&response_url={results}/2", headers=token_header(emsp)
        ).get_json()
        assert got["data"]["result"] == "ACCEPTED"
        assert run_commands(10, gateway.bus) == 1
        cleared = client.delete(f"{url}?response_url={results}/3", headers=token_header(emsp))
        assert cleared.get_json()["data"]["result"] == "ACCEPTED"
        assert run_commands(10, gateway.bus) == 1
        received = list(gateway.charger.received)

    (set_action, set_payload), (clear_action, clear_payload) = received
    assert set_action == "SetChargingProfile" and set_payload["connector_id"] == 1
    profile = set_payload["cs_charging_profiles"]
    assert profile["charging_profile_purpose"] == "TxProfile"
    assert profile["transaction_id"] == int(running.transaction_id)
    periods = profile["charging_schedule"]["charging_schedule_period"]
    assert [(p["start_period"], p["limit"]) for p in periods] == [(0, 7400), (1800, 3700)]
    assert clear_action == "ClearChargingProfile"
    assert clear_payload["id"] == profile["charging_profile_id"]

    posted = {r.path.rsplit("/", 1)[1]: r.body for r in peer.command_results()}
    assert posted["1"] == {"result": "ACCEPTED"}
    assert posted["2"]["result"] == "ACCEPTED"
    active = posted["2"]["profile"]["charging_profile"]
    assert active["charging_profile_period"] == PROFILE["charging_profile_period"]
    assert active["duration"] == 900
    assert posted["3"] == {"result": "ACCEPTED"}


def test_profile_requests_are_validated(client, emsp, running, make_session):
    url = f"/ocpi/cpo/2.2.1/chargingprofiles/{running.ocpi_id}"
    no_url = client.delete(url, headers=token_header(emsp)).get_json()
    assert no_url["status_code"] == 2001
    no_duration = client.get(f"{url}?response_url=http://x.test/r", headers=token_header(emsp))
    assert no_duration.get_json()["status_code"] == 2001
    bad = {"response_url": "http://x.test/r", "charging_profile": {"charging_rate_unit": "V"}}
    assert client.put(url, json=bad, headers=token_header(emsp)).get_json()["status_code"] == 2001
    ended = make_session()
    reply = client.delete(
        f"/ocpi/cpo/2.2.1/chargingprofiles/{ended.ocpi_id}?response_url=http://x.test/r",
        headers=token_header(emsp),
    )
    assert reply.get_json()["data"]["result"] == "UNKNOWN_SESSION"


def test_a_profile_with_nulls_and_unknown_fields_is_accepted(client, emsp, running, peer):
    url = f"/ocpi/cpo/2.3.0/chargingprofiles/{running.ocpi_id}"
    body = with_nulls(
        {
            "response_url": f"{peer.state.base}/emsp/2.2.1/commands/profiles/9",
            "charging_profile": {**PROFILE, "x_vendor_hint": "eco"},
        },
        CHARGING_PROFILE,
    )
    assert body["charging_profile"]["duration"] is None
    answer = client.put(url, json=body, headers=token_header(emsp)).get_json()
    assert answer["status_code"] == 1000, answer
    assert answer["data"]["result"] == "ACCEPTED"
