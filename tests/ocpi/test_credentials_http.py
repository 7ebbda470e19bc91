"""Credentials over real HTTP: handshakes both ways, rotation, unregistration, TOKEN_A scope."""

from __future__ import annotations

import base64

from sqlalchemy import select

from app.extensions import db
from app.ocpi.credentials import services
from app.ocpi.models import OcpiPartner, PartnerStatus


def _partner_add(plugpool, name="emsp"):
    result = plugpool.app.test_cli_runner().invoke(args=["ocpi", "partner-add", name])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    return lines["versions URL"], lines["TOKEN_A"]


def test_partner_registers_with_token_a_and_receives_token_c(plugpool, peer):
    versions_url, token_a = _partner_add(plugpool)
    assert versions_url == plugpool.versions_url

    answer = peer.register_with(versions_url, token_a)

    assert answer["http"] == 200 and answer["status_code"] == 1000
    token_c = answer["data"]["token"]
    assert token_c != token_a
    assert answer["data"]["roles"][0]["role"] == "CPO"
    # We called the peer back with its TOKEN_B, Base64-encoded, on versions and details.
    callbacks = [r for r in peer.state.requests if r.method == "GET"]
    assert [r.path for r in callbacks] == ["/ocpi/versions", "/ocpi/2.2.1"]
    sent = base64.b64decode(callbacks[0].headers["Authorization"].split()[1]).decode()
    assert sent.startswith("peer-b-")
    # TOKEN_A is dead; TOKEN_C works on a functional module.
    assert peer.call("GET", versions_url, token_a).status_code == 401
    reply = peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_c)
    assert reply.status_code == 200 and reply.json()["status_code"] == 1000
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.REGISTERED
        assert partner.holds("DE", "EMS", frozenset({"EMSP"}))
        assert partner.endpoint("tokens", "SENDER").endswith("/emsp/2.2.1/tokens")
        assert partner.token_a_digest is None


def test_token_a_is_refused_outside_credentials_and_versions(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    assert peer.call("GET", plugpool.versions_url, token_a).status_code == 200
    assert peer.call("GET", plugpool.url("2.3.0"), token_a).status_code == 200
    for path in ("cpo/2.2.1/locations", "cpo/2.2.1/tariffs", "cpo/2.2.1/tokens/DE/EMS/X"):
        reply = peer.call("GET", plugpool.url(path), token_a)
        assert reply.status_code == 401
        assert reply.json()["status_code"] == 2000
    command = peer.call("POST", plugpool.url("cpo/2.3.0/commands/START_SESSION"), token_a, json={})
    assert command.status_code == 401


def test_registration_fails_with_3001_when_the_partner_cannot_be_called_back(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    peer.state.down = True
    credentials = peer.credentials("peer-b-unreachable")
    reply = peer.call("POST", plugpool.url("2.2.1/credentials"), token_a, json=credentials)
    assert reply.status_code == 200 and reply.json()["status_code"] == 3001
    # Nothing was registered: TOKEN_A still works, the partner is still pending.
    peer.state.down = False
    assert peer.call("GET", plugpool.versions_url, token_a).status_code == 200


def test_registration_on_a_version_the_partner_lacks_is_3002(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    token_b = "peer-b-version"
    peer.state.tokens_accepted.add(token_b)
    credentials = peer.credentials(token_b)
    reply = peer.call("POST", plugpool.url("2.3.0/credentials"), token_a, json=credentials)
    assert reply.json()["status_code"] == 3002


def test_registration_without_a_common_module_is_3003(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    peer.state.credentials_only = True
    token_b = "peer-b-minimal"
    peer.state.tokens_accepted.add(token_b)
    credentials = peer.credentials(token_b)
    reply = peer.call("POST", plugpool.url("2.2.1/credentials"), token_a, json=credentials)
    assert reply.status_code == 200 and reply.json()["status_code"] == 3003
    assert peer.call("GET", plugpool.versions_url, token_a).status_code == 200


def test_put_rotates_the_token_and_delete_unregisters(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    token_c = peer.register_with(plugpool.versions_url, token_a)["data"]["token"]
    credentials_url = plugpool.url("2.2.1/credentials")
    # POST again once registered: 405.
    again = peer.call("POST", credentials_url, token_c, json=peer.credentials("peer-b-x"))
    assert again.status_code == 405

    peer.state.tokens_accepted.add("peer-b-rotated")
    reply = peer.call("PUT", credentials_url, token_c, json=peer.credentials("peer-b-rotated"))
    assert reply.status_code == 200 and reply.json()["status_code"] == 1000
    new_c = reply.json()["data"]["token"]
    assert new_c != token_c
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_c).status_code == 401
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), new_c).status_code == 200
    # The versions were re-read with the new token.
    last_versions = [r for r in peer.state.requests if r.path == "/ocpi/versions"][-1]
    sent = base64.b64decode(last_versions.headers["Authorization"].split()[1]).decode()
    assert sent == "peer-b-rotated"

    assert peer.call("DELETE", credentials_url, new_c).status_code == 200
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), new_c).status_code == 401
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.UNREGISTERED
        assert partner.token_out is None and partner.roles == []


def test_put_and_delete_before_registration_are_405(plugpool, peer):
    _, token_a = _partner_add(plugpool)
    credentials_url = plugpool.url("2.2.1/credentials")
    put = peer.call("PUT", credentials_url, token_a, json=peer.credentials("peer-b-y"))
    assert put.status_code == 405
    assert peer.call("DELETE", credentials_url, token_a).status_code == 405


def test_we_register_with_a_partner_from_its_versions_url_and_token_a(plugpool, peer):
    token_a = peer.issue_token_a()
    runner = plugpool.app.test_cli_runner()
    result = runner.invoke(args=["ocpi", "connect", peer.versions_url, token_a, "--name", "peer"])
    assert result.exit_code == 0, result.output
    # The peer called our versions with the TOKEN_B we sent it, over HTTP.
    assert peer.state.plugpool_versions == plugpool.versions_url
    token_b = peer.state.token_to_plugpool
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_b).status_code == 200
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.REGISTERED and partner.version == "2.2.1"
        assert partner.token_out.startswith("peer-c-")
        # Rotation from our side: PUT to the peer, new tokens both ways.
        services.rotate_partner(partner)
        assert partner.token_out.startswith("peer-c-")
    assert peer.state.token_to_plugpool != token_b
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_b).status_code == 401
    token_now = peer.state.token_to_plugpool

    result = runner.invoke(args=["ocpi", "disconnect", "peer"])
    assert result.exit_code == 0, result.output
    assert peer.state.requests[-1].method == "DELETE"
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_now).status_code == 401
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.UNREGISTERED and partner.token_out is None


def test_connect_with_a_wrong_token_a_fails_cleanly(plugpool, peer):
    runner = plugpool.app.test_cli_runner()
    result = runner.invoke(args=["ocpi", "connect", peer.versions_url, "not-the-token"])
    assert result.exit_code != 0
    assert "3001" in result.output
    with plugpool.app.app_context():
        assert db.session.scalars(select(OcpiPartner)).all() == []
