"""Authorisation both ways: a card PlugPool does not know, at a PlugPool charger, is asked of
Hubject (AuthorizeStart as CPO); Hubject asks PlugPool about a PlugPool driver's card (as EMP)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.charging.models import ChargingSession
from app.charging.tokens import new_driver_token
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.gateway.simulator import SimulatorConfig, connected
from app.inventory.services import ensure_own_party
from app.ocpi.models import Token
from app.oicp.models import OicpSession
from app.oicp.schemas.charging import Authorization
from app.oicp.services import delivery
from tests.charging.support import db_gateway, eventually, read, seed_site
from tests.gateway.support import PASSWORD, run
from tests.oicp.test_cpo_remote import _cdrs, _connected
from tests.support.hubject_standin import StandIn

ROAMING_CARD = "AB12CD34"
START = "/api/oicp/charging/v21/operators/DE*HBA/authorize/start"
STOP = "/api/oicp/charging/v21/operators/DE*HBA/authorize/stop"


def _sessions(app: Flask, station_id: str) -> list[ChargingSession]:
    def query() -> list[ChargingSession]:
        rows = list(
            db.session.scalars(
                select(ChargingSession)
                .where(ChargingSession.station_id == station_id)
                .order_by(ChargingSession.id)
            )
        )
        db.session.expunge_all()
        return rows

    return read(app, query)


@pytest.mark.slow
def test_unknown_card_at_our_charger_is_authorised_by_hubject_and_billed_through_it(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    site = seed_site(bridge, prefix="HA")
    standin.configure(cards={ROAMING_CARD: "DE-EMP"})

    async def scenario() -> None:
        async with db_gateway(bridge) as gateway:
            config = SimulatorConfig(
                station_id=site.station_id,
                password=PASSWORD,
                url=f"ws://127.0.0.1:{gateway.bound_port}/ocpp",
                protocol=OcppVersion.V16,
                meter_interval=0.2,
                power_w=11_000,
            )
            async with connected(config) as charger:
                await eventually(lambda: _connected(bridge, site.station_id))
                await charger.start_charging("DEADBEEF")  # known to nobody: refused
                assert charger.transaction is None
                await charger.start_charging(ROAMING_CARD)
                assert charger.transaction is not None
                await asyncio.sleep(0.5)
                await charger.stop_charging()
                await eventually(lambda: _cdrs(bridge) == 1)

    run(scenario, timeout=60)
    refused, accepted = _sessions(bridge, site.station_id)
    assert refused.status == "INVALID"
    assert accepted.status == "COMPLETED"
    assert (accepted.token_country_code, accepted.token_party_id) == ("DE", "EMP")
    assert accepted.auth_method == "AUTH_REQUEST"
    with bridge.app_context():
        delivery.deliver()
    state = standin.state()
    assert state["errors"] == []
    asked = [
        a["Identification"]["RFIDMifareFamilyIdentification"]["UID"]
        for a in state["authorizations"]
    ]
    assert asked == ["DEADBEEF", ROAMING_CARD]
    assert state["authorizations"][1]["EvseID"] == "NL*PLG*EHA*1"
    [cdr] = state["cdrs"]
    assert cdr["Identification"] == {"RFIDMifareFamilyIdentification": {"UID": ROAMING_CARD}}
    assert cdr["SessionID"] == accepted.authorization_reference


def _driver_card(uid: str, valid: bool = True, saved_card: bool = True) -> None:
    from app.accounts.models import User
    from app.payments.models import StripeCustomer

    driver = User(email=f"{uid}@example.test", password_hash="x", name="Driver")
    db.session.add(driver)
    db.session.flush()
    if saved_card:
        payment_method = "pm_card_visa"
        db.session.add(
            StripeCustomer(
                user_id=driver.id, customer_id=f"cus_{uid}", payment_method_id=payment_method
            )
        )
    new_driver_token(driver.id, ensure_own_party(), uid=uid)
    db.session.flush()
    token = db.session.scalars(select(Token).where(Token.uid == uid)).one()
    token.valid = valid
    db.session.flush()


def _authorize(client: Any, uid: str, path: str = START, **extra: Any) -> dict[str, Any]:
    body = {
        "OperatorID": "DE*HBA",
        "EvseID": "DE*HBA*E00000001",
        "Identification": {"RFIDMifareFamilyIdentification": {"UID": uid}},
        **extra,
    }
    reply = client.post(path, json=body)
    assert reply.status_code == 200
    return Authorization().load(reply.json)


def test_a_driver_without_a_saved_card_is_refused_as_ocpi_would_no_credit(
    bridge: Flask, client: Any
) -> None:
    _driver_card("33CC44DD", saved_card=False)
    answer = _authorize(client, "33CC44DD", SessionID="b2688855-7f00-0002-6d8e-48d883f6abb7")
    assert answer["AuthorizationStatus"] == "NotAuthorized"
    assert answer["StatusCode"]["Code"] == "210"
    assert db.session.scalars(select(OicpSession)).first() is None


def test_our_drivers_card_is_authorised_for_a_hubject_charger(bridge: Flask, client: Any) -> None:
    _driver_card("11AA22BB")
    answer = _authorize(client, "11AA22BB", SessionID="b2688855-7f00-0002-6d8e-48d883f6abb6")
    assert answer["AuthorizationStatus"] == "Authorized"
    assert answer["ProviderID"] == "NL-PLG"
    assert answer["SessionID"] == "b2688855-7f00-0002-6d8e-48d883f6abb6"
    record = db.session.scalars(select(OicpSession)).one()
    assert (record.role, record.status, record.evse_id) == ("EMP", "authorized", "DE*HBA*E00000001")
    stop = _authorize(client, "11AA22BB", STOP, SessionID=answer["SessionID"])
    assert stop["AuthorizationStatus"] == "Authorized"


@pytest.mark.parametrize(
    ("uid", "valid", "code"),
    [("99FF99FF", True, "102"), ("33CC44DD", False, "200")],
)
def test_unknown_or_blocked_card_is_not_authorised_and_nothing_is_written(
    bridge: Flask, client: Any, uid: str, valid: bool, code: str
) -> None:
    _driver_card("33CC44DD", valid=valid)
    answer = _authorize(client, uid)
    assert answer["AuthorizationStatus"] == "NotAuthorized"
    assert answer["StatusCode"]["Code"] == code
    assert db.session.scalar(select(func.count(OicpSession.id))) == 0


def test_evse_of_another_operator_is_inconsistent(bridge: Flask, client: Any) -> None:
    _driver_card("11AA22BB")
    answer = _authorize(client, "11AA22BB", EvseID="FR*XYZ*E1")
    assert answer["StatusCode"]["Code"] == "018"
    assert db.session.scalar(select(func.count(OicpSession.id))) == 0


def test_operator_of_path_and_body_must_agree(bridge: Flask, client: Any) -> None:
    _driver_card("11AA22BB")
    answer = _authorize(client, "11AA22BB", OperatorID="DE*HBB", EvseID="DE*HBB*E1")
    assert answer["AuthorizationStatus"] == "NotAuthorized"
    assert answer["StatusCode"]["Code"] == "022"
