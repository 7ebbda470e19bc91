"""PlugPool as an eMSP behind PlugPool's own hub, over real HTTP, each platform its own process.

- the hub: a PlugPool instance in its own process (its delivery job runs here);
- the eMSP: a second PlugPool instance (party NL*PLG) on its own database, joining the hub
  with `flask ocpi connect` (on 2.3.0: the hub is known by its hub_party_id);
- two CPOs on the hub, NL*CPA and BE*CPB: recording OCPI servers (tests/ocpi/hub/party.py)
  registered on the hub's database, serving their Locations to the hub's GET all.
"""

from __future__ import annotations

import base64
import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.accounts.models import Role, User
from app.charging.models import Cdr
from app.charging.services import issue_driver_token
from app.core.errors import NotFound
from app.core.security import digest_token, hash_secret, new_token
from app.extensions import db
from app.inventory.models import Evse, Location, Party
from app.ocpi.commands.sender import send_command
from app.ocpi.hub import status as hub_status
from app.ocpi.hub.delivery import deliver_all
from app.ocpi.hub.models import ConnectionStatus, HubMember, HubMessage
from app.ocpi.hubparty.models import HubParty
from app.ocpi.models import OcpiPartner, PartnerEndpoint, PartnerRole, PartnerStatus
from app.ocpi.tasks import deliver_outbox
from tests.ocpi.hub.party import Party as Recorder
from tests.ocpi.hub.party import start_party
from tests.ocpi.hub.serve import Instance
from tests.ocpi.test_emsp_receivers import evse_body, location_body
from tests.ocpi.test_emsp_sessions_cdrs import CDR

CPOS = (("NL", "CPA"), ("BE", "CPB"))


@pytest.fixture
def emsp(second_process: Instance) -> Instance:
    """The PlugPool eMSP: the second process (tests/ocpi/hub/conftest.py)."""
    return second_process


@pytest.fixture
def recorders() -> Iterator[dict[str, Recorder]]:
    started = {party: start_party() for _, party in CPOS}
    yield started
    for recorder in started.values():
        recorder.stop()


def _location(country_code: str, party_id: str) -> dict[str, Any]:
    evse = evse_body(f"{party_id}-E1", evse_id=f"{country_code}*{party_id}*E1")
    return location_body(
        f"LOC-{party_id}", country_code=country_code, party_id=party_id, evses=[evse]
    )


def _cpo_on_hub(country_code: str, party_id: str, recorder: Recorder) -> tuple[int, str]:
    """A CPO party registered on the hub, its receivers and sender at the recorder."""
    token = new_token()
    partner = OcpiPartner(
        name=f"cpo-{party_id}",
        status=PartnerStatus.REGISTERED.value,
        token_in_digest=digest_token(token),
        token_out=f"to-{party_id}",
        versions_url=recorder.url("versions"),
        version="2.2.1",
        hub_member=True,
    )
    partner.roles.append(
        PartnerRole(
            role="CPO",
            country_code=country_code,
            party_id=party_id,
            business_details={"name": party_id},
        )
    )
    for module, interface in (
        ("locations", "SENDER"),
        ("tokens", "RECEIVER"),
        ("commands", "RECEIVER"),
    ):
        url = recorder.url(f"{interface.lower()}/2.2.1/{module}")
        partner.endpoints.append(
            PartnerEndpoint(version="2.2.1", identifier=module, role=interface, url=url)
        )
    db.session.add(partner)
    db.session.flush()
    db.session.add(
        HubMember(partner_id=partner.id, status=ConnectionStatus.CONNECTED.value, suspended=False)
    )
    db.session.commit()
    return partner.id, token


def _driver_token() -> str:
    user = User(
        email=f"{uuid.uuid4().hex[:8]}@example.test",
        password_hash=hash_secret("driver-password-1"),
        name="Roaming driver",
        role=Role.DRIVER.value,
    )
    db.session.add(user)
    db.session.commit()
    return issue_driver_token(user.id).uid


def _evse_pk(party_id: str) -> int:
    query = select(Evse.id).join(Location).where(Location.party_id == party_id)
    return db.session.scalars(query).one()


def _messages(kind: str, module: str) -> list[tuple[str | None, str | None]]:
    query = select(HubMessage).where(HubMessage.kind == kind, HubMessage.module == module)
    return [(m.from_party, m.to_party) for m in db.session.scalars(query)]


