"""Hub routing: forwarding by OCPI-to, the 4xxx codes, and the routing rules.

The hub is the app under test (in-process); every party is a recording server on a real
port, so each test can assert what reached a party, and that nothing did where it must not.
"""

from __future__ import annotations

import json

from sqlalchemy import select, text

from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.hub import rules, status
from app.ocpi.hub.delivery import TOPIC
from app.ocpi.hub.models import ConnectionStatus, HubMember, HubMessage
from tests.ocpi.conftest import token_header
from tests.ocpi.hub.conftest import hub_headers

HUB = "/ocpi/hub"


def _get(client, token, sender, to, path="2.2.1/sender/locations/LOC1", **kwargs):
    return client.get(f"{HUB}/{path}", headers=hub_headers(token, sender, to), **kwargs)


def test_request_is_forwarded_with_new_request_id_same_correlation_and_routing_headers(
    client, make_party
):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.data = {"id": "LOC1", "country_code": "NL", "party_id": "CPA"}
    headers = hub_headers(token, emsp, cpo)
    reply = client.get(f"{HUB}/2.2.1/sender/locations/LOC1", headers=headers)
    body = reply.get_json()
    assert reply.status_code == 200 and body["status_code"] == 1000
    assert body["data"]["id"] == "LOC1"
    (got,) = cpo_server.received
    assert got.method == "GET" and got.path == "/ocpi/sender/2.2.1/locations/LOC1"
    assert got.token == "to-CPA"
    assert got.headers["X-Request-ID"] != headers["X-Request-ID"]
    assert got.headers["X-Correlation-ID"] == headers["X-Correlation-ID"]
    assert (got.headers["OCPI-from-country-code"], got.headers["OCPI-from-party-id"]) == (
        "DE",
        "EMS",
    )
    assert (got.headers["OCPI-to-country-code"], got.headers["OCPI-to-party-id"]) == ("NL", "CPA")
    assert reply.headers["X-Request-ID"] == headers["X-Request-ID"]
    assert (reply.headers["OCPI-from-party-id"], reply.headers["OCPI-to-party-id"]) == (
        "CPA",
        "EMS",
    )


def test_forwarded_body_is_byte_for_byte_the_senders(client, make_party):
    cpo, token, _ = make_party(role="CPO", party_id="CPA")
    emsp, _, emsp_server = make_party(role="EMSP", country_code="DE", party_id="EMS")
    raw = b'{"id": "S1", "kwh": 1.50, "last_updated": "2026-01-01T10:00:00.123Z", "x": null}'
    reply = client.put(
        f"{HUB}/2.2.1/receiver/sessions/NL/CPA/S1",
        data=raw,
        content_type="application/json",
        headers=hub_headers(token, cpo, emsp),
    )
    assert reply.get_json()["status_code"] == 1000
    (got,) = emsp_server.received
    assert got.raw == raw and got.path == "/ocpi/receiver/2.2.1/sessions/NL/CPA/S1"


def test_unknown_receiver_is_4001_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    _, _, cpo_server = make_party(role="CPO", party_id="CPA")
    reply = _get(client, token, emsp, ("XX", "NOP"))
    assert reply.status_code == 200 and reply.get_json()["status_code"] == 4001
    assert cpo_server.received == []


def test_receiver_that_does_not_answer_in_time_is_4002(client, make_party, app, monkeypatch):
    monkeypatch.setitem(app.config, "HUB_FORWARD_TIMEOUT", 0.3)
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.delay = 1.0
    reply = _get(client, token, emsp, cpo)
    assert reply.get_json()["status_code"] == 4002
    assert len(cpo_server.received) == 1  # a timeout is never resent


def test_get_over_a_keepalive_connection_the_receiver_just_closed_is_resent_once(
    client, make_party
):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    cpo_server.drop = "reused"  # the hub's pooled connection is closed as it is reused
    reply = _get(client, token, emsp, cpo)
    assert reply.get_json()["status_code"] == 1000
    assert cpo_server.dropped == 1 and len(cpo_server.calls("/locations/LOC1")) == 2
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.CONNECTED
    assert not db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)).all()


