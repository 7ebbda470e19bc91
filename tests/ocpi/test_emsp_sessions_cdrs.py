"""eMSP Sessions and CDRs receivers: partner CPOs push our drivers' sessions and CDRs.

Bodies follow the OCPI 2.2.1 spec examples (session_example_2, cdr_example).
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.charging.models import Cdr, ChargingSession
from app.charging.services import issue_driver_token
from app.extensions import db
from tests.ocpi.conftest import token_header

SESSION_URL = "/ocpi/emsp/2.2.1/sessions/BE/BEC/101"
CDR_URL = "/ocpi/emsp/2.2.1/cdrs"
CPO = (("CPO", "BE", "BEC"),)

SESSION = {
    "country_code": "BE",
    "party_id": "BEC",
    "id": "101",
    "start_date_time": "2015-06-29T22:39:09Z",
    "kwh": 11.5,
    "cdr_token": {"uid": "UID", "type": "APP_USER", "contract_id": "NL-PLG-C1"},
    "auth_method": "COMMAND",
    "location_id": "LOC1",
    "evse_uid": "3256",
    "connector_id": "1",
    "currency": "EUR",
    "total_cost": {"excl_vat": 2.5, "incl_vat": 3.03},
    "status": "ACTIVE",
    "last_updated": "2015-06-29T23:00:00Z",
}
CDR = {
    "country_code": "BE",
    "party_id": "BEC",
    "id": "12345",
    "start_date_time": "2015-06-29T21:39:09Z",
    "end_date_time": "2015-06-29T23:37:32Z",
    "session_id": "101",
    "cdr_token": {"uid": "UID", "type": "APP_USER", "contract_id": "NL-PLG-C1"},
    "auth_method": "COMMAND",
    "cdr_location": {
        "id": "LOC1",
        "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "coordinates": {"latitude": "3.729944", "longitude": "51.047599"},
        "evse_uid": "3256",
        "evse_id": "BE*BEC*E041503003",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_1_PHASE",
    },
    "currency": "EUR",
    "tariffs": [
        {
            "country_code": "BE",
            "party_id": "BEC",
            "id": "12",
            "currency": "EUR",
            "elements": [
                {
                    "price_components": [
                        {"type": "TIME", "price": 2.00, "vat": 10.0, "step_size": 300}
                    ]
                }
            ],
            "last_updated": "2015-02-02T14:15:01Z",
        }
    ],
    "charging_periods": [
        {
            "start_date_time": "2015-06-29T21:39:09Z",
            "dimensions": [{"type": "TIME", "volume": 1.973}],
            "tariff_id": "12",
        }
    ],
    "total_cost": {"excl_vat": 4.00, "incl_vat": 4.40},
    "total_energy": 15.342,
    "total_time": 1.973,
    "total_time_cost": {"excl_vat": 4.00, "incl_vat": 4.40},
    "last_updated": "2015-06-29T22:01:13Z",
}


@pytest.fixture
def driver_uid(make_user):
    """A PlugPool driver's APP_USER token uid."""
    driver = make_user()
    return driver, issue_driver_token(driver.id).uid


def _session_body(uid: str, **changes):
    body = copy.deepcopy(SESSION)
    body["cdr_token"]["uid"] = uid
    body.update(changes)
    return body


def _cdr_body(uid: str, **changes):
    body = copy.deepcopy(CDR)
    body["cdr_token"]["uid"] = uid
    body.update(changes)
    return body


def _sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(ChargingSession))


def _status(reply) -> tuple[int, int]:
    return reply.status_code, reply.get_json()["status_code"]


def test_put_session_stores_it_for_our_driver_and_get_returns_it(client, make_partner, driver_uid):
    driver, uid = driver_uid
    _, token = make_partner(roles=CPO)
    reply = client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    assert _status(reply) == (200, 1000)
    session = db.session.scalars(select(ChargingSession)).one()
    assert (session.driver_id, session.kwh, session.status) == (
        driver.id,
        Decimal("11.5"),
        "ACTIVE",
    )
    assert session.total_cost_minor == 303 and session.party_id == "BEC"
    got = client.get(SESSION_URL, headers=token_header(token)).get_json()["data"]
    assert got["kwh"] == 11.5 and got["cdr_token"]["uid"] == uid


