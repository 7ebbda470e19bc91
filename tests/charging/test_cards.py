"""Drivers' RFID cards: registered through the API and the CLI, checked, honoured by chargers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from ocpp.v16 import call
from sqlalchemy import select

from app.accounts.models import Role, User
from app.charging import tokens
from app.charging.models import DriverToken
from app.core.outbox import OutboxEvent
from app.extensions import db
from app.gateway.ports import OcppVersion
from app.ocpi.models import Token
from tests.charging.support import Site, db_gateway, outbox_topics, read
from tests.gateway.support import charger, run

CARDS = "/api/v1/charging/cards"
UID = "04A2B3C4D5E6F7"


@pytest.fixture
def driver(make_user: Callable[..., User], own_party: Any) -> User:
    return make_user(role=Role.DRIVER.value, email="carla@example.test")


def token_of(uid: str) -> Token:
    return db.session.scalars(select(Token).where(Token.uid == uid)).one()


def card_events() -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.topic == tokens.TOKEN_CHANGED)
        .order_by(OutboxEvent.id)
    )
    return [row.payload for row in rows]


def test_a_driver_registers_lists_blocks_and_removes_a_card(
    client: Any, driver: User, bearer: Callable[[User], dict[str, str]]
) -> None:
    auth = bearer(driver)
    added = client.post(CARDS, json={"uid": "04:a2:b3:c4:d5:e6:f7", "label": "Blue"}, headers=auth)
    assert added.status_code == 201, added.get_json()
    assert added.get_json() | {"created_at": None} == {
        "uid": UID, "label": "Blue", "valid": True, "created_at": None,
    }  # fmt: skip
    token = token_of(UID)
    assert (token.type, token.valid, token.whitelist) == ("RFID", True, "ALWAYS")
    assert token.party_id == "PLG" and token.contract_id.endswith(f"C{driver.id:08d}")
    assert [c["uid"] for c in client.get(CARDS, headers=auth).get_json()] == [UID]

    blocked = client.post(f"{CARDS}/{UID}/block", headers=auth)
    assert blocked.status_code == 200 and blocked.get_json()["valid"] is False
    assert client.post(f"{CARDS}/{UID}/unblock", headers=auth).get_json()["valid"] is True
    assert client.delete(f"{CARDS}/{UID}", headers=auth).status_code == 204
    assert client.get(CARDS, headers=auth).get_json() == []
    db.session.expire_all()
    assert token_of(UID).valid is False  # kept on record, not valid
    assert [(e["uid"], e["action"], e["valid"]) for e in card_events()] == [
        (UID, "added", True),
        (UID, "blocked", False),
        (UID, "unblocked", True),
        (UID, "removed", False),
    ]
    assert client.delete(f"{CARDS}/{UID}", headers=auth).status_code == 404


@pytest.mark.parametrize(
    "uid", ["04A2B3", "04A2B3C4D5E6F7G8", "hello world", "", "04A2B3C4D5"], ids=repr
)
def test_a_malformed_uid_is_refused_with_422_and_nothing_written(
    client: Any, driver: User, bearer: Callable[[User], dict[str, str]], uid: str
) -> None:
    reply = client.post(CARDS, json={"uid": uid}, headers=bearer(driver))
    assert reply.status_code == 422
    assert "uid" in reply.get_json()["errors"]
    assert db.session.scalars(select(DriverToken).where(DriverToken.type == "RFID")).all() == []
    assert card_events() == []


def test_a_card_registered_anywhere_is_refused_with_409(
    client: Any, driver: User, make_user: Callable[..., User], bearer: Any
) -> None:
    assert client.post(CARDS, json={"uid": UID}, headers=bearer(driver)).status_code == 201
    again = client.post(CARDS, json={"uid": UID.lower()}, headers=bearer(driver))
    assert again.status_code == 409 and UID in again.get_json()["detail"]
    other = make_user(role=Role.DRIVER.value)
    assert client.post(CARDS, json={"uid": UID}, headers=bearer(other)).status_code == 409
    # Removed by its driver, the card cannot be taken by someone else either...
    client.delete(f"{CARDS}/{UID}", headers=bearer(driver))
    assert client.post(CARDS, json={"uid": UID}, headers=bearer(other)).status_code == 409
    # ...but its own driver may register it again.
    back = client.post(CARDS, json={"uid": UID}, headers=bearer(driver))
    assert back.status_code == 201 and back.get_json()["valid"] is True


def test_another_drivers_card_cannot_be_blocked(
    client: Any, driver: User, make_user: Callable[..., User], bearer: Any
) -> None:
    client.post(CARDS, json={"uid": UID}, headers=bearer(driver))
    other = make_user(role=Role.DRIVER.value)
    assert client.post(f"{CARDS}/{UID}/block", headers=bearer(other)).status_code == 404
    assert token_of(UID).valid is True


def test_flask_token_add_registers_a_card_and_refuses_bad_input(runner: Any, driver: User) -> None:
    added = runner.invoke(args=["token", "add", driver.email, "04a2b3c4", "--label", "Key fob"])
    assert added.exit_code == 0, added.output
    assert "card 04A2B3C4 registered" in added.output
    assert token_of("04A2B3C4").valid is True
    listed = runner.invoke(args=["token", "list", driver.email])
    assert "04A2B3C4  valid" in listed.output and "Key fob" in listed.output
    twice = runner.invoke(args=["token", "add", driver.email, "04A2B3C4"])
    assert twice.exit_code != 0 and "already registered" in twice.output
    bad = runner.invoke(args=["token", "add", driver.email, "xyz"])
    assert bad.exit_code != 0 and "hexadecimal" in bad.output
    nobody = runner.invoke(args=["token", "add", "nobody@example.test", "04A2B3C5"])
    assert nobody.exit_code != 0 and "No user" in nobody.output
    removed = runner.invoke(args=["token", "remove", driver.email, "04A2B3C4"])
    assert removed.exit_code == 0 and token_of("04A2B3C4").valid is False


def test_a_charger_accepts_a_registered_card_until_it_is_blocked(app: Flask, site: Site) -> None:
    def add() -> None:
        tokens.add_card(site.driver_id, UID, "Blue")

    def block() -> None:
        tokens.block_card(site.driver_id, UID)

    async def scenario() -> list[str]:
        answers = []
        async with (
            db_gateway(app) as gateway,
            charger(gateway, site.station_id, OcppVersion.V16) as cp,
        ):
            await cp.call(call.BootNotification("PlugPool", "Home"))
            answers.append((await cp.call(call.Authorize(UID))).id_tag_info["status"])
            read(app, add)
            answers.append((await cp.call(call.Authorize(UID))).id_tag_info["status"])
            read(app, block)
            answers.append((await cp.call(call.Authorize(UID))).id_tag_info["status"])
        return answers

    assert run(scenario) == ["Invalid", "Accepted", "Blocked"]
    assert outbox_topics(app).count(tokens.TOKEN_CHANGED) >= 2


def test_a_blocked_card_is_refused_even_during_its_drivers_booking(app: Flask, site: Site) -> None:
    from datetime import timedelta

    from app.charging import services
    from app.core.clock import utcnow
    from tests.charging.support import add_booking

    now = utcnow()
    add_booking(app, site, now - timedelta(minutes=1), now + timedelta(hours=1))
    read(app, lambda: tokens.add_card(site.driver_id, UID))

    def authorize() -> str:
        return services.authorize_token(site.station_id, UID, "ISO14443").status.value

    assert read(app, authorize) == "Accepted"
    read(app, lambda: tokens.block_card(site.driver_id, UID))
    assert read(app, authorize) == "Blocked"  # lost card: whoever holds it cannot charge
