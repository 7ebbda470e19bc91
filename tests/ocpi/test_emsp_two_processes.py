"""Two PlugPool instances, each its own web process and database, over real HTTP.

One is the CPO network "CPO Net" (NL*CPA) with a simulated OCPP 1.6 charger; the other is the
eMSP "eMSP Net" (NL*EMP) whose driver charges there and pays by card (the stripe SDK against
localstripe). The test process plays each instance's worker: it runs their jobs (outbox
delivery, command execution through the charger's gateway, billing) on their databases.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.accounts.models import ApiToken, User
from app.charging.models import Cdr, ChargingSession
from app.charging.services import issue_driver_token, set_driver_token_valid
from app.core.clock import utcnow
from app.core.security import digest_token, hash_secret, new_token
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.models import Evse
from app.ocpi import pull
from app.ocpi.credentials.services import connect_partner
from app.ocpi.models import OcpiPartner, Token
from app.ocpi.tasks import deliver_outbox, run_commands, run_emsp_jobs
from app.ocpi.tokens.services import authorize_token
from app.payments import services as payments
from app.payments.models import RoamingCharge
from tests.charging.support import db_gateway, eventually, seed_site
from tests.gateway.support import PASSWORD, run
from tests.support.plugpool_process import Instance, plugpool_instance
from tests.support.stripe_fixtures import localstripe  # noqa: F401 (a fixture, found by name)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def instances(localstripe):  # noqa: F811
    cpo_settings = {"OWN_COUNTRY_CODE": "NL", "OWN_PARTY_ID": "CPA", "OWN_PARTY_NAME": "CPO Net"}
    emsp_settings = {
        "OWN_COUNTRY_CODE": "NL",
        "OWN_PARTY_ID": "EMP",
        "OWN_PARTY_NAME": "eMSP Net",
        "STRIPE_SECRET_KEY": localstripe.config["STRIPE_SECRET_KEY"],
        "STRIPE_API_BASE": localstripe.config["STRIPE_API_BASE"],
    }
    with (
        plugpool_instance("cpo", cpo_settings) as cpo,
        plugpool_instance("emsp", emsp_settings) as emsp,
    ):
        yield cpo, emsp


def in_app(instance: Instance, work: Any) -> Any:
    with instance.app.app_context():
        return work()


def _handshake(cpo: Instance, emsp: Instance) -> None:
    """The CPO issues a TOKEN_A; the eMSP registers with it (credentials sender)."""
    added = cpo.app.test_cli_runner().invoke(args=["ocpi", "partner-add", "emsp-net"]).output
    token_a = added.split("TOKEN_A: ")[1].strip()
    status = in_app(emsp, lambda: connect_partner(cpo.versions_url, token_a, name="cpo-net").status)
    assert status == "REGISTERED"

    def roles(instance: Instance) -> set[tuple[str, str, str]]:
        rows = db.session.scalars(select(OcpiPartner)).one().roles
        return {(r.role, r.country_code, r.party_id) for r in rows}

    assert in_app(emsp, lambda: roles(emsp)) == {("CPO", "NL", "CPA"), ("EMSP", "NL", "CPA")}
    assert in_app(cpo, lambda: roles(cpo)) == {("CPO", "NL", "EMP"), ("EMSP", "NL", "EMP")}


def _pull_inventory(emsp: Instance) -> int:
    """The eMSP pulls the CPO's locations and tariffs into its one inventory; return the
    row id of the CPO's EVSE there."""

    def work() -> int:
        partner = db.session.scalars(select(OcpiPartner)).one()
        results = pull.sync_partner(partner, full=True)
        assert {r.module for r in results if r.ok and r.applied} == {"locations", "tariffs"}
        evse = db.session.scalars(select(Evse).where(Evse.uid == "RO-EVSE-1")).one()
        assert (evse.location.party_id, evse.connectors[0].tariff_ids) == ("CPA", ["RO-T1"])
        return evse.id

    return in_app(emsp, work)


def _driver(emsp: Instance) -> tuple[int, str, dict[str, str]]:
    """An eMSP driver with a card on localstripe, an APP_USER token and an API bearer token."""

    def work() -> tuple[int, str, dict[str, str]]:
        user = User(email="roamer@example.test", password_hash=hash_secret("x" * 12), name="R")
        db.session.add(user)
        db.session.commit()
        payments.save_card(user, "pm_card_visa")
        uid = issue_driver_token(user.id).uid
        plain = new_token()
        expires = utcnow() + timedelta(days=1)
        db.session.add(ApiToken(user_id=user.id, digest=digest_token(plain), expires_at=expires))
        db.session.commit()
        return user.id, uid, {"Authorization": f"Bearer {plain}"}

    return in_app(emsp, work)


