"""PlugPool as CPO on Hubject: fullLoad of the demo inventory, deltas and statuses by outbox."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import User
from app.core.outbox import OutboxEvent
from app.demo import seed_demo
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import Evse, Location
from app.oicp.errors import HubjectCallFailed
from app.oicp.models import OicpPushedEvse
from app.oicp.schemas.evse import EvseDataRecord
from app.oicp.services import cpo_push, delivery
from tests.support.hubject_standin import StandIn


def _published_evses() -> list[Evse]:
    query = (
        select(Evse)
        .join(Location)
        .where(Location.publish.is_(True), Location.deleted_at.is_(None), Evse.status != "REMOVED")
    )
    return list(db.session.scalars(query))


def test_full_load_pushes_every_published_demo_evse_and_its_status(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    with bridge.app_context():
        seed_demo()
        evses = _published_evses()
        expected = {e.evse_id.upper() for e in evses}
        pushed = cpo_push.full_load()
    state = standin.state()
    assert state["errors"] == []
    assert pushed == len(expected) > 0
    assert set(state["evse_data"]) == expected
    assert set(state["evse_status"]) == expected
    assert [p["action"] for p in state["pushes"]] == ["fullLoad", "fullLoad"]
    record = next(iter(state["evse_data"].values()))
    EvseDataRecord().load(record)  # what Hubject holds is a valid record
    assert record["Address"]["Country"] == "NLD"
    assert record["HotlinePhoneNumber"] == bridge.config["OICP_HOTLINE"]
    assert "REMOTE" in record["AuthenticationModes"]


def test_status_change_goes_to_hubject_and_still_to_ocpi_partners(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    with bridge.app_context():
        seed_demo()
        cpo_push.full_load()
        evse = _published_evses()[0]
        evse_id = evse.evse_id.upper()
        inventory.set_evse_status(evse, "CHARGING")
        handled = delivery.deliver()
        ocpi_pending = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.topic == "evse.status_changed", OutboxEvent.delivered_at.is_(None)
            )
        ).all()
    assert handled >= 1
    assert standin.state()["evse_status"][evse_id] == "Occupied"
    assert len(ocpi_pending) >= 1  # the OCPI push keeps its own copy of the event


def test_unpublished_listing_is_deleted_at_hubject_and_a_new_one_inserted(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    with bridge.app_context():
        seed_demo()
        cpo_push.full_load()
        location = db.session.scalars(select(Location).where(Location.publish.is_(True))).first()
        owner = db.session.get(User, location.owner_id)
        gone = {e.evse_id.upper() for e in location.evses}
        inventory.set_published(owner, location.id, False)
        delivery.deliver()
        after_delete = standin.state()
        inventory.set_published(owner, location.id, True)
        delivery.deliver()
    assert gone and not gone & set(after_delete["evse_data"])
    assert after_delete["pushes"][-1]["action"] == "delete"
    state = standin.state()
    assert gone <= set(state["evse_data"])
    assert state["pushes"][-1]["action"] == "insert"
    assert state["errors"] == []


def test_disabled_bridge_writes_no_hubject_events(app: Flask, committed_db: Any) -> None:
    with app.app_context():
        seed_demo()
        evse = _published_evses()[0]
        inventory.set_evse_status(evse, "CHARGING")
        copies = db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic.like("oicp:%"))
        ).all()
    assert copies == []


def test_small_batches_push_every_evse_once_in_order_and_note_each(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    bridge.config["OICP_PUSH_BATCH"] = 3
    try:
        with bridge.app_context():
            seed_demo()
            expected = {e.evse_id.upper() for e in _published_evses()}
            pushed = cpo_push.full_load()
            noted = set(db.session.scalars(select(OicpPushedEvse.evse_id)))
    finally:
        bridge.config["OICP_PUSH_BATCH"] = 10000
    state = standin.state()
    data = [p for p in state["pushes"] if p["kind"] == "data"]
    assert state["errors"] == []
    assert pushed == len(expected) > 3
    assert [p["action"] for p in data] == ["fullLoad"] + ["insert"] * (len(data) - 1)
    assert sum(p["count"] for p in data) == pushed  # no EVSE twice, none left out
    assert set(state["evse_data"]) == expected == noted


def test_a_batch_hubject_refuses_022_raises_and_notes_nothing(
    bridge: Flask, standin: StandIn, committed_db: Any
) -> None:
    with bridge.app_context():
        seed_demo()
        location = db.session.scalars(select(Location).where(Location.publish.is_(True))).first()
        location.city = ""  # OICP's City needs at least one character
        db.session.commit()
        with pytest.raises(HubjectCallFailed) as refused:
            cpo_push.full_load()
        db.session.rollback()
        noted = db.session.scalars(select(OicpPushedEvse)).all()
    state = standin.state()
    assert refused.value.code == "022"
    assert noted == []
    assert state["evse_data"] == {}
    assert "City" in str(state["errors"])


class WorkerKilled(BaseException):
    """A worker stopping right after a send, before it records the outcome."""


def test_a_round_stopped_after_sending_never_sends_its_events_again(
    bridge: Flask, standin: StandIn, committed_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.outbox import INTERRUPTED
    from app.oicp.client import HubjectClient

    acknowledged = HubjectClient.acknowledged

    def acknowledged_then_die(self: HubjectClient, *args: Any, **kwargs: Any) -> Any:
        acknowledged(self, *args, **kwargs)  # Hubject has it
        raise WorkerKilled

    with bridge.app_context():
        seed_demo()
        cpo_push.full_load()
        inventory.set_evse_status(_published_evses()[0], "CHARGING")
        sent_before = len(standin.state()["pushes"])
        monkeypatch.setattr(HubjectClient, "acknowledged", acknowledged_then_die)  # network edge
        monkeypatch.setitem(bridge.config, "OCPI_PUSH_LEASE_SECONDS", 0)  # lease over at once
        with pytest.raises(WorkerKilled):
            delivery.deliver()
        db.session.rollback()
        monkeypatch.setattr(HubjectClient, "acknowledged", acknowledged)
        assert delivery.deliver() == 0  # a later round: nothing to send again
        topics = (cpo_push.LOCATION_TOPIC, cpo_push.STATUS_TOPIC)
        rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic.in_(topics))).all()
    pushes = standin.state()["pushes"][sent_before:]
    assert len(pushes) == 1  # the one request sent before the stop, never again
    assert rows and {(row.attempts, row.last_error) for row in rows} == {(1, INTERRUPTED)}
    assert all(row.delivered_at is not None for row in rows)
