"""Tokens Sender (eMSP): partner CPOs pull our drivers' tokens, authorise them in real time,
and hear every change by push."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.charging.services import issue_driver_token, set_driver_token_valid
from app.core.clock import utcnow
from app.extensions import db
from app.ocpi.models import Token
from app.ocpi.tasks import deliver_outbox
from app.payments.models import RoamingCharge, RoamingState, StripeCustomer
from tests.ocpi.conftest import token_header
from tests.ocpi.cpo_peer import CpoPeer

TOKENS = "/ocpi/emsp/2.2.1/tokens"
CPO = (("CPO", "BE", "BEC"),)


@pytest.fixture
def driver(make_user):
    """A driver with an APP_USER token and a saved card."""
    user = make_user()
    uid = issue_driver_token(user.id).uid
    db.session.add(
        StripeCustomer(user_id=user.id, customer_id=f"cus_{uid}", payment_method_id="pm")
    )
    db.session.flush()
    return user, uid


def _authorize(client, token, uid, body=None, token_type="APP_USER"):  # noqa: S107
    reply = client.post(
        f"{TOKENS}/{uid}/authorize?type={token_type}", json=body, headers=token_header(token)
    )
    return reply


def test_a_cpo_pulls_our_drivers_tokens_but_never_a_partners(client, make_partner, make_user):
    uids = [issue_driver_token(make_user().id).uid for _ in range(3)]
    _, emsp_token = make_partner(roles=(("EMSP", "DE", "EMS"),))
    # A token a partner eMSP pushed to us (PlugPool as CPO) is that partner's, not ours.
    client.put(
        "/ocpi/cpo/2.2.1/tokens/DE/EMS/THEIRS",
        json={
            "country_code": "DE",
            "party_id": "EMS",
            "uid": "THEIRS",
            "type": "RFID",
            "contract_id": "DE-EMS-1",
            "issuer": "EMS",
            "valid": True,
            "whitelist": "ALLOWED",
            "last_updated": "2026-01-01T00:00:00Z",
        },
        headers=token_header(emsp_token),
    )
    _, cpo_token = make_partner(roles=CPO)
    page = client.get(f"{TOKENS}?limit=2", headers=token_header(cpo_token))
    assert page.headers["X-Total-Count"] == "3" and 'rel="next"' in page.headers["Link"]
    first = page.get_json()["data"]
    rest = client.get(f"{TOKENS}?offset=2&limit=2", headers=token_header(cpo_token))
    pulled = first + rest.get_json()["data"]
    assert sorted(t["uid"] for t in pulled) == sorted(uids)
    assert {(t["country_code"], t["party_id"], t["type"]) for t in pulled} == {
        ("NL", "PLG", "APP_USER")
    }
    # An eMSP-only partner reads no tokens of ours.
    assert client.get(TOKENS, headers=token_header(emsp_token)).get_json()["data"] == []


def test_date_from_returns_only_tokens_changed_since(client, make_partner, make_user):
    old = issue_driver_token(make_user().id).uid
    later = issue_driver_token(make_user().id).uid
    stamp = utcnow() - timedelta(days=1)
    db.session.scalars(select(Token).where(Token.uid == old)).one().last_updated = stamp
    db.session.flush()
    _, token = make_partner(roles=CPO)
    since = (stamp + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    data = client.get(f"{TOKENS}?date_from={since}", headers=token_header(token)).get_json()
    assert [t["uid"] for t in data["data"]] == [later]


def test_rta_allows_a_driver_in_good_standing_with_a_reference(client, make_partner, driver):
    _, uid = driver
    _, token = make_partner(roles=CPO)
    info = _authorize(client, token, uid, {"location_id": "LOC1"}).get_json()["data"]
    assert info["allowed"] == "ALLOWED" and len(info["authorization_reference"]) >= 8
    assert info["token"]["uid"] == uid and info["location"] == {"location_id": "LOC1"}
    second = _authorize(client, token, uid).get_json()["data"]
    assert second["authorization_reference"] != info["authorization_reference"]


def test_rta_answers_blocked_expired_and_no_credit_from_the_account(client, make_partner, driver):
    user, uid = driver
    _, token = make_partner(roles=CPO)
    set_driver_token_valid(uid, False)
    blocked = _authorize(client, token, uid).get_json()["data"]
    assert blocked["allowed"] == "BLOCKED" and "authorization_reference" not in blocked
    set_driver_token_valid(uid, True)
    charge = RoamingCharge(
        driver_id=user.id,
        authorization_reference="REF-UNPAID",
        currency="EUR",
        state=RoamingState.CAPTURE_FAILED.value,
    )
    db.session.add(charge)
    db.session.flush()
    assert _authorize(client, token, uid).get_json()["data"]["allowed"] == "NO_CREDIT"
    charge.state = RoamingState.CAPTURED.value
    db.session.scalars(select(StripeCustomer)).one().payment_method_id = None
    db.session.flush()
    assert _authorize(client, token, uid).get_json()["data"]["allowed"] == "NO_CREDIT"
    user.active = False
    db.session.flush()
    assert _authorize(client, token, uid).get_json()["data"]["allowed"] == "EXPIRED"


def test_rta_refuses_a_hidden_location_or_an_evse_it_does_not_have(
    client, make_partner, make_party, make_location, driver
):
    _, uid = driver
    party = make_party(country_code="BE", party_id="BEC")
    location = make_location(country_code=party.country_code, party_id=party.party_id)
    _, token = make_partner(roles=CPO)
    evse = location.evses[0].uid
    ok = {"location_id": location.ocpi_id, "evse_uids": [evse]}
    assert _authorize(client, token, uid, ok).get_json()["data"]["allowed"] == "ALLOWED"
    wrong = {"location_id": location.ocpi_id, "evse_uids": ["NOT-THERE"]}
    assert _authorize(client, token, uid, wrong).get_json()["data"]["allowed"] == "NOT_ALLOWED"
    location.publish = False
    db.session.flush()
    assert _authorize(client, token, uid, ok).get_json()["data"]["allowed"] == "NOT_ALLOWED"


def test_rta_of_an_unknown_or_foreign_token_is_2004(client, make_partner, driver):
    _, uid = driver
    _, token = make_partner(roles=CPO)
    unknown = _authorize(client, token, "NOPE")
    assert (unknown.status_code, unknown.get_json()["status_code"]) == (404, 2004)
    rfid = _authorize(client, token, uid, token_type="RFID")
    assert rfid.get_json()["status_code"] == 2004, rfid.get_json()
    _, emsp = make_partner(roles=(("EMSP", "DE", "EMS"),))
    assert _authorize(client, emsp, uid).get_json()["status_code"] == 2004
    bad = _authorize(client, token, uid, {"evse_uids": ["x"]})
    assert bad.get_json()["status_code"] == 2001
    assert _authorize(client, token, uid, token_type="BOGUS").get_json()["status_code"] == 2001


def test_every_token_change_is_pushed_to_each_partner_cpo(db, make_partner, make_user):
    with CpoPeer() as cpo, CpoPeer() as other:
        for peer, party in ((cpo, "BEC"), (other, "OTH")):
            partner, _ = make_partner(roles=(("CPO", "BE", party),), endpoints=peer.endpoints())
            peer.state.tokens_accepted.add(partner.token_out)
        make_partner(roles=(("EMSP", "DE", "EMS"),))  # no tokens receiver: not called
        uid = issue_driver_token(make_user().id).uid
        deliver_outbox(50)
        key = f"{uid}:APP_USER"
        for peer, party in ((cpo, "BEC"), (other, "OTH")):
            assert peer.state.tokens[key]["valid"] is True
            assert peer.state.tokens[key]["party_id"] == "PLG"
            put = peer.received("tokens", "PUT")[0]
            assert put.path.endswith(f"/tokens/NL/PLG/{uid}?type=APP_USER")
            assert put.headers["OCPI-to-party-id"] == party
        set_driver_token_valid(uid, False)
        deliver_outbox(50)
        assert cpo.state.tokens[key]["valid"] is False
        assert [r.method for r in cpo.received("tokens")] == ["PUT", "PATCH"]
        # A partner that lost the token gets it whole again.
        other.state.tokens.clear()
        set_driver_token_valid(uid, True)
        deliver_outbox(50)
        assert other.state.tokens[key]["valid"] is True
        assert [r.method for r in other.received("tokens")] == ["PUT", "PATCH", "PATCH", "PUT"]


def test_a_registered_rfid_card_and_its_removal_are_pushed(db, make_partner, make_user):
    from app.charging import tokens

    with CpoPeer() as cpo:
        partner, _ = make_partner(roles=CPO, endpoints=cpo.endpoints())
        cpo.state.tokens_accepted.add(partner.token_out)
        driver = make_user()
        tokens.add_card(driver.id, "04:A2:B3:C4")
        deliver_outbox(50)
        key = "04A2B3C4:RFID"
        assert cpo.state.tokens[key]["valid"] is True
        assert cpo.state.tokens[key]["type"] == "RFID"
        tokens.remove_card(driver.id, "04A2B3C4")
        deliver_outbox(50)
        assert cpo.state.tokens[key]["valid"] is False
        assert [r.method for r in cpo.received("tokens")] == ["PUT", "PATCH"]
