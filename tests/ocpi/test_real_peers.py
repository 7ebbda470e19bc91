"""What model-based peers send: explicit nulls for unset optional fields, and fields we lack.

The eMSP peer runs on a real port and writes every unset optional field as null, like a
pydantic or Jackson peer; PlugPool must treat those nulls as absent and ignore unknown fields,
in every object it receives, in both OCPI versions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.outbox import OutboxEvent, emit
from app.extensions import db as _db
from app.inventory import services as inventory
from app.ocpi.models import OcpiCommand, OcpiPartner, PartnerStatus, Token
from app.ocpi.tasks import deliver_outbox
from app.ocpi.tokens.services import authorize_token
from tests.charging.support import seed_site
from tests.ocpi.conftest import token_header
from tests.ocpi.peer import TOKEN, EmspPeer, version_details, with_nulls

REQUIRED_TOKEN = {
    "country_code": "DE",
    "party_id": "EMS",
    "uid": "RFID-NULLS",
    "type": "RFID",
    "contract_id": "DE-EMS-C9",
    "issuer": "Test eMSP",
    "valid": True,
    "whitelist": "ALLOWED",
    "last_updated": "2026-03-01T10:00:00Z",
}


def _register(plugpool: Any, peer: Any) -> str:
    added = plugpool.app.test_cli_runner().invoke(args=["ocpi", "partner-add", "emsp"]).output
    answer = peer.register_with(plugpool.versions_url, added.split("TOKEN_A: ")[1].strip())
    assert answer["status_code"] == 1000, answer
    return answer["data"]["token"]


def test_the_peer_writes_nulls_for_unset_optional_fields():
    sent = with_nulls(REQUIRED_TOKEN, TOKEN)
    assert sent["visual_number"] is None and sent["energy_contract"] is None
    assert sent["uid"] == "RFID-NULLS"


def test_a_peer_that_writes_nulls_registers_with_us(plugpool, peer):
    token_c = _register(plugpool, peer)

    # Its business details carried "website": null and "logo": null; stored as absent.
    with plugpool.app.app_context():
        partner = _db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.REGISTERED
        assert partner.roles[0].business_details == {"name": "Test eMSP"}
    assert peer.call("GET", plugpool.url("cpo/2.2.1/tariffs"), token_c).status_code == 200


def test_we_register_with_a_peer_whose_credentials_answer_has_nulls(plugpool, peer):
    runner = plugpool.app.test_cli_runner()
    token_a = peer.issue_token_a()
    result = runner.invoke(args=["ocpi", "connect", peer.versions_url, token_a, "--name", "p"])
    assert result.exit_code == 0, result.output
    with plugpool.app.app_context():
        partner = _db.session.scalars(select(OcpiPartner)).one()
        assert partner.status == PartnerStatus.REGISTERED
        assert partner.token_out.startswith("peer-c-")


def test_tokens_with_nulls_are_stored_and_real_time_answers_with_nulls_count(plugpool, peer):
    token_c = _register(plugpool, peer)
    url = plugpool.url("cpo/2.2.1/tokens/DE/EMS/RFID-NULLS")
    put = peer.call("PUT", url, token_c, json={**REQUIRED_TOKEN, "whitelist": "NEVER"})
    assert put.status_code == 201, put.text
    patch = {"valid": True, "language": None, "last_updated": "2026-03-01T11:00:00Z"}
    assert peer.call("PATCH", url, token_c, json=patch).json()["status_code"] == 1000
    stored = peer.call("GET", url, token_c).json()["data"]
    assert "visual_number" not in stored and "language" not in stored
    assert stored["last_updated"] == "2026-03-01T11:00:00Z"

    # The eMSP's AuthorizationInfo carries "location": null, "info": null.
    peer.state.authorizations["RFID-NULLS"] = "ALLOWED"
    with plugpool.app.app_context():
        result = authorize_token("RFID-NULLS", "RFID", {"location_id": "LOC1"})
        assert (result.allowed, result.source) == ("ALLOWED", "realtime")
        assert result.authorization_reference == "REF1"
        assert result.location == {"location_id": "LOC1"}


def test_commands_with_nulls_and_unknown_fields_are_accepted(plugpool, peer):
    site = seed_site(plugpool.app, prefix="NU")
    token_c = _register(plugpool, peer)
    start = {
        "response_url": f"{peer.state.base}/emsp/2.2.1/commands/START_SESSION/1",
        "token": {**REQUIRED_TOKEN, "x_vendor_extension": {"tier": "gold"}},
        "location_id": "NU-LOC",
        "evse_uid": "NU-EVSE-1",
        "x_vendor_extension": 7,
    }
    for version in ("2.2.1", "2.3.0"):
        reply = peer.call(
            "POST", plugpool.url(f"cpo/{version}/commands/START_SESSION"), token_c, json=start
        )
        assert reply.json()["data"]["result"] == "ACCEPTED", reply.text
    with plugpool.app.app_context():
        records = _db.session.scalars(select(OcpiCommand)).all()
        assert [r.request["station_id"] for r in records] == [site.station_id] * 2
        assert all("connector_id" not in r.request for r in records)


def test_a_null_required_field_is_still_refused(client, make_partner):
    _, token = make_partner()
    body = {**REQUIRED_TOKEN, "issuer": None}
    reply = client.put(
        "/ocpi/cpo/2.3.0/tokens/DE/EMS/RFID-NULLS", json=body, headers=token_header(token)
    )
    assert reply.get_json()["status_code"] == 2001
    assert "issuer" in reply.get_json()["status_message"]
    assert _db.session.scalars(select(Token)).all() == []


def test_partner_urls_are_used_exactly_as_published_with_a_trailing_slash(
    db, make_partner, make_session, make_location
):
    with EmspPeer(trailing_slash=True) as peer:
        published = [
            (e["identifier"], e["role"], e["url"]) for e in version_details(peer.state)["endpoints"]
        ]
        assert dict((e[0], e[2]) for e in published)["cdrs"].endswith("/cdrs/")
        partner, _ = make_partner(endpoints=tuple(published))
        peer.state.tokens_accepted.add(partner.token_out)
        session = make_session()  # ended: a CDR to POST
        emit(
            _db.session,
            "session.changed",
            "session",
            session.ocpi_id,
            {"country_code": "NL", "party_id": "PLG", "session_id": session.ocpi_id},
        )
        location = make_location()
        inventory.set_evse_status(location.evses[0], "CHARGING")
        while deliver_outbox(10):
            pass

    events = _db.session.scalars(select(OutboxEvent)).all()
    assert [e.last_error for e in events] == [None] * len(events)
    paths = {(r.method, r.path) for r in peer.state.requests}
    assert ("POST", "/ocpi/emsp/2.2.1/cdrs/") in paths
    assert ("PUT", f"/ocpi/emsp/2.2.1/sessions/NL/PLG/{session.ocpi_id}") in paths
    evse = location.evses[0]
    status_path = f"/ocpi/emsp/2.2.1/locations/NL/PLG/{location.ocpi_id}/{evse.uid}"
    assert ("PATCH", status_path) in paths
