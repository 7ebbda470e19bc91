"""The search as production runs it: committed rows, a pooled connection, no outer transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
from geoalchemy2.elements import WKTElement
from psycopg.rows import namedtuple_row

from app.extensions import db
from app.inventory.models import Connector, Evse, Location, Party
from app.search import queries
from app.search.criteria import SearchCriteria
from app.tariffs.models import Tariff
from tests.conftest import _admin_execute

WINDOW = {"available_from": "2026-11-23T10:00:00Z", "available_to": "2026-11-23T12:00:00Z"}
AREA = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000}


def _energy(price: str) -> list[dict[str, Any]]:
    return [{"price_components": [{"type": "ENERGY", "price": Decimal(price), "step_size": 1}]}]


def _seed() -> Tariff:
    db.session.add(Party(country_code="NL", party_id="PLG", name="PlugPool", is_own=True))
    db.session.flush()  # the composite foreign key is not a relationship the flush orders by
    tariff = Tariff(
        country_code="NL", party_id="PLG", ocpi_id="T1", currency="EUR", elements=_energy("0.30")
    )
    location = Location(
        country_code="NL",
        party_id="PLG",
        ocpi_id="L1",
        publish=True,
        name="Charger 1",
        address="Street 1",
        city="Amsterdam",
        country="NLD",
        latitude=Decimal("52.380000"),
        longitude=Decimal("4.895000"),
        geog=WKTElement("POINT(4.895 52.38)", srid=4326),
        time_zone="Europe/Amsterdam",
    )
    evse = Evse(uid="E1", evse_id="NL*PLG*E1", status="AVAILABLE")
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
    db.session.add_all([tariff, location])
    db.session.commit()
    return tariff


def _edit(price: str) -> None:
    tariff = db.session.query(Tariff).one()
    tariff.elements = _energy(price)
    db.session.commit()


def test_a_search_on_a_pooled_connection_sees_committed_rows_and_hands_it_back(app, committed_db):
    with app.app_context():
        _seed()
    client = app.test_client()  # each request in its own app context, as under gunicorn
    body = client.get("/api/v1/chargers", query_string={**AREA, **WINDOW}).get_json()
    assert [result["evse"]["uid"] for result in body["results"]] == ["E1"]
    assert body["results"][0]["quote"]["amount_minor"] == 660  # 2 h x 11 kW x 0.30
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
        # An edit moves last_updated: the next search prices with the new version at once.
        _edit("0.45")
    again = client.get("/api/v1/chargers", query_string={**AREA, **WINDOW}).get_json()
    assert again["results"][0]["quote"]["amount_minor"] == 990
    with app.app_context(), db.engine.connect() as connection:
        # The pooled connection went back clean: not left in autocommit, usable.
        assert connection.connection.driver_connection.autocommit is False
        assert connection.exec_driver_sql("SELECT 1").scalar_one() == 1


def test_a_search_survives_the_server_dropping_its_pooled_connection(app, committed_db):
    with app.app_context():
        _seed()
    client = app.test_client()
    assert client.get("/api/v1/chargers", query_string=AREA).status_code == 200
    with app.app_context():
        held = [db.engine.connect() for _ in range(3)]  # several idle ones in the pool
        for connection in held:
            connection.close()
        assert db.engine.pool.checkedin() >= 3
        name = db.engine.url.database
    # As a server restart would: end every connection to the database.
    _admin_execute(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    )
    # The connection handed back a moment ago is not pinged; the read is repeated instead.
    response = client.get("/api/v1/chargers", query_string=AREA)
    assert response.status_code == 200
    assert [result["evse"]["uid"] for result in response.get_json()["results"]] == ["E1"]


def test_pooled_rows_are_the_named_tuples_psycopg_makes(app, committed_db):
    with app.app_context():
        _seed()
        criteria = SearchCriteria(lat=AREA["lat"], lon=AREA["lon"], radius_m=AREA["radius_m"])
        rows = queries.evses_near(criteria, None, 5)
        # The same statement through psycopg's own namedtuple_row.
        with db.engine.connect() as connection:
            sql, names = queries._compiled(criteria, None, connection.dialect)
            values = queries._values(criteria, None, 5)
            raw = connection.connection.driver_connection
            with psycopg.RawCursor(raw, row_factory=namedtuple_row) as cursor:
                cursor.execute(sql, [values[name] for name in names])
                expected = cursor.fetchall()
            connection.rollback()
    assert rows and rows == expected
    assert [type(row) for row in rows] == [type(row) for row in expected]
    assert [row._asdict() for row in rows] == [row._asdict() for row in expected]
