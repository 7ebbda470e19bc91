"""The hub over real HTTP, each platform its own process.

- the hub: a PlugPool instance in its own process (its worker, the delivery job, runs here);
- a PlugPool instance as CPO in its own process, on its own database, with the OCPP gateway
  and a simulated 1.6 charger run here as its worker;
- an eMSP: the OCPI test peer (tests/ocpi/peer.py; PlugPool's own eMSP role has not landed),
  on OCPI 2.2.1 while the CPO joins the hub on 2.3.0, so every object crosses the version bridge.

The independent extrawest-ocpi peer is not in this test: it had not landed on main. It has no
routing headers at all (extrawest_ocpi issue #36); the hub would see its requests as open
routing (no OCPI-to), which it answers for pushes as a broadcast and for GETs as GET all.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from app.charging.models import Cdr, ChargingSession
from app.core import outbox
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.events import LOCATION_CHANGED, TARIFF_CHANGED
from app.inventory.models import Location
from app.ocpi.hub.delivery import deliver_all
from app.ocpi.hubparty.models import HubParty
from app.ocpi.hubparty.services import pull_client_info
from app.ocpi.models import OcpiPartner
from app.ocpi.schemas.sessions import CDR
from app.ocpi.schemas.tariffs import TARIFF
from app.ocpi.tasks import deliver_outbox, run_commands
from app.tariffs.models import Tariff
from tests.charging.support import db_gateway, eventually, read, seed_site
from tests.gateway.support import PASSWORD, run
from tests.ocpi.hub.serve import Instance
from tests.ocpi.peer import EmspPeer
from tests.ocpi.test_tokens_receiver import token_body

UID = "RFID-HUB-1"
EMSP_TO_CPO = {"OCPI-to-country-code": "NL", "OCPI-to-party-id": "PLG"}
EMSP_TO_HUB = {"OCPI-to-country-code": "NL", "OCPI-to-party-id": "HUB"}


@pytest.fixture
def cpo(second_process: Instance) -> Instance:
    """The PlugPool CPO: the second process (tests/ocpi/hub/conftest.py)."""
    return second_process


def _join(hub: Instance, cpo: Instance, peer: EmspPeer) -> str:
    """The CPO joins from its side (`flask ocpi connect`), the eMSP from its side."""
    hub_versions = f"{hub.base}/ocpi/hub/versions"
    token_a = hub.cli("ocpi", "partner-add", "plugpool-cpo", "--hub-party").split("TOKEN_A: ")[1]
    cpo.cli("ocpi", "connect", "--name", "hub", "--", hub_versions, token_a.strip())
    token_a = hub.cli("ocpi", "partner-add", "emsp", "--hub-party").split("TOKEN_A: ")[1]
    peer.state.hub_modules = True
    reply = peer.register_with(hub_versions, token_a.strip())
    assert reply["status_code"] == 1000, reply
    return reply["data"]["token"]


def _pull_hub_parties() -> list[tuple[str, str, str, str]]:
    partner = db.session.scalars(select(OcpiPartner).where(OcpiPartner.name == "hub")).one()
    pull_client_info(partner)
    rows = db.session.scalars(select(HubParty))
    return [(r.country_code, r.party_id, r.role, r.status) for r in rows]


def _announce_inventory(cpo: Instance) -> None:
    """The CPO's listing and tariff as the inventory services announce them."""

    def emit() -> None:
        location = db.session.scalars(select(Location)).one()
        tariff = db.session.scalars(select(Tariff)).one()
        ids = {"country_code": "NL", "party_id": "PLG"}
        outbox.emit(
            db.session,
            LOCATION_CHANGED,
            "location",
            location.ocpi_id,
            {
                **ids,
                "location_id": location.ocpi_id,
                "pk": location.id,
                "change": "created",
                "publish": True,
            },
        )
        outbox.emit(
            db.session,
            TARIFF_CHANGED,
            "tariff",
            tariff.ocpi_id,
            {**ids, "tariff_id": tariff.ocpi_id, "change": "created"},
        )
        db.session.commit()

    cpo.job(emit)