def _cpo_token(cpo: Instance, uid: str) -> dict[str, Any] | None:
    def work() -> dict[str, Any] | None:
        token = db.session.scalars(select(Token).where(Token.uid == uid)).first()
        return None if token is None else {"valid": token.valid, "party": token.party_id}

    return in_app(cpo, work)


def _rta(instance: Instance, uid: str, location: dict[str, Any] | None = None) -> Any:
    """Real-time authorisation from `instance`'s side (the token's whitelist set to NEVER)."""

    def work() -> Any:
        token = db.session.scalars(select(Token).where(Token.uid == uid)).one()
        token.whitelist = "NEVER"
        db.session.commit()
        return authorize_token(uid, "APP_USER", location)

    return in_app(instance, work)


def _tokens_and_rta_both_ways(cpo: Instance, emsp: Instance, uid: str) -> None:
    in_app(emsp, lambda: deliver_outbox(50))
    assert _cpo_token(cpo, uid) == {"valid": True, "party": "EMP"}
    allowed = _rta(cpo, uid, {"location_id": "RO-LOC", "evse_uids": ["RO-EVSE-1"]})
    assert (allowed.allowed, allowed.source) == ("ALLOWED", "realtime")
    assert allowed.authorization_reference.startswith("PPA")
    in_app(emsp, lambda: set_driver_token_valid(uid, False))
    assert _rta(cpo, uid).allowed == "BLOCKED"
    in_app(emsp, lambda: deliver_outbox(50))
    assert _cpo_token(cpo, uid)["valid"] is False
    in_app(emsp, lambda: set_driver_token_valid(uid, True))
    in_app(emsp, lambda: deliver_outbox(50))
    assert _cpo_token(cpo, uid)["valid"] is True
    # The other way: the CPO instance's own driver (no card there) asked about by the eMSP one.
    in_app(cpo, lambda: deliver_outbox(50))
    assert _rta(emsp, "RO-DRIVER").allowed == "NO_CREDIT"