def test_patch_updates_progress_of_a_held_session(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    patch = {"kwh": 20, "status": "COMPLETED", "last_updated": "2015-06-29T23:10:00Z"}
    assert _status(client.patch(SESSION_URL, json=patch, headers=token_header(token))) == (
        200,
        1000,
    )
    session = db.session.scalars(select(ChargingSession)).one()
    assert (session.kwh, session.status) == (Decimal(20), "COMPLETED")
    assert session.received["location_id"] == "LOC1"


def test_patch_of_an_unknown_session_answers_2003(client, make_partner):
    _, token = make_partner(roles=CPO)
    patch = {"kwh": 20, "last_updated": "2015-06-29T23:10:00Z"}
    assert _status(client.patch(SESSION_URL, json=patch, headers=token_header(token))) == (
        404,
        2003,
    )
    assert _sessions() == 0


def test_patch_without_last_updated_is_refused_and_writes_nothing(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    reply = client.patch(SESSION_URL, json={"kwh": 99}, headers=token_header(token))
    assert reply.get_json()["status_code"] == 2001
    assert db.session.scalars(select(ChargingSession)).one().kwh == Decimal("11.5")


def test_an_id_in_the_body_that_differs_from_the_url_is_refused(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    reply = client.put(SESSION_URL, json=_session_body(uid, id="999"), headers=token_header(token))
    assert reply.get_json()["status_code"] == 2001
    assert _sessions() == 0


def test_objects_of_a_party_the_partner_does_not_hold_are_refused(client, make_partner, driver_uid):
    _, uid = driver_uid
    make_partner(roles=(("CPO", "BE", "BEC"),))
    _, other = make_partner(roles=(("CPO", "FR", "OTH"),))
    reply = client.put(SESSION_URL, json=_session_body(uid), headers=token_header(other))
    assert reply.get_json()["status_code"] == 2001
    cdr = client.post(CDR_URL, json=_cdr_body(uid), headers=token_header(other))
    assert cdr.get_json()["status_code"] == 2001
    assert _sessions() == 0 and db.session.scalar(select(func.count()).select_from(Cdr)) == 0
    # An eMSP-only partner (no CPO role) cannot push sessions either.
    _, emsp = make_partner(roles=(("EMSP", "BE", "BEC"),))
    assert (
        client.put(SESSION_URL, json=_session_body(uid), headers=token_header(emsp)).get_json()[
            "status_code"
        ]
        == 2001
    )


def test_an_older_push_is_ignored_with_1000(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    older = _session_body(uid, kwh=1, last_updated="2015-06-29T22:50:00Z")
    assert _status(client.put(SESSION_URL, json=older, headers=token_header(token))) == (200, 1000)
    patch = {"kwh": 2, "last_updated": "2015-06-29T22:50:00Z"}
    assert client.patch(SESSION_URL, json=patch, headers=token_header(token)).get_json()[
        "status_code"
    ] == (1000)
    assert db.session.scalars(select(ChargingSession)).one().kwh == Decimal("11.5")


def test_bad_input_gets_ocpi_errors_not_500s(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    headers = token_header(token)
    not_json = client.put(SESSION_URL, data="{", headers=headers, content_type="application/json")
    assert not_json.status_code == 400 and not_json.get_json()["status_code"] == 2001
    assert client.put(SESSION_URL, json=[1], headers=headers).get_json()["status_code"] == 2001
    bad_kwh = _session_body(uid, kwh="lots")
    assert client.put(SESSION_URL, json=bad_kwh, headers=headers).get_json()["status_code"] == 2001
    no_periods = _cdr_body(uid, charging_periods=[])
    assert client.post(CDR_URL, json=no_periods, headers=headers).get_json()["status_code"] == 2001
    assert client.get(f"{CDR_URL}/999999", headers=headers).status_code == 404
    assert client.put(SESSION_URL, json=_session_body(uid)).status_code == 401


def test_a_cdr_is_stored_once_and_readable_at_its_location(client, make_partner, driver_uid):
    driver, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    posted = client.post(CDR_URL, json=_cdr_body(uid), headers=token_header(token))
    assert _status(posted) == (200, 1000)
    location = posted.headers["Location"]
    assert "/ocpi/emsp/2.2.1/cdrs/" in location
    again = client.post(CDR_URL, json=_cdr_body(uid), headers=token_header(token))
    assert again.headers["Location"] == location
    cdr = db.session.scalars(select(Cdr)).one()
    assert (cdr.driver_id, cdr.total_cost_minor, cdr.flags) == (driver.id, 440, [])
    # Re-priced by our engine: 1.973 h at 2.00/h in 5-minute steps, 10% VAT.
    assert cdr.audit_total_minor == 440
    assert cdr.session_pk == db.session.scalars(select(ChargingSession.id)).one()
    path = location.split("://", 1)[1].split("/", 1)[1]
    got = client.get("/" + path, headers=token_header(token)).get_json()["data"]
    assert got["id"] == "12345" and got["total_cost"]["incl_vat"] == 4.4
    _, other = make_partner(roles=(("CPO", "FR", "OTH"),))
    assert client.get("/" + path, headers=token_header(other)).status_code == 404


def test_a_cdr_without_session_or_known_token_is_kept_and_flagged(client, make_partner):
    _, token = make_partner(roles=CPO)
    body = _cdr_body("NOT-OURS", session_id="nope")
    assert _status(client.post(CDR_URL, json=body, headers=token_header(token))) == (200, 1000)
    cdr = db.session.scalars(select(Cdr)).one()
    assert cdr.session_pk is None and cdr.driver_id is None
    assert set(cdr.flags) == {"no_session", "unknown_token"}


def test_a_cdr_whose_price_differs_from_our_engine_is_flagged(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    body = _cdr_body(uid, total_cost={"excl_vat": 5.00, "incl_vat": 5.50})
    client.post(CDR_URL, json=body, headers=token_header(token))
    cdr = db.session.scalars(select(Cdr)).one()
    assert cdr.flags == ["price_mismatch"]
    assert (cdr.total_cost_minor, cdr.audit_total_minor) == (550, 440)


def test_a_second_cdr_of_a_session_is_kept_and_flagged(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    client.post(CDR_URL, json=_cdr_body(uid), headers=token_header(token))
    credit = _cdr_body(uid, id="12345-CREDIT")
    assert client.post(CDR_URL, json=credit, headers=token_header(token)).get_json()[
        "status_code"
    ] == (1000)
    second = db.session.scalars(select(Cdr).where(Cdr.ocpi_id == "12345-CREDIT")).one()
    assert second.session_pk is None and second.flags == ["second_cdr_of_session"]


def test_a_cdr_without_session_id_finds_its_session_by_token_location_and_start(
    client, make_partner, driver_uid
):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    client.put(SESSION_URL, json=_session_body(uid), headers=token_header(token))
    body = _cdr_body(uid, start_date_time=SESSION["start_date_time"])
    del body["session_id"]
    client.post(CDR_URL, json=body, headers=token_header(token))
    cdr = db.session.scalars(select(Cdr)).one()
    assert cdr.session_pk == db.session.scalars(select(ChargingSession.id)).one()
    assert "no_session" not in cdr.flags


def test_nulls_and_unknown_fields_from_sloppy_peers_are_accepted(client, make_partner, driver_uid):
    _, uid = driver_uid
    _, token = make_partner(roles=CPO)
    body = _session_body(uid, end_date_time=None, meter_id=None, vendor_extension={"x": 1})
    body["cdr_token"]["country_code"] = None
    reply = client.put(SESSION_URL, json=body, headers=token_header(token))
    assert reply.get_json()["status_code"] == 1000, reply.get_json()
    cdr = _cdr_body(uid, remark=None, signed_data=None, credit=None, something_new=True)
    assert client.post(CDR_URL, json=cdr, headers=token_header(token)).get_json()[
        "status_code"
    ] == (1000)
    assert db.session.scalars(select(Cdr)).one().signed_data is None