def _charge(cpo: Instance, hub: Instance, peer: EmspPeer, token: str, station_id: str) -> str:
    """START_SESSION from the eMSP through the hub; the charger charges; STOP_SESSION."""
    app = cpo.app
    results = f"{peer.state.base}/emsp/2.2.1/commands"
    commands = hub.url("hub/2.2.1/receiver/commands")

    def command(name: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = peer.call("POST", f"{commands}/{name}", token, json=body, headers=EMSP_TO_CPO)
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def scenario() -> str:
        async with db_gateway(app) as gateway:
            config = SimulatorConfig(
                station_id=station_id,
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V16,
                meter_interval=0.2,
                power_w=150_000,
            )
            async with connected(config):
                start = {
                    "response_url": f"{results}/START_SESSION/1",
                    "token": token_body(uid=UID, whitelist="ALLOWED"),
                    "location_id": "HB-LOC",
                    "evse_uid": "HB-EVSE-1",
                }
                answer = await asyncio.to_thread(command, "START_SESSION", start)
                assert answer["data"]["result"] == "ACCEPTED", answer
                await eventually(lambda: _connected(app, station_id))
                await asyncio.to_thread(cpo.job, lambda: run_commands(10, gateway.bus))
                session = await eventually(lambda: _open_session(app))
                await asyncio.to_thread(cpo.job, lambda: deliver_outbox(50))
                await asyncio.sleep(0.5)
                stop = {"response_url": f"{results}/STOP_SESSION/1", "session_id": session}
                answer = await asyncio.to_thread(command, "STOP_SESSION", stop)
                assert answer["data"]["result"] == "ACCEPTED", answer
                await asyncio.to_thread(cpo.job, lambda: run_commands(10, gateway.bus))
                await eventually(
                    lambda: read(app, lambda: db.session.scalars(select(Cdr.id)).first())
                )
                return session

    return run(scenario, timeout=90)


def _connected(app: Any, station_id: str) -> bool:
    from app.inventory.models import ChargeStation

    query = select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
    return bool(read(app, lambda: db.session.scalars(query).first()))


def _open_session(app: Any) -> str | None:
    def query() -> str | None:
        session = db.session.scalars(select(ChargingSession).order_by(ChargingSession.id)).first()
        return session.ocpi_id if session is not None and session.is_open else None

    return read(app, query)


@pytest.mark.slow
def test_parties_on_the_hub_charge_push_pull_and_see_a_party_go_down(hub, cpo):
    with EmspPeer() as peer:
        token = _join(hub, cpo, peer)
        site = seed_site(cpo.app, prefix="HB")
        # The CPO, a party behind the hub, pulls the hub's hubclientinfo list: only parties
        # CONNECTED there are served (PlugPool behind a hub, issue 16).
        assert ("DE", "EMS", "EMSP", "CONNECTED") in cpo.job(_pull_hub_parties)
        # The eMSP gives the CPO its driver's token, through the hub.
        put = peer.call(
            "PUT",
            hub.url(f"hub/2.2.1/receiver/tokens/DE/EMS/{UID}"),
            token,
            json=token_body(uid=UID, whitelist="ALLOWED"),
            headers=EMSP_TO_CPO,
        )
        assert put.json()["status_code"] == 1000, put.text

        # Broadcast: the CPO (2.3.0) pushes its Locations and Tariffs to the hub (its full set
        # to a new partner, then each change), which delivers them to the eMSP (2.2.1) through
        # its outbox; the tariff crosses the version bridge.
        _announce_inventory(cpo)
        cpo.job(lambda: [deliver_outbox(50) for _ in range(3)])
        assert hub.job(deliver_all) >= 2
        tariff_put = peer.received("tariffs", "PUT")[-1]
        assert tariff_put.path.endswith("/emsp/2.2.1/tariffs/NL/PLG/HB-T1")
        assert "tax_included" not in tariff_put.body
        assert TARIFF["2.2.1"]().validate(tariff_put.body) == {}
        location_put = peer.pushes("PUT")[-1]
        assert location_put.path.endswith("/NL/PLG/HB-LOC")
        assert (
            location_put.headers["OCPI-from-party-id"],
            location_put.headers["OCPI-to-party-id"],
        ) == ("HUB", "EMS")

        # GET all via the hub: the CPO's locations, with the hub's own pagination.
        listing = peer.call(
            "GET", hub.url("hub/2.2.1/sender/locations?limit=10"), token, headers=EMSP_TO_HUB
        )
        assert listing.headers["X-Total-Count"] == "1"
        (item,) = listing.json()["data"]
        assert (item["country_code"], item["party_id"], item["id"]) == ("NL", "PLG", "HB-LOC")

        # START_SESSION routed to the CPO, CommandResult routed back, Session and CDR routed.
        session_id = _charge(cpo, hub, peer, token, site.station_id)
        results = {r.path.split("/commands/")[1]: r.body for r in peer.command_results()}
        assert results == {
            "START_SESSION/1": {"result": "ACCEPTED"},
            "STOP_SESSION/1": {"result": "ACCEPTED"},
        }
        cpo.job(lambda: [deliver_outbox(50) for _ in range(3)])
        sessions = [
            r for r in peer.received("sessions") if r.path.endswith(f"/NL/PLG/{session_id}")
        ]
        assert [r.method for r in sessions][:1] == ["PUT"] and sessions[-1].body[
            "status"
        ] == "COMPLETED"
        (cdr,) = peer.received("cdrs", "POST")
        assert cdr.body["id"] == f"CDR-{session_id}"[:39]
        CDR["2.2.1"]().load(cdr.body)
        for routed in (*sessions, cdr):
            assert (routed.headers["OCPI-from-party-id"], routed.headers["OCPI-to-party-id"]) == (
                "PLG",
                "EMS",
            )

        # The CPO goes down: the next request is 4003 and the eMSP hears OFFLINE.
        cpo.process.terminate()
        cpo.process.wait(timeout=10)
        gone = peer.call(
            "GET", hub.url("hub/2.2.1/sender/locations/HB-LOC"), token, headers=EMSP_TO_CPO
        )
        assert gone.status_code == 200 and gone.json()["status_code"] == 4003
        hub.job(deliver_all)
        infos = [r.body for r in peer.received("hubclientinfo", "PUT")]
        assert infos and infos[-1]["party_id"] == "PLG" and infos[-1]["status"] == "OFFLINE"
