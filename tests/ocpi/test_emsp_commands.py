"""Commands Sender (eMSP) and roaming money: a driver starts, stops, reserves and unlocks at a
partner CPO's charger, the card hold comes first, and the CDR becomes the driver's charge.

The partner CPO is a real HTTP peer (tests/ocpi/cpo_peer.py); Stripe is localstripe.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.charging.services import issue_driver_token
from app.charging.services.roaming_commands import expire_commands
from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.models import EmspCommand
from app.ocpi.tasks import run_emsp_jobs
from app.payments import services as payments
from app.payments.models import RoamingCharge
from app.payments.roaming import release_stale_holds
from tests.bookings.conftest import (  # noqa: F401 (fixtures by name)
    app_on_localstripe,
    make_driver_with_card,
)
from tests.ocpi.conftest import token_header
from tests.ocpi.cpo_peer import CpoPeer
from tests.ocpi.test_emsp_sessions_cdrs import CDR, SESSION
from tests.support.stripe_fixtures import localstripe  # noqa: F401
from tests.web.conftest import log_in  # noqa: F401 (a fixture, found by name)

API = "/api/v1/roaming"


@pytest.fixture
def cpo():
    with CpoPeer() as peer:
        peer.state.result = None  # results are posted by the test, through our receiver
        yield peer


@pytest.fixture
def network(db, cpo, make_partner, make_party, make_location, make_tariff):
    """A registered partner CPO BE*BEC whose location is in our inventory."""
    party = make_party(country_code="BE", party_id="BEC", name="Beacon Charging")
    tariff = make_tariff(country_code="BE", party_id="BEC", ocpi_id="12")
    location = make_location(
        country_code=party.country_code,
        party_id=party.party_id,
        ocpi_id="LOC1",
        connector={"tariff_ids": [tariff.ocpi_id]},
    )
    partner, token = make_partner(roles=(("CPO", "BE", "BEC"),), endpoints=cpo.endpoints())
    cpo.state.tokens_accepted.add(partner.token_out)
    return location, partner, token


@pytest.fixture
def driver(make_driver_with_card):  # noqa: F811
    user = make_driver_with_card()
    issue_driver_token(user.id)
    return user


def _start(client, bearer, driver, location):
    return client.post(
        f"{API}/sessions", json={"evse_id": location.evses[0].id}, headers=bearer(driver)
    )


def _charge() -> RoamingCharge:
    return db.session.scalars(select(RoamingCharge)).one()


def _result(client, command_uid, token, result, name="START_SESSION"):
    url = f"/ocpi/emsp/2.2.1/commands/{name}/{command_uid}"
    return client.post(url, json={"result": result}, headers=token_header(token))


def test_terms_show_the_hold_and_the_roaming_fee_before_the_start(client, bearer, driver, network):
    location, _, _ = network
    reply = client.get(f"{API}/chargers/{location.evses[0].id}/terms", headers=bearer(driver))
    assert reply.get_json() == {"currency": "EUR", "hold_minor": 3000, "fee_minor": 50}


def test_start_holds_the_estimate_then_sends_start_session(client, bearer, driver, network, cpo):
    location, _, token = network
    reply = _start(client, bearer, driver, location)
    assert reply.status_code == 202, reply.get_json()
    assert reply.get_json()["status"] == "PENDING"
    charge = _charge()
    assert (charge.state, charge.authorised_minor) == ("authorised", 3000)
    held = payments.gateway().retrieve_payment(charge.payment_intent_id)
    assert (held.status, held.amount) == ("requires_capture", 3000)
    (sent,) = cpo.received("commands", "POST")
    assert sent.path.endswith("/commands/START_SESSION")
    command = db.session.scalars(select(EmspCommand)).one()
    assert sent.body["response_url"].endswith(
        f"/ocpi/emsp/2.2.1/commands/START_SESSION/{command.uid}"
    )
    assert sent.body["authorization_reference"] == charge.authorization_reference
    assert (sent.body["location_id"], sent.body["evse_uid"]) == ("LOC1", location.evses[0].uid)
    assert sent.body["connector_id"] == "1" and sent.body["token"]["type"] == "APP_USER"
    assert sent.headers["OCPI-to-party-id"] == "BEC"
    # The CPO's asynchronous result reaches the driver.
    assert _result(client, command.uid, token, "ACCEPTED").get_json()["status_code"] == 1000
    got = client.get(f"{API}/commands/{command.id}", headers=bearer(driver)).get_json()
    assert got["status"] == "ACCEPTED"


def test_a_refused_start_releases_the_hold(client, bearer, driver, network, cpo):
    location, _, _ = network
    cpo.state.command_response = "REJECTED"
    reply = _start(client, bearer, driver, location).get_json()
    assert reply["status"] == "REJECTED"
    charge = _charge()
    assert charge.state == "released"
    assert payments.gateway().retrieve_payment(charge.payment_intent_id).status == "canceled"


def test_a_failed_result_releases_the_hold(client, bearer, driver, network):
    location, _, token = network
    _start(client, bearer, driver, location)
    command = db.session.scalars(select(EmspCommand)).one()
    _result(client, command.uid, token, "EVSE_OCCUPIED")
    got = client.get(f"{API}/commands/{command.id}", headers=bearer(driver)).get_json()
    assert got["status"] == "EVSE_OCCUPIED" and _charge().state == "released"


def test_no_result_by_the_deadline_is_shown_as_timeout(client, bearer, driver, network, cpo):
    location, _, _ = network
    cpo.state.command_timeout = 5
    _start(client, bearer, driver, location)
    command = db.session.scalars(select(EmspCommand)).one()
    assert expire_commands(utcnow()) == []
    assert expire_commands(utcnow() + timedelta(seconds=6)) == [command.id]
    got = client.get(f"{API}/commands/{command.id}", headers=bearer(driver)).get_json()
    assert got["status"] == "TIMEOUT" and _charge().state == "released"


def test_an_unreachable_cpo_fails_the_start_at_once(client, bearer, driver, network, cpo):
    location, partner, _ = network
    partner.endpoints[1].url = "http://127.0.0.1:9/ocpi/cpo/2.2.1/commands"
    db.session.flush()
    reply = _start(client, bearer, driver, location).get_json()
    assert reply["status"] == "FAILED" and _charge().state == "released"


def test_no_card_no_start(client, bearer, make_user, network, cpo):
    location, _, _ = network
    driver = make_user()
    reply = _start(client, bearer, driver, location)
    assert reply.status_code == 402
    assert cpo.received("commands") == []


def test_an_own_or_unknown_charger_is_not_a_partner_charger(
    client, bearer, driver, network, make_location
):
    own = make_location()
    assert _start(client, bearer, driver, own).status_code == 404
    reply = client.post(f"{API}/sessions", json={"evse_id": 999999}, headers=bearer(driver))
    assert reply.status_code == 404
    assert client.post(f"{API}/sessions", json={}, headers=bearer(driver)).status_code == 422


def test_a_command_result_of_another_partner_or_bad_result_is_refused(
    client, bearer, driver, network, make_partner
):
    location, _, token = network
    _start(client, bearer, driver, location)
    command = db.session.scalars(select(EmspCommand)).one()
    _, other = make_partner(roles=(("CPO", "FR", "OTH"),))
    assert _result(client, command.uid, other, "ACCEPTED").status_code == 404
    assert _result(client, command.uid, token, "MAYBE").get_json()["status_code"] == 2001
    assert _result(client, "nope", token, "ACCEPTED").status_code == 404


def _live_session(client, token, driver_uid, reference):
    body = copy.deepcopy(SESSION)
    body["cdr_token"]["uid"] = driver_uid
    body["authorization_reference"] = reference
    url = "/ocpi/emsp/2.2.1/sessions/BE/BEC/101"
    assert client.put(url, json=body, headers=token_header(token)).get_json()["status_code"] == 1000


def _driver_uid(driver) -> str:
    from app.charging.queries import tokens_of_driver

    return tokens_of_driver(driver.id)[0].uid


def test_live_session_stop_and_unlock_only_for_the_drivers_own_session(
    client,
    bearer,
    driver,
    network,
    cpo,
    make_driver_with_card,  # noqa: F811
):
    location, _, token = network
    _start(client, bearer, driver, location)
    _live_session(client, token, _driver_uid(driver), _charge().authorization_reference)
    (live,) = client.get(f"{API}/sessions", headers=bearer(driver)).get_json()
    assert (live["status"], live["kwh"], live["cost_minor"]) == ("ACTIVE", "11.5000", 303)
    assert live["network"] == "Beacon Charging" and live["duration_seconds"] > 0
    stopped = client.post(f"{API}/sessions/{live['id']}/stop", headers=bearer(driver))
    assert stopped.status_code == 202
    stop = cpo.received("commands/STOP_SESSION")[0]
    assert stop.body["session_id"] == "101"
    unlock = client.post(f"{API}/sessions/{live['id']}/unlock", headers=bearer(driver))
    assert unlock.status_code == 202
    sent = cpo.received("commands/UNLOCK_CONNECTOR")[0].body
    assert (sent["location_id"], sent["evse_uid"], sent["connector_id"]) == ("LOC1", "3256", "1")
    stranger = make_driver_with_card()
    for action in ("stop", "unlock"):
        reply = client.post(f"{API}/sessions/{live['id']}/{action}", headers=bearer(stranger))
        assert reply.status_code == 404
    assert client.get(f"{API}/sessions", headers=bearer(stranger)).get_json() == []


def test_reserve_and_cancel_a_reservation(client, bearer, driver, network, cpo):
    location, _, _ = network
    expiry = (utcnow() + timedelta(minutes=30)).isoformat()
    body = {"evse_id": location.evses[0].id, "expires_at": expiry}
    reserved = client.post(f"{API}/reservations", json=body, headers=bearer(driver)).get_json()
    sent = cpo.received("commands/RESERVE_NOW")[0].body
    assert sent["location_id"] == "LOC1" and sent["token"]["type"] == "APP_USER"
    cancelled = client.post(f"{API}/reservations/{reserved['id']}/cancel", headers=bearer(driver))
    assert cancelled.status_code == 202
    assert (
        cpo.received("commands/CANCEL_RESERVATION")[0].body["reservation_id"]
        == (sent["reservation_id"])
    )


def _post_cdr(client, token, driver, **changes):
    body = copy.deepcopy(CDR)
    body["cdr_token"]["uid"] = _driver_uid(driver)
    body.update(changes)
    body = {key: value for key, value in body.items() if value is not None}
    reply = client.post("/ocpi/emsp/2.2.1/cdrs", json=body, headers=token_header(token))
    assert reply.get_json()["status_code"] == 1000


def test_the_cdr_is_captured_with_the_roaming_fee_and_the_rest_released(
    client, bearer, driver, network
):
    location, _, token = network
    _start(client, bearer, driver, location)
    reference = _charge().authorization_reference
    _live_session(client, token, _driver_uid(driver), reference)
    _post_cdr(client, token, driver, authorization_reference=reference)
    run_emsp_jobs()
    charge = _charge()
    assert (charge.state, charge.cdr_cost_minor, charge.due_minor) == ("captured", 440, 490)
    assert charge.captured_minor == 490 and charge.extra_payment_intent_id is None
    assert payments.gateway().retrieve_payment(charge.payment_intent_id).status == "succeeded"
    (receipt,) = client.get(f"{API}/receipts", headers=bearer(driver)).get_json()
    assert (receipt["cdr_cost_minor"], receipt["fee_minor"], receipt["total_minor"]) == (
        440,
        50,
        490,
    )
    assert receipt["cdr_id"] == "12345" and receipt["network"] == "Beacon Charging"
    assert run_emsp_jobs()["billed_charges"] == []  # once per CDR


def test_a_cdr_above_the_hold_is_a_second_charge(client, bearer, driver, network, app):
    location, _, token = network
    app.config["EMSP_HOLD_MINOR"] = 300
    try:
        _start(client, bearer, driver, location)
    finally:
        app.config["EMSP_HOLD_MINOR"] = 3000
    reference = _charge().authorization_reference
    _post_cdr(client, token, driver, authorization_reference=reference)
    run_emsp_jobs()
    charge = _charge()
    assert (charge.state, charge.captured_minor) == ("captured", 490)
    extra = payments.gateway().retrieve_payment(charge.extra_payment_intent_id)
    assert (extra.status, extra.amount) == ("succeeded", 190)


def test_a_session_started_by_rfid_after_rta_is_charged_without_a_hold(
    client, bearer, driver, network
):
    _, _, token = network
    _post_cdr(client, token, driver, session_id=None)
    run_emsp_jobs()
    charge = _charge()
    assert (charge.state, charge.captured_minor, charge.payment_intent_id) == (
        "captured",
        490,
        None,
    )


def test_the_web_shows_terms_starts_and_the_live_session(
    client,
    driver,
    network,
    cpo,
    log_in,  # noqa: F811
):
    location, _, token = network
    csrf = log_in(driver)
    evse = location.evses[0]
    form = client.get(f"/roaming/start/{evse.id}").get_data(as_text=True)
    assert "30.00 EUR" in form and "0.50 EUR" in form
    started = client.post(f"/roaming/start/{evse.id}", data={"csrf_token": csrf})
    assert started.status_code == 302
    assert cpo.received("commands/START_SESSION")
    _live_session(client, token, _driver_uid(driver), _charge().authorization_reference)
    page = client.get("/roaming").get_data(as_text=True)
    assert "11.50 kWh" in page and "3.03 EUR" in page and "active" in page
    assert 'http-equiv="refresh"' in page and "Beacon Charging" in page
    live = client.get("/api/v1/roaming/sessions")  # the API needs a bearer token, not a cookie
    assert live.status_code == 401
    stop_form = page.split('action="/roaming/sessions/')[1].split("/stop")[0]
    client.post(f"/roaming/sessions/{stop_form}/stop", data={"csrf_token": csrf})
    assert cpo.received("commands/STOP_SESSION")[0].body["session_id"] == "101"


def test_the_tariff_audit_page_shows_both_amounts_to_admins_only(
    client,
    make_user,
    driver,
    network,
    log_in,  # noqa: F811
):
    _, _, token = network
    _live_session(client, token, _driver_uid(driver), "REF-RFID")
    _post_cdr(client, token, driver, id="OK-1")
    price = {"excl_vat": 5.00, "incl_vat": 5.50}
    _post_cdr(client, token, driver, total_cost=price, session_id="S-GONE")
    log_in(driver)
    assert client.get("/admin/tariff-audit").status_code == 403
    log_in(make_user(role="admin"))
    page = client.get("/admin/tariff-audit").get_data(as_text=True)
    assert (
        "12345" in page
        and "5.50 EUR" in page
        and "4.40 EUR" in page
        and "no session, price mismatch" in page
    )
    assert "OK-1" not in page


def _accepted_start(client, bearer, driver, location, token):
    _start(client, bearer, driver, location)
    command = db.session.scalars(select(EmspCommand)).one()
    _result(client, command.uid, token, "ACCEPTED")
    return _charge()


def test_an_accepted_start_that_never_starts_gives_the_hold_back_after_the_stale_time(
    client, bearer, driver, network, app
):
    location, _, token = network
    charge = _accepted_start(client, bearer, driver, location, token)
    minutes = app.config["EMSP_HOLD_STALE_MINUTES"]
    assert release_stale_holds(now=utcnow() + timedelta(minutes=minutes - 5)) == []
    assert _charge().state == "authorised"
    assert release_stale_holds(now=utcnow() + timedelta(minutes=minutes + 1)) == [charge.id]
    assert _charge().state == "released"
    assert payments.gateway().retrieve_payment(charge.payment_intent_id).status == "canceled"
    assert run_emsp_jobs()["released_holds"] == []  # once


def test_a_hold_with_a_session_is_kept_however_long_it_runs(client, bearer, driver, network, app):
    location, _, token = network
    charge = _accepted_start(client, bearer, driver, location, token)
    _live_session(client, token, _driver_uid(driver), charge.authorization_reference)
    later = utcnow() + timedelta(minutes=app.config["EMSP_HOLD_STALE_MINUTES"] * 10)
    assert release_stale_holds(now=later) == []
    assert _charge().state == "authorised"


def test_a_session_without_our_reference_also_keeps_the_hold(client, bearer, driver, network, app):
    location, _, token = network
    _accepted_start(client, bearer, driver, location, token)
    _live_session(client, token, _driver_uid(driver), None)
    later = utcnow() + timedelta(minutes=app.config["EMSP_HOLD_STALE_MINUTES"] + 1)
    assert release_stale_holds(now=later) == []


def test_a_cdr_after_the_release_is_billed_as_its_own_charge(client, bearer, driver, network, app):
    location, _, token = network
    released = _accepted_start(client, bearer, driver, location, token)
    later = utcnow() + timedelta(minutes=app.config["EMSP_HOLD_STALE_MINUTES"] + 1)
    release_stale_holds(now=later)
    _post_cdr(client, token, driver, authorization_reference=released.authorization_reference)
    run_emsp_jobs()
    charges = db.session.scalars(select(RoamingCharge).order_by(RoamingCharge.id)).all()
    assert [c.state for c in charges] == ["released", "captured"]
    billed = charges[1]
    assert (billed.captured_minor, billed.payment_intent_id) == (490, None)
    extra = payments.gateway().retrieve_payment(billed.extra_payment_intent_id)
    assert (extra.status, extra.amount) == ("succeeded", 490)
