"""PlugPool behind a hub over real HTTP: the OCPI test peer acts as the HUB (role HUB)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.celery import _beat_schedule, celery_app
from app.extensions import db
from app.ocpi.hubparty.models import HubParty
from app.ocpi.models import OcpiPartner, PartnerStatus
from app.ocpi.tasks import pull_hub_parties_task, sync_partner
from tests.ocpi.test_tokens_receiver import token_body


def _info(country_code: str, party_id: str, status: str) -> dict:
    return {
        "party_id": party_id,
        "country_code": country_code,
        "role": "EMSP",
        "status": status,
        "last_updated": "2030-01-01T00:00:00Z",
    }


def _routed(country_code: str, party_id: str, to: tuple[str, str] = ("NL", "PLG")) -> dict:
    return {
        "OCPI-from-country-code": country_code,
        "OCPI-from-party-id": party_id,
        "OCPI-to-country-code": to[0],
        "OCPI-to-party-id": to[1],
    }


def _register_hub(plugpool, peer, name: str = "hub") -> str:
    """The peer registers with PlugPool as a hub; return the token it uses with PlugPool."""
    result = plugpool.app.test_cli_runner().invoke(args=["ocpi", "partner-add", name])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    peer.state.hub_role = True
    # A hub's credentials carry extra top-level fields (2.3.0 habits, vendor extensions).
    peer.state.extra_credentials = {"hub_party_id": "DEEMS", "vendor": {"x": None}}
    peer.state.client_infos = [_info("NL", "EMP", "CONNECTED"), _info("FR", "OFF", "OFFLINE")]
    answer = peer.register_with(lines["versions URL"], lines["TOKEN_A"])
    assert answer["status_code"] == 1000, answer
    return peer.state.token_to_plugpool


def test_the_beat_job_pulls_every_hub_partners_client_info_at_the_set_interval(plugpool, peer):
    _register_hub(plugpool, peer)
    plugpool.app.config["OCPI_HUB_PARTY_PULL_INTERVAL"] = 120.0
    entry = _beat_schedule(plugpool.app)["ocpi_hub_parties"]
    assert entry == {"task": "app.ocpi.tasks.pull_hub_parties_task", "schedule": 120.0}
    assert entry["task"] in celery_app.tasks
    with plugpool.app.app_context():
        assert pull_hub_parties_task.run() == 2
        rows = db.session.scalars(select(HubParty).order_by(HubParty.party_id)).all()
        assert [(r.party_id, r.status) for r in rows] == [("EMP", "CONNECTED"), ("OFF", "OFFLINE")]
    assert [r.method for r in peer.state.requests if r.path.endswith("/hubclientinfo")] == ["GET"]


def test_plugpool_behind_a_hub_learns_its_parties_and_serves_only_the_connected_ones(
    plugpool, peer
):
    token_c = _register_hub(plugpool, peer)

    # The scheduled pull of the hub starts with its hubclientinfo Sender list.
    with plugpool.app.app_context():
        partner = db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.REGISTERED and partner.is_hub
        sync_partner(partner.id)
        rows = db.session.scalars(select(HubParty).order_by(HubParty.party_id)).all()
        assert [(r.country_code, r.party_id, r.status) for r in rows] == [
            ("NL", "EMP", "CONNECTED"),
            ("FR", "OFF", "OFFLINE"),
        ]
    # `flask ocpi sync hub` refreshes the list too.
    synced = plugpool.app.test_cli_runner().invoke(args=["ocpi", "sync", "hub"])
    assert "hubclientinfo: 2 parties" in synced.output
    pulled = [r for r in peer.state.requests if r.path == "/ocpi/2.2.1/hubclientinfo"]
    assert pulled and pulled[0].method == "GET"
    assert pulled[0].headers["OCPI-to-party-id"] == "EMS"
    assert pulled[0].headers["OCPI-from-party-id"] == "PLG"

    def push(country_code: str, party_id: str, to: tuple[str, str] = ("NL", "PLG")):
        url = plugpool.url(f"cpo/2.2.1/tokens/{country_code}/{party_id}/HUBUID1")
        body = token_body(country_code=country_code, party_id=party_id, uid="HUBUID1")
        headers = _routed(country_code, party_id, to)
        return peer.call("PUT", url, token_c, json=body, headers=headers)

    # A token of the CONNECTED party behind the hub: accepted, the answer mirrors the routing.
    reply = push("NL", "EMP")
    assert reply.json()["status_code"] == 1000
    assert (reply.headers["OCPI-to-country-code"], reply.headers["OCPI-to-party-id"]) == (
        "NL",
        "EMP",
    )
    assert reply.headers["OCPI-from-party-id"] == "PLG"
    # The OFFLINE one is not served; a request addressed to another party is refused.
    assert push("FR", "OFF").json()["status_code"] == 2000
    misaddressed = push("NL", "EMP", to=("FR", "OTH"))
    assert misaddressed.json()["status_code"] == 2001

    # The hub reports FR*OFF back: its PUT of ClientInfo goes to our hubclientinfo Receiver.
    back = {**_info("FR", "OFF", "CONNECTED"), "last_updated": "2030-01-02T00:00:00Z"}
    url = plugpool.url("2.2.1/hubclientinfo/FR/OFF")
    assert peer.call("PUT", url, token_c, json=back).json()["status_code"] == 1000
    assert push("FR", "OFF").json()["status_code"] == 1000
