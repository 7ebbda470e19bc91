"""PlugPool behind another hub: the parties the hub reports (hubclientinfo) and our own rules."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.ocpi.hubparty.models import HubParty
from app.ocpi.models import Token
from tests.ocpi.conftest import token_header
from tests.ocpi.test_tokens_receiver import token_body

HUB = (("HUB", "DE", "HUB"),)


def client_info(country_code: str, party_id: str, status: str, role: str = "EMSP") -> dict:
    return {
        "party_id": party_id,
        "country_code": country_code,
        "role": role,
        "status": status,
        "last_updated": "2030-01-01T00:00:00Z",
    }


def put_info(client, token, country_code, party_id, status, **extra):
    body = {**client_info(country_code, party_id, status), **extra}
    url = f"/ocpi/2.2.1/hubclientinfo/{country_code}/{party_id}"
    return client.put(url, json=body, headers=token_header(token))


def put_token(client, token, country_code="NL", party_id="EMP", uid="HUBTOKEN1"):
    url = f"/ocpi/cpo/2.2.1/tokens/{country_code}/{party_id}/{uid}"
    body = token_body(country_code=country_code, party_id=party_id, uid=uid)
    return client.put(url, json=body, headers=token_header(token))


def stored_tokens() -> list[tuple[str, str, str]]:
    return [(t.country_code, t.party_id, t.uid) for t in db.session.scalars(select(Token))]


def test_hub_pushes_client_info_and_a_connected_party_behind_it_pushes_a_token(
    client, make_partner
):
    hub, token = make_partner(roles=HUB)
    reply = put_info(client, token, "NL", "EMP", "CONNECTED", extra_field=None)
    assert reply.get_json()["status_code"] == 1000
    row = db.session.scalar(select(HubParty).where(HubParty.partner_id == hub.id))
    assert (row.country_code, row.party_id, row.role, row.status) == (
        "NL",
        "EMP",
        "EMSP",
        "CONNECTED",
    )
    reply = put_token(client, token)
    assert reply.get_json()["status_code"] == 1000
    assert stored_tokens() == [("NL", "EMP", "HUBTOKEN1")]


@pytest.mark.parametrize("status", ["SUSPENDED", "OFFLINE", "PLANNED"])
def test_a_party_the_hub_reports_not_connected_is_refused_and_nothing_is_written(
    client, make_partner, status
):
    _, token = make_partner(roles=HUB)
    assert put_info(client, token, "NL", "EMP", status).get_json()["status_code"] == 1000
    reply = put_token(client, token)
    assert reply.get_json()["status_code"] == 2000
    assert "is not yours" in reply.get_json()["status_message"]
    assert stored_tokens() == []


def test_once_the_list_is_known_a_party_missing_from_it_is_refused(client, make_partner):
    _, token = make_partner(roles=HUB)
    put_info(client, token, "NL", "EMP", "CONNECTED")
    assert put_token(client, token, "FR", "OTH").get_json()["status_code"] == 2000
    assert put_token(client, token, "NL", "EMP").get_json()["status_code"] == 1000
    assert stored_tokens() == [("NL", "EMP", "HUBTOKEN1")]


def test_a_later_status_change_takes_effect(client, make_partner):
    _, token = make_partner(roles=HUB)
    put_info(client, token, "NL", "EMP", "CONNECTED")
    body = {**client_info("NL", "EMP", "SUSPENDED"), "last_updated": "2030-01-02T00:00:00Z"}
    client.put("/ocpi/2.2.1/hubclientinfo/NL/EMP", json=body, headers=token_header(token))
    assert put_token(client, token).get_json()["status_code"] == 2000


@pytest.mark.parametrize("rules", [{"deny": ["NL*EMP"]}, {"allow": ["FR*OTH"]}])
def test_a_party_refused_by_the_per_hub_rules_is_refused_even_when_connected(
    app, client, make_partner, rules
):
    hub, token = make_partner(roles=HUB)
    put_info(client, token, "NL", "EMP", "CONNECTED")
    app.config["OCPI_HUB_PARTY_RULES"] = {hub.name: rules}
    try:
        reply = put_token(client, token)
    finally:
        app.config["OCPI_HUB_PARTY_RULES"] = {}
    assert reply.get_json()["status_code"] == 2000
    assert stored_tokens() == []


def test_client_info_from_a_partner_that_is_not_a_hub_is_refused(client, make_partner):
    partner, token = make_partner()
    reply = put_info(client, token, "NL", "EMP", "CONNECTED")
    assert reply.status_code == 401
    assert db.session.scalar(select(HubParty).where(HubParty.partner_id == partner.id)) is None


def test_client_info_for_another_party_than_the_url_is_2001(client, make_partner):
    _, token = make_partner(roles=HUB)
    body = client_info("FR", "OTH", "CONNECTED")
    reply = client.put("/ocpi/2.2.1/hubclientinfo/NL/EMP", json=body, headers=token_header(token))
    assert reply.get_json()["status_code"] == 2001
    assert db.session.scalar(select(HubParty)) is None


def _hub_with_receivers(make_partner, peer):
    base = f"{peer.state.base}/emsp/2.2.1"
    hub, token = make_partner(
        roles=HUB,
        endpoints=(
            ("sessions", "RECEIVER", f"{base}/sessions"),
            ("cdrs", "RECEIVER", f"{base}/cdrs"),
        ),
    )
    peer.state.tokens_accepted.add(hub.token_out)
    return hub, token


@pytest.mark.parametrize("status", ["OFFLINE", "SUSPENDED"])
def test_sessions_and_cdrs_are_not_pushed_to_a_party_the_hub_reports_offline_or_suspended(
    client, make_partner, make_session, peer, status
):
    from app.ocpi.tasks import deliver_outbox

    _, token = _hub_with_receivers(make_partner, peer)
    put_info(client, token, "DE", "EMS", status)
    make_session()  # DE*EMS's driver; ended, so a CDR event too
    deliver_outbox(10)
    assert peer.received("sessions") == [] and peer.received("cdrs") == []
    # Not queued (one attempt per push), but the operator sees why it did not go.
    from app.core.outbox import OutboxEvent

    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic.like("%.%"))).all()
    notes = [e.last_error for e in events if e.topic in ("session.changed", "cdr.created")]
    assert notes and all(f"DE*EMS {status}, not pushed" in note for note in notes)


def test_sessions_and_cdrs_go_through_the_hub_addressed_to_the_tokens_party(
    client, make_partner, make_session, peer
):
    from app.ocpi.tasks import deliver_outbox

    _, token = _hub_with_receivers(make_partner, peer)
    put_info(client, token, "DE", "EMS", "CONNECTED")
    make_session()
    assert deliver_outbox(10) >= 1
    sent = peer.received("cdrs", "POST")
    assert len(sent) == 1
    headers = sent[0].headers
    assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("DE", "EMS")
    assert (headers["OCPI-from-country-code"], headers["OCPI-from-party-id"]) == ("NL", "PLG")


@pytest.mark.parametrize(("country_code", "party_id"), [("FR", "OTH"), ("NL", "XYZ"), ("", "PLG")])
def test_a_request_addressed_to_another_party_is_2001_and_nothing_is_done(
    client, make_partner, country_code, party_id
):
    _, token = make_partner(roles=HUB)
    put_info(client, token, "NL", "EMP", "CONNECTED")
    headers = {
        **token_header(token),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMP",
        "OCPI-to-country-code": country_code,
        "OCPI-to-party-id": party_id,
    }
    body = token_body(country_code="NL", party_id="EMP", uid="HUBTOKEN1")
    reply = client.put("/ocpi/cpo/2.2.1/tokens/NL/EMP/HUBTOKEN1", json=body, headers=headers)
    assert reply.get_json()["status_code"] == 2001
    assert "is not a party of this platform" in reply.get_json()["status_message"]
    assert stored_tokens() == []


def test_a_request_addressed_to_plugpool_is_served_and_the_answer_mirrors_the_routing(
    client, make_partner
):
    _, token = make_partner(roles=HUB)
    put_info(client, token, "NL", "EMP", "CONNECTED")
    headers = {
        **token_header(token),
        "OCPI-from-country-code": "NL",
        "OCPI-from-party-id": "EMP",
        "OCPI-to-country-code": "nl",
        "OCPI-to-party-id": "plg",
    }
    body = token_body(country_code="NL", party_id="EMP", uid="HUBTOKEN1")
    reply = client.put("/ocpi/cpo/2.2.1/tokens/NL/EMP/HUBTOKEN1", json=body, headers=headers)
    assert reply.get_json()["status_code"] == 1000
    assert reply.headers["OCPI-to-country-code"] == "NL"
    assert reply.headers["OCPI-to-party-id"] == "EMP"
    assert reply.headers["OCPI-from-party-id"].upper() == "PLG"
    assert stored_tokens() == [("NL", "EMP", "HUBTOKEN1")]
