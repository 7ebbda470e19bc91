"""hubclientinfo: the paged list, ClientInfo pushes on status changes, the still-alive check."""

from __future__ import annotations

from sqlalchemy import select

from app.core.outbox import OutboxEvent
from app.extensions import db
from app.ocpi.hub import rules, status
from app.ocpi.hub.clientinfo import check_members
from app.ocpi.hub.delivery import TOPIC, deliver_all
from app.ocpi.hub.models import ConnectionStatus, HubMember
from tests.ocpi.conftest import token_header


def _pushes():
    return db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == TOPIC)).all()


def test_client_info_list_is_paged_and_leaves_out_the_caller_and_refused_parties(
    client, make_party
):
    _, token, _ = make_party(role="EMSP", party_id="EMA")
    make_party(role="CPO", party_id="CPA")
    make_party(role="CPO", party_id="CPB", status=ConnectionStatus.OFFLINE)
    hidden, _, _ = make_party(role="CPO", party_id="CPC")
    rules.add_rule(hidden, "deny", "NL*EMA")
    reply = client.get("/ocpi/hub/2.2.1/hubclientinfo?limit=1", headers=token_header(token))
    body = reply.get_json()
    assert body["status_code"] == 1000 and reply.headers["X-Total-Count"] == "2"
    assert len(body["data"]) == 1 and set(body["data"][0]) == {
        "party_id",
        "country_code",
        "role",
        "status",
        "last_updated",
    }
    assert "offset=1" in reply.headers["Link"]
    everything = client.get("/ocpi/hub/2.2.1/hubclientinfo", headers=token_header(token)).get_json()
    assert {(i["party_id"], i["status"]) for i in everything["data"]} == {
        ("CPA", "CONNECTED"),
        ("CPB", "OFFLINE"),
    }
    # hubclientinfo is a configuration module: no routing headers.
    assert "OCPI-from-party-id" not in reply.headers


def test_suspension_and_resumption_are_pushed_to_every_other_connected_party(client, make_party):
    cpo, _, _ = make_party(role="CPO", party_id="CPA")
    _, _, emsp = make_party(role="EMSP", country_code="DE", party_id="EMA")
    _, _, offline = make_party(role="EMSP", party_id="OFF", status=ConnectionStatus.OFFLINE)
    _, _, no_module = make_party(role="EMSP", party_id="NOM", modules=("locations",))
    status.suspend(cpo)
    status.resume(cpo)
    deliver_all()
    # Each ClientInfo carries last_updated, by which the receiver orders what it got.
    pushed = sorted(emsp.received, key=lambda r: r.body["last_updated"])
    assert [r.body["status"] for r in pushed] == ["SUSPENDED", "CONNECTED"]
    got = pushed[0]
    assert got.method == "PUT" and got.path == "/ocpi/receiver/2.2.1/hubclientinfo/NL/CPA"
    assert got.body["role"] == "CPO" and got.body["party_id"] == "CPA"
    assert (got.headers["OCPI-from-party-id"], got.headers["OCPI-to-party-id"]) == ("HUB", "EMA")
    assert offline.received == [] and no_module.received == []


def test_still_alive_check_finds_a_party_offline_and_back(client, make_party):
    cpo, _, server = make_party(role="CPO", party_id="CPA")
    make_party(role="EMSP", party_id="EMA")
    server.stop()
    assert check_members()["offline"] == 1
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.OFFLINE
    assert [p.payload["body"] for p in _pushes() if '"OFFLINE"' in p.payload["body"]]


def test_a_party_calling_again_is_connected_again(client, make_party):
    cpo, token, _ = make_party(role="CPO", party_id="CPA", status=ConnectionStatus.OFFLINE)
    client.get("/ocpi/hub/2.2.1/hubclientinfo", headers=token_header(token))
    assert db.session.get(HubMember, cpo.id).status == ConnectionStatus.CONNECTED


def test_each_caller_gets_its_own_list_after_another_party_called(client, make_party):
    _, token_a, _ = make_party(role="EMSP", party_id="EMA")
    _, token_b, _ = make_party(role="CPO", party_id="CPB")
    # A's call through the full token lookup (versions), then B's through the routing table.
    assert client.get("/ocpi/hub/versions", headers=token_header(token_a)).status_code == 200
    for token, other in ((token_b, "EMA"), (token_a, "CPB")):
        reply = client.get("/ocpi/hub/2.2.1/hubclientinfo", headers=token_header(token))
        assert [info["party_id"] for info in reply.get_json()["data"]] == [other]
