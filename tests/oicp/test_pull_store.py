"""Pulled pages are written whole or not at all; pulling again updates rather than duplicates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.inventory.models import Connector, Evse, Location
from app.oicp.errors import HubjectCallFailed
from app.oicp.models import OicpOperator
from app.oicp.services import emp_pull
from tests.support.hubject_standin import StandIn, dataset


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)))


def _hubject_evses() -> int:
    return _count(Evse, Evse.uid.in_([dataset.evse_id(i).replace("*", "") for i in range(40)]))


@pytest.fixture
def small_pages(bridge: Flask) -> Iterator[Flask]:
    bridge.config["OICP_PULL_PAGE_SIZE"] = 10
    try:
        yield bridge
    finally:
        bridge.config["OICP_PULL_PAGE_SIZE"] = 2000


def test_a_page_with_an_invalid_record_is_refused_and_writes_nothing(
    small_pages: Flask, standin: StandIn, committed_db: Any
) -> None:
    standin.configure(size=30, broken=[17])  # on the second page of ten
    with small_pages.app_context():
        with pytest.raises(HubjectCallFailed, match="invalid answer"):
            emp_pull.pull_evse_data()
        db.session.rollback()
        # The first page is in, nothing of the second (nor the third, never asked for).
        assert _hubject_evses() == 10
        assert _count(Location, Location.ocpi_id == "ST0000005") == 0
        assert emp_pull.DATA_PULL not in {k for k in _watermarks()}


def _watermarks() -> list[str]:
    from app.oicp.models import OicpState

    return list(db.session.scalars(select(OicpState.key)))


def test_pulling_again_updates_the_same_rows(
    small_pages: Flask, standin: StandIn, committed_db: Any
) -> None:
    standin.configure(size=30)
    with small_pages.app_context():
        assert emp_pull.pull_evse_data() == 30
        first = (_hubject_evses(), _count(Location), _count(Connector), _count(OicpOperator))
        db.session.execute(
            Location.__table__.update()
            .where(Location.ocpi_id == "ST0000001", Location.party_id == "HBC")
            .values(name="renamed here")
        )
        db.session.commit()
        emp_pull.store_records([dataset.record(i) for i in range(30)])
        db.session.commit()
        again = (_hubject_evses(), _count(Location), _count(Connector), _count(OicpOperator))
        named = db.session.scalars(
            select(Location.name).where(Location.ocpi_id == "ST0000001", Location.party_id == "HBC")
        ).one()
        uid = dataset.evse_id(3).replace("*", "")
        connector = db.session.scalars(select(Evse).where(Evse.uid == uid)).one().connectors[0]
    # Stations pair EVSEs of two operators: one location per operator and station.
    assert first == again == (30, 30, 30, 4)
    assert named == "Gamma Mobility station 1"
    assert (connector.standard, connector.max_electric_power) == ("IEC_62196_T2", 22000)