def test_receiver_that_drops_every_connection_is_4003_after_one_resend(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.drop = "always"
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4003
    assert cpo_server.dropped == 2 and cpo_server.received == []
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.OFFLINE


def test_post_over_a_dropped_connection_is_never_resent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    cpo_server.drop = "reused"
    command = {"response_url": "https://emsp.example/cb/1", "token": {"uid": "U1"}}
    reply = client.post(
        f"{HUB}/2.2.1/receiver/commands/START_SESSION",
        json={**command, "location_id": "LOC1"},
        headers=hub_headers(token, emsp, cpo),
    )
    # The receiver may have acted on a POST: it is not sent twice.
    assert reply.get_json()["status_code"] == 4003
    assert cpo_server.dropped == 1 and cpo_server.calls("commands") == []


def test_a_post_after_the_receiver_closed_the_idle_connection_goes_on_a_new_one(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.drop = "idle"
    cpo_server.data = {"result": "ACCEPTED", "timeout": 30}
    command = {"response_url": "https://emsp.example/cb/1", "token": {"uid": "U1"}}
    for _ in range(2):
        reply = client.post(
            f"{HUB}/2.2.1/receiver/commands/START_SESSION",
            json=command,
            headers=hub_headers(token, emsp, cpo),
        )
        assert reply.get_json()["status_code"] == 1000
    assert len(cpo_server.calls("commands")) == 2
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.CONNECTED


def test_unreachable_receiver_is_4003_goes_offline_and_others_hear_of_it(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    other, _, _ = make_party(role="EMSP", party_id="OTH")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.stop()
    reply = _get(client, token, emsp, cpo)
    assert reply.get_json()["status_code"] == 4003
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.OFFLINE
    pushes = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)).all()
    assert {p.payload["partner_id"] for p in pushes} == {emsp.id, other.id}
    info = json.loads(pushes[0].payload["body"])
    assert (info["party_id"], info["role"], info["status"]) == ("CPA", "CPO", "OFFLINE")
    assert pushes[0].payload["url"].endswith("/hubclientinfo/NL/CPA")


def test_offline_receiver_is_4003_without_a_call(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA", status=ConnectionStatus.OFFLINE)
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4003
    assert cpo_server.received == []


def test_receiver_without_the_module_is_4004_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA", modules=("locations",))
    reply = _get(client, token, emsp, cpo, path="2.2.1/sender/tariffs")
    assert reply.get_json()["status_code"] == 4004
    assert cpo_server.received == []


def test_deny_list_of_the_sender_refuses_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    rules.add_rule(emsp, "deny", "NL*CPA")
    reply = _get(client, token, emsp, cpo)
    assert reply.status_code == 200 and reply.get_json()["status_code"] == 4000
    assert cpo_server.received == []


def test_deny_list_of_the_receiver_refuses_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    rules.add_rule(cpo, "deny", "DE*EMS")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4000
    assert cpo_server.received == []


def test_allow_list_lets_only_the_listed_parties_through(client, make_party):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    listed, _, listed_server = make_party(role="CPO", party_id="CPA")
    other, _, other_server = make_party(role="CPO", party_id="CPB")
    rules.add_rule(emsp, "allow", "NL*CPA")
    assert _get(client, token, emsp, listed).get_json()["status_code"] == 1000
    assert _get(client, token, emsp, other).get_json()["status_code"] == 4000
    assert len(listed_server.received) == 1 and other_server.received == []


def test_removing_a_rule_lets_the_pair_talk_again(client, make_party):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    rules.add_rule(emsp, "deny", "NL*CPA")
    rules.remove_rules(emsp, "NL*CPA")
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000
    assert len(cpo_server.received) == 1


def test_suspended_receiver_is_4003_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    status.suspend(cpo)
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4003
    assert cpo_server.received == []
    status.resume(cpo)
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 1000


def test_suspended_sender_is_refused_and_nothing_is_sent(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    status.suspend(emsp)
    assert _get(client, token, emsp, cpo).get_json()["status_code"] == 4000
    assert cpo_server.received == []


def test_from_header_naming_a_party_the_sender_does_not_hold_is_refused(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    headers = {**hub_headers(token, emsp, cpo), "OCPI-from-party-id": "CPA"}
    reply = client.get(f"{HUB}/2.2.1/sender/locations/LOC1", headers=headers)
    assert reply.get_json()["status_code"] == 2001
    assert cpo_server.received == []


def test_command_response_url_is_a_hub_url_that_routes_the_result_back(client, make_party):
    emsp, emsp_token, emsp_server = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, cpo_token, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.data = {"result": "ACCEPTED", "timeout": 30}
    original = emsp_server.url("commands/START_SESSION/42")
    command = {"response_url": original, "token": {"uid": "U1"}, "location_id": "LOC1"}
    reply = client.post(
        f"{HUB}/2.2.1/receiver/commands/START_SESSION",
        json=command,
        headers=hub_headers(emsp_token, emsp, cpo),
    )
    assert reply.get_json()["data"]["result"] == "ACCEPTED"
    (got,) = cpo_server.received
    sent = got.body
    assert sent["response_url"].startswith("http://localhost/ocpi/hub/2.2.1/callback/")
    assert {k: v for k, v in sent.items() if k != "response_url"} == {
        k: v for k, v in command.items() if k != "response_url"
    }
    callback = sent["response_url"].removeprefix("http://localhost")
    callback_headers = hub_headers(cpo_token, cpo, emsp)
    result = client.post(callback, json={"result": "ACCEPTED"}, headers=callback_headers)
    assert result.get_json()["status_code"] == 1000
    (delivered,) = emsp_server.received
    assert delivered.path == "/ocpi/commands/START_SESSION/42"
    assert delivered.body == {"result": "ACCEPTED"}
    assert delivered.headers["X-Correlation-ID"] == callback_headers["X-Correlation-ID"]
    assert delivered.token == "to-EMS"
    # Only the party that received the command may post its result there.
    stranger = client.post(
        callback, json={"result": "FAILED"}, headers=hub_headers(emsp_token, emsp, cpo)
    )
    assert stranger.status_code == 404 and len(emsp_server.received) == 1


def test_link_of_a_forwarded_page_is_a_hub_url_that_gets_the_next_page(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.data = [{"id": "LOC1"}]
    next_url = cpo_server.url("sender/2.2.1/locations?offset=1&limit=1")
    cpo_server.headers = {"Link": f'<{next_url}>; rel="next"', "X-Total-Count": "2", "X-Limit": "1"}
    reply = _get(client, token, emsp, cpo, path="2.2.1/sender/locations")
    assert reply.headers["X-Total-Count"] == "2" and reply.headers["X-Limit"] == "1"
    link = reply.headers["Link"]
    assert link.startswith("<http://localhost/ocpi/hub/2.2.1/page/") and link.endswith(
        '>; rel="next"'
    )
    hub_url = link[1 : link.index(">")].removeprefix("http://localhost")
    cpo_server.headers = {"X-Total-Count": "2"}
    cpo_server.data = [{"id": "LOC2"}]
    second = client.get(hub_url, headers=hub_headers(token, emsp, cpo))
    assert second.get_json()["data"] == [{"id": "LOC2"}]
    assert cpo_server.received[-1].path == "/ocpi/sender/2.2.1/locations?offset=1&limit=1"


def test_every_routed_message_is_logged_as_metadata_only(client, make_party):
    emsp, token, _ = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    headers = hub_headers(token, emsp, cpo)
    client.get(f"{HUB}/2.2.1/sender/locations/LOC1", headers=headers)
    _get(client, token, emsp, ("XX", "NOP"))
    logged = db.session.scalars(select(HubMessage).order_by(HubMessage.id)).all()
    assert [(m.status_code, m.to_party) for m in logged] == [(1000, "NLCPA"), (4001, "XXNOP")]
    first = logged[0]
    assert first.correlation_id == headers["X-Correlation-ID"]
    assert first.request_id == headers["X-Request-ID"] and first.forwarded_request_id
    assert (first.sender_partner_id, first.receiver_partner_id) == (emsp.id, cpo.id)


def test_hub_party_token_opens_only_the_hub_and_partner_token_only_the_rest(
    client, make_party, make_partner
):
    _, hub_token, _ = make_party(role="EMSP", party_id="EMS")
    _, direct_token = make_partner()
    assert client.get("/ocpi/versions", headers=token_header(hub_token)).status_code == 401
    assert client.get(f"{HUB}/versions", headers=token_header(direct_token)).status_code == 401
    assert client.get(f"{HUB}/versions", headers=token_header(hub_token)).status_code == 200


def test_charging_profile_response_url_in_the_query_is_a_hub_url_too(client, make_party):
    scsp, token, scsp_server = make_party(role="EMSP", country_code="DE", party_id="EMS")
    cpo, cpo_token, cpo_server = make_party(
        role="CPO", party_id="CPA", modules=("chargingprofiles",)
    )
    cpo_server.data = {"result": "ACCEPTED", "timeout": 30}
    original = scsp_server.url("chargingprofiles/S1/result")
    reply = client.delete(
        f"{HUB}/2.2.1/receiver/chargingprofiles/S1",
        query_string={"response_url": original},
        headers=hub_headers(token, scsp, cpo),
    )
    assert reply.get_json().get("data") == {"result": "ACCEPTED", "timeout": 30}, reply.get_json()
    (got,) = cpo_server.received
    path, _, query = got.path.partition("?")
    assert path == "/ocpi/receiver/2.2.1/chargingprofiles/S1"
    assert "response_url=http%3A%2F%2Flocalhost%2Focpi%2Fhub%2F2.2.1%2Fcallback%2F" in query
    callback = "/ocpi/hub/2.2.1/callback/" + query.split("callback%2F")[1].split("&")[0]
    result = {"result": "ACCEPTED"}
    client.post(callback, json=result, headers=hub_headers(cpo_token, cpo, scsp))
    (delivered,) = scsp_server.received
    assert delivered.path == "/ocpi/chargingprofiles/S1/result" and delivered.body == result


def test_a_result_the_sender_cannot_take_is_4003_and_the_sender_goes_offline(client, make_party):
    emsp, emsp_token, emsp_server = make_party(role="EMSP", party_id="EMS")
    cpo, cpo_token, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.data = {"result": "ACCEPTED", "timeout": 30}
    command = {"response_url": emsp_server.url("commands/STOP_SESSION/1"), "session_id": "S1"}
    client.post(
        f"{HUB}/2.2.1/receiver/commands/STOP_SESSION",
        json=command,
        headers=hub_headers(emsp_token, emsp, cpo),
    )
    callback = cpo_server.received[0].body["response_url"].removeprefix("http://localhost")
    emsp_server.stop()
    reply = client.post(
        callback, json={"result": "ACCEPTED"}, headers=hub_headers(cpo_token, cpo, emsp)
    )
    assert reply.get_json()["status_code"] == 4003
    assert db.session.get(HubMember, emsp.id).status == ConnectionStatus.OFFLINE


def _synchronous_commit() -> str:
    # The test's outer transaction outlives the request's (a savepoint): its SET LOCAL shows.
    return db.session.execute(text("SHOW synchronous_commit")).scalar_one()


def test_a_forward_that_hands_out_a_hub_url_commits_durably(client, make_party):
    emsp, token, _ = make_party(role="EMSP", party_id="EMS")
    cpo, _, cpo_server = make_party(role="CPO", party_id="CPA")
    cpo_server.data = {"result": "ACCEPTED", "timeout": 30}
    command = {"response_url": "https://emsp.example/cb/1", "token": {"uid": "U1"}}
    reply = client.post(
        f"{HUB}/2.2.1/receiver/commands/START_SESSION",
        json=command,
        headers=hub_headers(token, emsp, cpo),
    )
    assert reply.get_json()["data"]["result"] == "ACCEPTED"
    assert _synchronous_commit() == "on"
    assert len(db.session.scalars(select(HubMessage)).all()) == 1
