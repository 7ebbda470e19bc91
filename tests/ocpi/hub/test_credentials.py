"""Parties join the hub through the credentials module, over real HTTP, in 2.2.1 and 2.3.0."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.ocpi.hub.models import ConnectionStatus, HubMember
from app.ocpi.models import OcpiPartner, PartnerStatus


def _hub_party_add(hub, name="emsp"):
    output = (
        hub.app.test_cli_runner().invoke(args=["ocpi", "partner-add", name, "--hub-party"]).output
    )
    url = output.split("versions URL: ")[1].split()[0]
    return url, output.split("TOKEN_A: ")[1].strip()


def test_a_party_registers_at_the_hub_and_the_hub_names_itself_role_hub(plugpool, peer):
    versions_url, token_a = _hub_party_add(plugpool)
    assert versions_url == f"{plugpool.base}/ocpi/hub/versions"
    reply = peer.register_with(versions_url, token_a)
    assert reply["status_code"] == 1000, reply
    (role,) = reply["data"]["roles"]
    assert (role["role"], role["country_code"], role["party_id"]) == ("HUB", "NL", "HUB")
    assert reply["data"]["url"] == versions_url
    token_c = reply["data"]["token"]
    # The hub party's token opens the hub and nothing of PlugPool's own CPO.
    assert peer.call("GET", plugpool.url("cpo/2.2.1/locations"), token_c).status_code == 401
    clientinfo = peer.call("GET", plugpool.url("hub/2.2.1/hubclientinfo"), token_c)
    assert clientinfo.status_code == 200 and clientinfo.json()["data"] == []
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.hub_member and partner.status == PartnerStatus.REGISTERED
        assert db.session.get(HubMember, partner.id).status == ConnectionStatus.CONNECTED


def test_the_hub_registers_with_a_party_from_its_versions_url(plugpool, peer):
    token_a = peer.issue_token_a()
    result = plugpool.app.test_cli_runner().invoke(
        args=["ocpi", "connect", peer.versions_url, token_a, "--name", "peer", "--hub-party"]
    )
    assert result.exit_code == 0, result.output
    assert peer.state.plugpool_versions == f"{plugpool.base}/ocpi/hub/versions"
    posted = [r for r in peer.state.requests if r.path.endswith("/credentials")][-1]
    assert posted.body["roles"][0]["role"] == "HUB"
    token_b = peer.state.token_to_plugpool
    assert peer.call("GET", plugpool.url("hub/2.2.1"), token_b).status_code == 200
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.hub_member
        assert db.session.get(HubMember, partner.id).status == ConnectionStatus.CONNECTED


def test_a_plugpool_party_joins_on_230_and_the_hub_gives_its_hub_party_id(plugpool, party_instance):
    _, token_a = _hub_party_add(plugpool, "plugpool-party")
    hub_versions = f"{plugpool.base}/ocpi/hub/versions"
    result = party_instance.app.test_cli_runner().invoke(
        args=["ocpi", "connect", "--name", "hub", "--", hub_versions, token_a]
    )
    assert result.exit_code == 0, result.output
    with party_instance.app.app_context():
        hub = db.session.scalars(select(OcpiPartner)).one()
        assert hub.version == "2.3.0" and hub.is_hub
        assert hub.party("EMSP") == ("NL", "HUB")
    with plugpool.app.app_context():
        party = db.session.scalars(select(OcpiPartner)).one()
        assert party.hub_member and party.version == "2.3.0"
        roles = [(r.role, r.country_code, r.party_id) for r in party.roles]
        assert roles == [("CPO", "NL", "PTY"), ("EMSP", "NL", "PTY")]


def test_a_230_hub_is_known_by_its_hub_party_id_and_its_roles_are_the_parties_behind_it(
    plugpool, party_instance, peer
):
    from app.ocpi.hubparty.models import HubParty

    # An eMSP (DE*EMS) is on the hub first: the hub lists it among its reachable parties.
    versions_url, token_a = _hub_party_add(plugpool)
    assert peer.register_with(versions_url, token_a)["status_code"] == 1000
    _, token_a = _hub_party_add(plugpool, "plugpool-party")
    result = party_instance.app.test_cli_runner().invoke(
        args=["ocpi", "connect", "--name", "hub", "--", versions_url, token_a]
    )
    assert result.exit_code == 0, result.output
    with party_instance.app.app_context():
        hub = db.session.scalars(select(OcpiPartner)).one()
        assert hub.version == "2.3.0" and hub.is_hub
        # The hub itself is addressed for broadcasts, not the first party behind it.
        assert [(r.role, r.country_code, r.party_id) for r in hub.roles] == [("HUB", "NL", "HUB")]
        assert hub.party("EMSP") == hub.party("CPO") == ("NL", "HUB")
        rows = db.session.scalars(select(HubParty)).all()
        assert [(r.country_code, r.party_id, r.role, r.status) for r in rows] == [
            ("DE", "EMS", "EMSP", "CONNECTED")
        ]
        assert hub.holds("DE", "EMS", frozenset({"EMSP"}))
        assert not hub.holds("FR", "OTH", frozenset({"EMSP"}))
