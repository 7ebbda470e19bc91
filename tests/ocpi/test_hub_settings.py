"""The operator's settings per hub partner: what we offer it, whom behind it we accept, and
whether we push to it or only serve its pulls (`flask ocpi hub-settings`, the admin page)."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import Role
from app.extensions import db as _db
from app.inventory import services as inventory
from app.ocpi import pull
from app.ocpi.hubparty.models import HubSettings
from app.ocpi.tasks import deliver_outbox
from tests.ocpi.conftest import token_header
from tests.ocpi.test_emsp_pull import _log_in
from tests.ocpi.test_hub_party import put_info, put_token, stored_tokens

HUB = (("HUB", "DE", "HUB"),)


def _settings(runner, name, *options):
    return runner.invoke(args=["ocpi", "hub-settings", name, *options])


def _hub(make_partner, peer=None, name="gireve"):
    endpoints = ()
    if peer is not None:
        endpoints = (("locations", "RECEIVER", f"{peer.state.base}/emsp/2.2.1/locations"),)
    hub, token = make_partner(name=name, roles=HUB, endpoints=endpoints)
    if peer is not None:
        peer.state.tokens_accepted.add(hub.token_out)
    return hub, token


def test_settings_are_stored_per_hub_and_shown_by_the_cli(runner, make_partner):
    hub, _ = _hub(make_partner)
    result = _settings(
        runner, "gireve", "--offer-roles", "cpo", "--allow", "nl*emp,FR*ABC", "--pull-only"
    )
    assert result.exit_code == 0, result.output
    assert "offer roles: CPO" in result.output
    assert "allow: FR*ABC,NL*EMP" in result.output
    assert "push: no (only serve pulls)" in result.output
    row = _db.session.scalars(select(HubSettings)).one()
    assert (row.partner_id, row.offer_roles, row.allow, row.push) == (
        hub.id,
        ["CPO"],
        ["FR*ABC", "NL*EMP"],
        False,
    )
    # Options not given are left as they are; "" clears a list.
    result = _settings(runner, "gireve", "--allow", "", "--push")
    assert "offer roles: CPO" in result.output and "allow: all CONNECTED" in result.output
    assert "push: yes" in result.output


def test_invalid_settings_are_refused_and_nothing_is_stored(runner, make_partner):
    _hub(make_partner)
    for options in (
        ("--offer-roles", "HUB"),
        ("--offer-roles", ""),
        ("--offer-parties", "FR*XYZ"),
        ("--deny", "not-a-party"),
    ):
        result = _settings(runner, "gireve", *options, "--pull-only")
        assert result.exit_code != 0 and "Invalid hub settings" in result.output, options
    assert _db.session.scalars(select(HubSettings)).all() == []
    assert _settings(runner, "nobody").exit_code != 0


def test_the_hub_is_offered_only_the_roles_its_settings_name(client, runner, make_partner):
    _, token = _hub(make_partner)
    assert _settings(runner, "gireve", "--offer-roles", "CPO").exit_code == 0
    credentials = client.get("/ocpi/2.2.1/credentials", headers=token_header(token)).get_json()
    assert [r["role"] for r in credentials["data"]["roles"]] == ["CPO"]
    details = client.get("/ocpi/2.2.1", headers=token_header(token)).get_json()["data"]
    urls = [e["url"] for e in details["endpoints"]]
    assert any("/cpo/2.2.1/tokens" in url for url in urls)
    assert not any("/emsp/" in url for url in urls)
    assert any(url.endswith("/2.2.1/hubclientinfo") for url in urls)
    # A call into the role not offered: 2001, nothing done; the offered role works.
    refused = client.get("/ocpi/emsp/2.2.1/tokens", headers=token_header(token)).get_json()
    assert refused["status_code"] == 2001 and "not offered" in refused["status_message"]
    assert put_token(client, token).get_json()["status_code"] == 1000


def test_a_direct_partner_is_offered_everything_whatever_a_hubs_settings(
    client, runner, make_partner
):
    _hub(make_partner)
    _settings(runner, "gireve", "--offer-roles", "CPO")
    _, token = make_partner()
    credentials = client.get("/ocpi/2.2.1/credentials", headers=token_header(token)).get_json()
    assert [r["role"] for r in credentials["data"]["roles"]] == ["CPO", "EMSP"]


def test_stored_deny_adds_to_the_settings_file_and_a_stored_allow_replaces_it(
    app, client, runner, make_partner
):
    _, token = _hub(make_partner)
    for party in ("EMP", "OTH"):
        put_info(client, token, "NL", party, "CONNECTED")
    app.config["OCPI_HUB_PARTY_RULES"] = {"gireve": {"allow": ["NL*OTH"]}}
    try:
        assert put_token(client, token, "NL", "EMP").get_json()["status_code"] == 2000
        _settings(runner, "gireve", "--allow", "NL*EMP,NL*OTH", "--deny", "NL*OTH")
        assert put_token(client, token, "NL", "EMP").get_json()["status_code"] == 1000
        assert put_token(client, token, "NL", "OTH", "U2").get_json()["status_code"] == 2000
    finally:
        app.config["OCPI_HUB_PARTY_RULES"] = {}
    assert stored_tokens() == [("NL", "EMP", "HUBTOKEN1")]


def test_a_pull_only_hub_gets_no_push_and_a_pushing_one_does(
    runner, make_partner, make_location, peer
):
    _hub(make_partner, peer)
    _settings(runner, "gireve", "--pull-only")
    location = make_location()
    inventory.set_evse_status(location.evses[0], "OUTOFORDER")
    assert deliver_outbox(10) == 1
    assert peer.pushes() == []
    _settings(runner, "gireve", "--push")
    inventory.set_evse_status(location.evses[0], "AVAILABLE")
    assert deliver_outbox(10) == 1
    (pushed,) = peer.pushes()
    assert pushed.headers["OCPI-to-party-id"] == "HUB"  # a broadcast, to the hub itself


def test_an_allow_list_of_parties_behind_the_hub_does_not_stop_broadcasts_to_the_hub(
    runner, make_partner, make_location, peer
):
    _hub(make_partner, peer)
    _settings(runner, "gireve", "--allow", "NL*EMP")
    location = make_location()
    inventory.set_evse_status(location.evses[0], "OUTOFORDER")
    deliver_outbox(10)
    assert len(peer.pushes()) == 1


def test_a_hub_not_offered_our_cpo_role_gets_no_location_push(
    runner, make_partner, make_location, peer
):
    _hub(make_partner, peer)
    _settings(runner, "gireve", "--offer-roles", "EMSP")
    location = make_location()
    inventory.set_evse_status(location.evses[0], "OUTOFORDER")
    assert deliver_outbox(10) == 1
    assert peer.pushes() == []


def test_the_admin_page_shows_each_hubs_settings_and_parties(
    client, runner, make_partner, make_user
):
    _, token = _hub(make_partner)
    put_info(client, token, "NL", "EMP", "OFFLINE")
    _settings(runner, "gireve", "--deny", "FR*BAD", "--pull-only")
    _log_in(client, make_user(role=Role.ADMIN.value, name="Ada"))
    html = client.get("/admin/ocpi/partners").get_data(as_text=True)
    assert "Hubs PlugPool is behind" in html
    row = html.split('class="hub-settings"')[1].split("</tr>")[0]
    assert "gireve" in row and "FR*BAD" in row and "only serves pulls" in row
    assert "NL*EMP EMSP OFFLINE" in row


def test_a_hub_not_offered_our_emsp_role_is_not_pulled(runner, make_partner):
    from tests.support.http_server import free_port

    url = f"http://127.0.0.1:{free_port()}/ocpi/sender/2.2.1/locations"
    hub, _ = make_partner(name="gireve", roles=HUB, endpoints=(("locations", "SENDER", url),))
    pull.on_registered(hub)
    _db.session.flush()
    _settings(runner, "gireve", "--offer-roles", "CPO")
    assert pull.sync_partner(hub) == []
    _settings(runner, "gireve", "--offer-roles", "CPO,EMSP")
    (result,) = pull.sync_partner(hub)  # tried (nobody listens there)
    assert result.module == "locations" and not result.ok