def _api(emsp: Instance, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    reply = requests.request(
        method, emsp.url(f"/api/v1/roaming{path}"), headers=headers, timeout=30, **kwargs
    )
    assert reply.status_code < 300, reply.text
    return reply.json()


def _open_cpo_session(cpo: Instance) -> ChargingSession | None:
    def work() -> ChargingSession | None:
        row = db.session.scalars(
            select(ChargingSession).where(ChargingSession.end_date_time.is_(None))
        ).first()
        db.session.expunge_all()
        return row

    return in_app(cpo, work)


def _cpo_cdrs(cpo: Instance) -> int:
    return len(in_app(cpo, lambda: db.session.scalars(select(Cdr.id)).all()))


def _connected(cpo: Instance, station_id: str) -> bool:
    from app.inventory.models import ChargeStation

    return bool(
        in_app(
            cpo,
            lambda: db.session.scalars(
                select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
            ).first(),
        )
    )


def _charge(
    cpo: Instance, emsp: Instance, site: Any, evse_pk: int, bearer: dict[str, str]
) -> dict[str, Any]:
    """Start by the eMSP's API, watch the live session, stop; return what the driver saw."""
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with db_gateway(cpo.app) as gateway:
            config = SimulatorConfig(
                station_id=site.station_id,
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V16,
                meter_interval=0.2,
                power_w=150_000,
            )
            async with connected(config):
                await eventually(lambda: _connected(cpo, site.station_id))
                started = await asyncio.to_thread(
                    _api, emsp, "POST", "/sessions", bearer, json={"evse_id": evse_pk}
                )
                seen["start"] = started
                await asyncio.to_thread(in_app, cpo, lambda: run_commands(10, gateway.bus))
                await eventually(lambda: _open_cpo_session(cpo))
                command = await eventually(
                    lambda: (
                        (c := _api(emsp, "GET", f"/commands/{started['id']}", bearer))["status"]
                        != "PENDING"
                        and c
                    )
                )
                seen["start_result"] = command["status"]
                await asyncio.sleep(0.6)  # a few meter values
                await asyncio.to_thread(in_app, cpo, lambda: deliver_outbox(50))
                live = await eventually(lambda: _api(emsp, "GET", "/sessions", bearer))
                seen["live"] = live[0]
                stopped = await asyncio.to_thread(
                    _api, emsp, "POST", f"/sessions/{live[0]['id']}/stop", bearer
                )
                seen["stop"] = stopped
                await asyncio.to_thread(in_app, cpo, lambda: run_commands(10, gateway.bus))
                await eventually(lambda: _cpo_cdrs(cpo) == 1)
                await asyncio.to_thread(in_app, cpo, lambda: deliver_outbox(50))

    run(scenario, timeout=120)
    return seen


def test_an_emsp_driver_charges_at_the_cpos_charger_and_pays_by_card(instances):
    cpo, emsp = instances
    site = seed_site(cpo.app, prefix="RO")
    _handshake(cpo, emsp)
    evse_pk = _pull_inventory(emsp)
    driver_id, uid, bearer = _driver(emsp)
    _tokens_and_rta_both_ways(cpo, emsp, uid)

    terms = _api(emsp, "GET", f"/chargers/{evse_pk}/terms", bearer)
    assert terms == {"currency": "EUR", "hold_minor": 3000, "fee_minor": 50}
    seen = _charge(cpo, emsp, site, evse_pk, bearer)
    assert seen["start"]["status"] == "PENDING" and seen["start_result"] == "ACCEPTED"
    assert seen["live"]["status"] == "ACTIVE" and seen["live"]["network"] == "CPO Net"
    assert seen["live"]["evse_uid"] == "RO-EVSE-1"

    # The CDR reached the eMSP; its price matches our engine; the driver's card is charged.
    in_app(emsp, run_emsp_jobs)

    def billed() -> tuple[Any, ...]:
        cdr = db.session.scalars(select(Cdr)).one()
        charge = db.session.scalars(select(RoamingCharge)).one()
        session = db.session.get(ChargingSession, cdr.session_pk)
        intent = payments.gateway().retrieve_payment(charge.payment_intent_id)
        return cdr.flags, cdr.total_cost_minor, cdr.driver_id, session.status, charge, intent

    flags, total, cdr_driver, status, charge, intent = in_app(emsp, billed)
    assert flags == [] and cdr_driver == driver_id and status == "COMPLETED"
    assert total > 0
    assert (charge.state, charge.captured_minor, charge.due_minor) == (
        "captured",
        total + 50,
        total + 50,
    )
    assert intent.status == "succeeded"
    (receipt,) = _api(emsp, "GET", "/receipts", bearer)
    assert (receipt["cdr_cost_minor"], receipt["total_minor"]) == (total, total + 50)
    sessions = _api(emsp, "GET", "/sessions", bearer)
    assert sessions[0]["status"] == "COMPLETED" and Decimal(sessions[0]["kwh"]) > 0

    _book_through_bookings_module(cpo, emsp, site, evse_pk, bearer)


def _book_through_bookings_module(
    cpo: Instance, emsp: Instance, site: Any, evse_pk: int, bearer: dict[str, str]
) -> None:
    """OCPI 2.3.0 Bookings: free slots from the CPO's calendar, a booking, a pushed change."""
    slots = _api(emsp, "GET", f"/chargers/{evse_pk}/slots", bearer)
    assert slots, "the CPO's calendar offers no free slot"
    begin = (utcnow() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    window = {"start": begin.isoformat(), "end": (begin + timedelta(hours=1)).isoformat()}
    assert any(s["start"] <= window["start"] and window["end"] <= s["end"] for s in slots), slots
    booked = _api(emsp, "POST", "/bookings", bearer, json={"evse_id": evse_pk, **window})
    assert booked["reservation_status"] == "RESERVED", booked

    # The CPO's owner cancels it; the CPO pushes the Booking; the driver sees CANCELED.
    def cancel_at_cpo() -> None:
        from app.bookings import services as cpo_bookings
        from app.bookings.models import Booking

        booking = db.session.scalars(select(Booking)).one()
        cpo_bookings.cancel_booking(db.session.get(User, site.owner_id), booking.id)

    in_app(cpo, cancel_at_cpo)
    in_app(cpo, lambda: deliver_outbox(50))
    (mine,) = _api(emsp, "GET", "/bookings", bearer)
    assert mine["reservation_status"] == "CANCELED"
