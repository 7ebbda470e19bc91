"""The same search on the embedded default: SQLite + SpatiaLite, through its SpatialIndex."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from geoalchemy2.elements import WKTElement
from sqlalchemy import event

from app import create_app
from app.core.spatial import BBox
from app.extensions import db
from app.inventory.models import Connector, Evse, Location, Party
from app.search.criteria import SearchCriteria, Window
from app.search.services import search_chargers
from app.tariffs.models import Tariff


@pytest.fixture
def lite_app(tmp_path: Path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'plugpool.sqlite'}"
    application = create_app("testing", {"DATABASE_URL": url})
    with application.app_context():
        upgrade()
        yield application
        db.session.remove()
        db.engine.dispose()


def _location(n: int, lat: float, lon: float, publish: bool = True) -> Location:
    location = Location(
        country_code="NL",
        party_id="PLG",
        ocpi_id=f"L{n}",
        publish=publish,
        name=f"Charger {n}",
        address=f"Street {n}",
        city="Amsterdam",
        country="NLD",
        latitude=Decimal(f"{lat:.6f}"),
        longitude=Decimal(f"{lon:.6f}"),
        geog=WKTElement(f"POINT({lon} {lat})", srid=4326),
        time_zone="Europe/Amsterdam",
    )
    evse = Evse(uid=f"E{n}", evse_id=f"NL*PLG*E{n}", status="AVAILABLE")
    evse.connectors.append(
        Connector(
            ocpi_id="1",
            standard="IEC_62196_T2",
            format="SOCKET",
            power_type="AC_3_PHASE",
            max_voltage=230,
            max_amperage=16,
            max_electric_power=11000,
            tariff_ids=["T1"],
        )
    )
    location.evses.append(evse)
    return location


def test_spatialite_radius_search_uses_the_spatial_index(lite_app):
    energy = {"type": "ENERGY", "price": Decimal("0.30"), "step_size": 1}
    db.session.add(Party(country_code="NL", party_id="PLG", name="PlugPool", is_own=True))
    db.session.flush()  # the composite foreign key is not a relationship the flush orders by
    db.session.add(
        Tariff(
            country_code="NL",
            party_id="PLG",
            ocpi_id="T1",
            currency="EUR",
            elements=[{"price_components": [energy]}],
        )
    )
    db.session.add_all(
        [
            _location(1, 52.46, 4.895),  # ~10 km north
            _location(2, 52.38, 4.895),  # ~1 km north
            _location(3, 52.70, 4.895),  # ~37 km: outside 20 km
            _location(4, 52.37, 4.90, publish=False),
        ]
    )
    db.session.commit()
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        start = datetime(2026, 11, 23, 10, tzinfo=UTC)
        criteria = SearchCriteria(
            lat=52.37,
            lon=4.895,
            radius_m=20_000,
            window=Window(start, start.replace(hour=12)),
            with_count=True,
        )
        page = search_chargers(criteria)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert [result.row.uid for result in page.results] == ["E2", "E1"]
    assert page.count == 2
    assert 1_050 < page.results[0].row.distance < 1_250
    assert page.results[0].quote is not None
    assert page.results[0].quote.amount_minor == 660  # 2 h x 11 kW x 0.30
    assert any("SpatialIndex" in sql and "PtDistWithin" in sql for sql in statements)


def test_spatialite_nearest_and_bbox(lite_app):
    db.session.add(Party(country_code="NL", party_id="PLG", name="PlugPool", is_own=True))
    db.session.flush()  # the composite foreign key is not a relationship the flush orders by
    db.session.add_all([_location(1, 52.46, 4.895), _location(2, 52.38, 4.895)])
    db.session.commit()
    nearest = search_chargers(SearchCriteria(lat=52.37, lon=4.895, nearest=1))
    assert [result.row.uid for result in nearest.results] == ["E2"]
    box = BBox(4.8, 52.40, 5.0, 52.5)
    inside = search_chargers(SearchCriteria(lat=52.45, lon=4.9, bbox=box))
    assert [result.row.uid for result in inside.results] == ["E1"]
