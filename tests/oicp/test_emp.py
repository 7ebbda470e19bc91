"""PlugPool as EMP on Hubject: 10,000 EVSE records pulled into the one inventory (search shows
them priced), a driver starts remotely from the app, Hubject's CDR is billed through Stripe
(localstripe), and the GetChargeDetailRecords safety net fills a gap."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.accounts.models import User
from app.charging.services import driver_token_uid
from app.extensions import db
from app.inventory.models import Evse, Location, Party
from app.oicp.models import OicpCdr, OicpOperator, OicpSession
from app.oicp.server import serving
from app.oicp.services import emp_pull, emp_sessions
from app.payments.models import RoamingCharge, StripeCustomer
from app.payments.stripe_gateway import StripeGateway
from tests.support.hubject_standin import StandIn, dataset
from tests.support.hubject_standin.certs import Pki

RECORDS = 10_000


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)))


def _hubject_evse(index: int) -> Evse:
    uid = dataset.evse_id(index).replace("*", "")
    return db.session.scalars(select(Evse).where(Evse.uid == uid)).one()


def _driver(make_driver: Any) -> int:
    user = User(email=f"{uuid.uuid4().hex[:8]}@example.test", password_hash="x", name="Driver")
    db.session.add(user)
    db.session.commit()
    saved = make_driver(driver_id=str(user.id))
    db.session.add(
        StripeCustomer(
            user_id=user.id,
            customer_id=saved.customer_id,
            payment_method_id=saved.payment_method_id,
        )
    )
    db.session.commit()
    driver_token_uid(user.id)
    return user.id


def _cdr(session_id: str, evse_id: str, evco: str, kwh: str) -> dict[str, Any]:
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    return {
        "SessionID": session_id,
        "EvseID": evse_id,
        "Identification": {"RemoteIdentification": {"EvcoID": evco}},
        "SessionStart": start.isoformat(),
        "ChargingStart": start.isoformat(),
        "ChargingEnd": (start + timedelta(hours=1)).isoformat(),
        "SessionEnd": (start + timedelta(hours=1, minutes=5)).isoformat(),
        "MeterValueStart": 100.0,
        "MeterValueEnd": 100.0 + float(kwh),
        "ConsumedEnergy": float(kwh),
    }


@pytest.mark.slow
def test_pull_search_remote_start_and_cdr_billing(
    paying_bridge: Flask,
    standin: StandIn,
    pki: Pki,
    make_driver: Any,
    stripe_gateway: StripeGateway,
    committed_db: Any,
) -> None:
    app = paying_bridge
    standin.configure(size=RECORDS)
    with app.app_context():
        assert emp_pull.pull_evse_data() == RECORDS
        assert emp_pull.pull_evse_status() == RECORDS
        priced = emp_pull.pull_pricing()
        operators = {op.operator_id for op in db.session.scalars(select(OicpOperator))}
        parties = {p.name for p in db.session.scalars(select(Party).where(Party.is_own.is_(False)))}
        hubject_evses = _count(Evse, Evse.evse_id.like("%*HB%"))
        busy = _hubject_evse(2).status
        connector = _hubject_evse(4).connectors[0]
    assert operators == {op for op, _ in dataset.OPERATORS}
    assert {name for _, name in dataset.OPERATORS} <= parties
    assert hubject_evses == RECORDS
    assert busy == "CHARGING"
    assert priced == 5000 and connector.tariff_ids == [dataset.PRODUCT]

    search = app.test_client().get("/api/v1/chargers?lat=52.3&lon=13.2&radius_m=2000&limit=5")
    assert search.status_code == 200, search.json
    first = search.json["results"][0]
    assert first["network"] == {"name": dataset.OPERATORS[0][1], "own": False}
    assert first["quote"] is not None and first["quote"]["currency"] == "EUR"

    standin.configure(change=[0, 1], delta="delete")
    with app.app_context():
        assert emp_pull.pull_evse_data() == 2
        assert _hubject_evse(0).status == "REMOVED"
        assert _hubject_evse(3).status != "REMOVED"

    with app.app_context():
        driver_id = _driver(make_driver)
        evse = _hubject_evse(8)
        record = emp_sessions.start_remote(driver_id, evse.id)
        session_id, evco = record.session_id, record.token_uid
        charge_reference = record.charge_reference
        record_pk = record.id
        emp_sessions.stop_remote(driver_id, record_pk)
    remote = standin.state()["remote"]
    assert [r["kind"] for r in remote] == ["start", "stop"]
    assert remote[0]["EvseID"] == dataset.evse_id(8)
    assert remote[0]["Identification"]["RemoteIdentification"]["EvcoID"] == evco
    assert remote[1]["SessionID"] == session_id

    cdr = _cdr(session_id, dataset.evse_id(8), evco, "10.5")
    with serving(app, pki.plugpool_server.cert, pki.plugpool_server.key, pki.ca) as server:
        standin.configure(plugpool_base=f"https://127.0.0.1:{server.port}")
        path = "/api/oicp/cdrmgmt/v22/operators/DE*HBA/charge-detail-record"
        first_post = standin.drive(path, cdr)
        repeat = standin.drive(path, cdr)  # Hubject retries: billed once
    assert first_post["body"]["Result"] is True, first_post
    assert repeat["body"]["Result"] is True

    with app.app_context():
        assert emp_sessions.bill_due_cdrs() == 1
        stored = db.session.scalars(select(OicpCdr)).one()
        status = db.session.get(OicpSession, record_pk).status
        charge = db.session.get(RoamingCharge, stored.roaming_charge_pk)
        hold = app.config["EMSP_HOLD_MINOR"]
        fee = app.config["EMSP_ROAMING_FEE_MINOR"]
    assert (stored.currency, stored.total_cost_minor) == ("EUR", 410)  # 10.5 kWh at 0.39
    assert stored.billing_status == "billed" and status == "ended"
    # Billed as an OCPI partner's CDR: the start's hold, captured for the cost plus the fee.
    assert charge.authorization_reference == charge_reference
    assert charge.authorised_minor == hold
    assert (charge.state, charge.due_minor, charge.captured_minor) == (
        "captured",
        410 + fee,
        410 + fee,
    )
    payment = stripe_gateway.retrieve_payment(charge.payment_intent_id)
    assert payment.status == "succeeded"

    missed = _cdr(str(uuid.uuid4()), dataset.evse_id(12), evco, "2")
    standin.configure(emp_cdrs=[cdr, missed])
    with app.app_context():
        assert emp_sessions.fetch_cdrs(datetime(2026, 11, 30, tzinfo=UTC)) == 1
        assert _count(OicpCdr) == 2
    assert standin.state()["errors"] == []


def test_pulled_records_of_our_own_operator_are_skipped(bridge: Flask, db: Any) -> None:
    own = dataset.record(1)
    own.update({"EvseID": "NL*PLG*E99", "OperatorID": "NL*PLG", "OperatorName": "PlugPool"})
    assert emp_pull.store_records([own]) == 0
    assert _count(Location, Location.ocpi_id == "ST0000000") == 0