@pytest.mark.slow
def test_plugpool_as_emsp_behind_a_hub_pulls_pushes_commands_and_takes_cdrs(hub, emsp, recorders):
    cpo_ids = {}
    for (country_code, party_id), recorder in zip(CPOS, recorders.values(), strict=True):
        recorder.data = [_location(country_code, party_id)]
        cpo_ids[party_id] = hub.job(
            lambda c=country_code, p=party_id, r=recorder: _cpo_on_hub(c, p, r)
        )

    # The eMSP joins the hub from its side; `connect` pulls the hub's ClientInfo list and
    # GETs all Locations through the hub at once.
    token_a = hub.cli("ocpi", "partner-add", "plugpool-emsp", "--hub-party").split("TOKEN_A: ")[1]
    output = emsp.cli(
        "ocpi", "connect", "--name", "hub", "--", f"{hub.base}/ocpi/hub/versions", token_a.strip()
    )
    assert "hubclientinfo: " in output, output

    def stored() -> tuple[Any, ...]:
        hub_partner = db.session.scalars(select(OcpiPartner)).one()
        locations = db.session.scalars(select(Location).order_by(Location.party_id)).all()
        parties = db.session.scalars(select(Party).where(Party.is_own.is_(False))).all()
        infos = db.session.scalars(select(HubParty).order_by(HubParty.party_id)).all()
        return (
            (hub_partner.version, hub_partner.is_hub, hub_partner.party("EMSP")),
            [(loc.country_code, loc.party_id, loc.ocpi_id) for loc in locations],
            sorted((p.country_code, p.party_id) for p in parties),
            [(i.country_code, i.party_id, i.role, i.status) for i in infos],
        )

    version, locations, parties, infos = emsp.job(stored)
    assert version == ("2.3.0", True, ("NL", "HUB"))
    # Each object under its own CPO party, not the hub's.
    assert locations == [("NL", "CPA", "LOC-CPA"), ("BE", "CPB", "LOC-CPB")]
    assert parties == [("BE", "CPB"), ("NL", "CPA")]
    assert sorted(infos) == [("BE", "CPB", "CPO", "CONNECTED"), ("NL", "CPA", "CPO", "CONNECTED")]
    # The GET all went to the hub itself (OCPI-to = the hub), from our party.
    assert ("NLPLG", "NLHUB") in hub.job(lambda: _messages("getall", "locations"))

    # Our driver's token is pushed once, to the hub, which hands it to both CPOs.
    uid = emsp.job(_driver_token)
    emsp.job(lambda: deliver_outbox(50))
    assert hub.job(lambda: _messages("broadcast", "tokens")) == [("NLPLG", "NLHUB")]
    hub.job(deliver_all)
    for recorder in recorders.values():
        (put,) = [r for r in recorder.calls("/tokens/") if r.method == "PUT"]
        assert put.path.endswith(f"/tokens/NL/PLG/{uid}?type=APP_USER")
        assert put.body["uid"] == uid

    # A command to a charger of NL*CPA is addressed to NL*CPA and reaches it alone.
    recorders["CPA"].data = {"result": "ACCEPTED", "timeout": 30}

    def start() -> str | None:
        from app.charging.services.roaming_commands import roaming_place

        location, evse, partner = roaming_place(_evse_pk("CPA"))
        body = {
            "response_url": f"{emsp.base}/ocpi/emsp/2.3.0/commands/START_SESSION/e2e",
            "token": {
                "country_code": "NL",
                "party_id": "PLG",
                "uid": uid,
                "type": "APP_USER",
                "contract_id": uid,
                "issuer": "PlugPool",
                "valid": True,
                "whitelist": "ALLOWED",
                "last_updated": "2030-01-01T00:00:00Z",
            },
            "location_id": location.ocpi_id,
            "evse_uid": evse.uid,
        }
        party = (location.country_code, location.party_id)
        return send_command(partner, "START_SESSION", body, party).response

    assert emsp.job(start) == "ACCEPTED"
    (command,) = recorders["CPA"].calls("/commands/")
    assert command.path.endswith("/commands/START_SESSION")
    assert (command.headers["OCPI-to-country-code"], command.headers["OCPI-to-party-id"]) == (
        "NL",
        "CPA",
    )
    assert command.headers["OCPI-from-party-id"] == "PLG"
    assert recorders["CPB"].calls("/commands/") == []

    # BE*CPB goes OFFLINE: the hub tells the eMSP, which sends it no command any more.
    def cpb_offline() -> None:
        hub_status.offline(db.session.get(OcpiPartner, cpo_ids["CPB"][0]))
        db.session.commit()

    hub.job(cpb_offline)
    hub.job(deliver_all)

    def place_of(party_id: str) -> str:
        from app.charging.services.roaming_commands import roaming_place

        try:
            return roaming_place(_evse_pk(party_id))[2].name
        except NotFound:
            return "refused"

    assert emsp.job(lambda: place_of("CPB")) == "refused"
    assert emsp.job(lambda: place_of("CPA")) == "hub"

    # A CDR from NL*CPA, through the hub, addressed to us: stored under NL*CPA.
    cdr = copy.deepcopy(CDR)
    cdr.update(country_code="NL", party_id="CPA", id="CDR-HUB-1")
    cdr["cdr_token"]["uid"] = uid
    cdr["tariffs"][0].update(country_code="NL", party_id="CPA")
    cpa_token = cpo_ids["CPA"][1]
    reply = requests.post(
        hub.url("hub/2.2.1/receiver/cdrs"),
        json=cdr,
        headers={
            "Authorization": "Token " + base64.b64encode(cpa_token.encode()).decode(),
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "CPA",
            "OCPI-to-country-code": "NL",
            "OCPI-to-party-id": "PLG",
        },
        timeout=10,
    )
    assert reply.json()["status_code"] == 1000, reply.text

    def cdrs() -> list[tuple[str, str, str, str]]:
        hub_partner = db.session.scalars(select(OcpiPartner)).one()
        rows = db.session.scalars(select(Cdr).where(Cdr.partner_id == hub_partner.id))
        return [(c.country_code, c.party_id, c.ocpi_id, c.cdr_token["uid"]) for c in rows]

    assert emsp.job(cdrs) == [("NL", "CPA", "CDR-HUB-1", uid)]
