"""The read replica on a real PostgreSQL streaming standby (pg_basebackup -R, another port)."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app import create_app
from app.core.replica import COOKIE, replica_of
from app.core.security import digest_token, new_token
from app.extensions import db
from app.ocpi.models import OcpiPartner, PartnerStatus
from scripts import replica

pytestmark = pytest.mark.slow  # copies the whole local cluster (pg_basebackup)

AREA = {"lat": 52.37, "lon": 4.895, "radius_m": 5_000}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def standby(app: Flask, database_url: str) -> Iterator[dict[str, Any]]:
    """A hot standby of the local server (the migrated test database included)."""
    port = _free_port()
    try:
        directory = replica.create(port)
    except replica.ReplicaError as error:
        pytest.skip(f"no streaming replica can be made here: {error}")
    database = make_url(database_url).database
    try:
        yield {
            "url": replica.url(port, database),
            "dsn": f"postgresql://postgres@127.0.0.1:{port}/{database}",
            "primary": make_url(database_url).set(drivername="postgresql").render_as_string(False),
            "directory": directory,
        }
    finally:
        replica.stop(directory)


def _app(database_url: str, standby: dict[str, Any], **settings: Any) -> Flask:
    return create_app(
        "testing",
        {
            "DATABASE_URL": database_url,
            "DATABASE_REPLICA_URL": standby["url"],
            "DATABASE_REPLICA_CHECK_SECONDS": 0.0,  # look at the replica on every request
            **settings,
        },
    )


def _add_location(dsn: str, ocpi_id: str, lat: str) -> None:
    """Commit a published location with one Type 2 EVSE on the primary."""
    with psycopg.connect(dsn) as connection:
        connection.execute(
            "INSERT INTO parties (country_code, party_id, name, roles, is_own, created_at, "
            "last_updated) VALUES ('NL', 'PLG', 'PlugPool', '[\"CPO\"]', true, now(), now()) "
            "ON CONFLICT DO NOTHING"
        )
        location = connection.execute(
            "INSERT INTO locations (country_code, party_id, ocpi_id, publish, name, address, "
            "city, country, latitude, longitude, geog, time_zone, facilities, directions, images, "
            "charging_when_closed, created_at, last_updated) VALUES ('NL', 'PLG', %(id)s, true, "
            "%(id)s, 'Street 1', 'Amsterdam', 'NLD', %(lat)s, 4.895, "
            "ST_SetSRID(ST_MakePoint(4.895, %(lat)s), 4326)::geography, 'Europe/Amsterdam', "
            "'[]', '[]', '[]', true, now(), now()) RETURNING id",
            {"id": ocpi_id, "lat": Decimal(lat)},
        ).fetchone()[0]
        evse = connection.execute(
            "INSERT INTO evses (location_id, uid, evse_id, status, capabilities, "
            "parking_restrictions, created_at, last_updated) VALUES (%s, %s, %s, 'AVAILABLE', "
            "'[]', '[]', now(), now()) RETURNING id",
            (location, f"{ocpi_id}-E1", f"NL*PLG*{ocpi_id}"),
        ).fetchone()[0]
        connection.execute(
            "INSERT INTO connectors (evse_pk, ocpi_id, standard, format, power_type, max_voltage, "
            "max_amperage, max_electric_power, tariff_ids, created_at, last_updated) VALUES "
            "(%s, '1', 'IEC_62196_T2', 'SOCKET', 'AC_3_PHASE', 230, 16, 11000, '[]', now(), now())",
            (evse,),
        )


def _until(check: Callable[[], bool], what: str) -> None:
    """Wait for replication (bounded: the standby streams from a busy shared server)."""
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"the standby never caught up: {what}")
        time.sleep(0.05)


def _on_standby(standby: dict[str, Any], sql: str) -> Any:
    with psycopg.connect(standby["dsn"], autocommit=True) as connection:
        return connection.execute(sql).fetchone()[0]


def _found(client: Any) -> list[str]:
    body = client.get("/api/v1/chargers", query_string=AREA).get_json()
    return sorted(result["location"]["name"] for result in body["results"])


@pytest.fixture
def stale_standby(standby: dict[str, Any], committed_db: None) -> Iterator[dict[str, Any]]:
    """L1 on both servers; the standby's replay paused; then L2 committed on the primary only."""
    _add_location(standby["primary"], "L1", "52.371")
    sql = "SELECT count(*) FROM locations WHERE ocpi_id = 'L1'"
    _until(lambda: _on_standby(standby, sql) == 1, "L1")
    _on_standby(standby, "SELECT pg_wal_replay_pause()")
    try:
        _add_location(standby["primary"], "L2", "52.372")
        yield standby
    finally:
        _on_standby(standby, "SELECT pg_wal_replay_resume()")


def test_a_search_reads_the_replica_and_a_write_goes_to_the_primary(database_url, stale_standby):
    app = _app(database_url, stale_standby, DATABASE_REPLICA_MAX_LAG=3600.0)
    driver = app.test_client()
    # L2 is on the primary only: a search that finds L1 alone was served by the standby.
    assert _found(driver) == ["L1"]
    signed_up = driver.post(
        "/api/v1/users",
        json={
            "email": "r@example.com",
            "password": "long enough pw",
            "name": "R",
            "role": "driver",
        },
    )
    assert signed_up.status_code == 201, signed_up.get_json()
    with psycopg.connect(stale_standby["primary"]) as connection:
        sql = "SELECT count(*) FROM users WHERE email = 'r@example.com'"
        assert connection.execute(sql).fetchone()[0] == 1
    assert _on_standby(stale_standby, "SELECT count(*) FROM users") == 0  # replay is paused
    # Read your writes: the client that wrote reads the primary for a while; others do not.
    assert driver.get_cookie(COOKIE) is not None
    assert _found(driver) == ["L1", "L2"]
    assert _found(app.test_client()) == ["L1"]
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    state = ready.get_json()["checks"]["replica"]
    assert (state["status"], state["streaming"], state["reads"]) == ("ok", True, "replica")
    assert state["lag_seconds"] is not None and state["lag_seconds"] <= 3600
    replica_of(app).engine.dispose()


def test_a_replica_further_behind_than_allowed_is_passed_over(database_url, stale_standby):
    app = _app(database_url, stale_standby, DATABASE_REPLICA_MAX_LAG=0.0)
    assert _found(app.test_client()) == ["L1", "L2"]
    assert replica_of(app).usable() is False
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200  # behind: reads go to the primary, the node stays ready
    state = ready.get_json()["checks"]["replica"]
    assert (state["status"], state["streaming"], state["reads"]) == ("behind", True, "primary")
    replica_of(app).engine.dispose()


def test_an_ocpi_token_the_replica_lacks_is_looked_up_on_the_primary(database_url, stale_standby):
    app = _app(database_url, stale_standby, DATABASE_REPLICA_MAX_LAG=3600.0)
    token = new_token()
    with app.app_context():
        db.session.add(
            OcpiPartner(
                name="late",
                status=PartnerStatus.REGISTERED.value,
                token_in_digest=digest_token(token),
                token_out="theirs",
                version="2.2.1",
            )
        )
        db.session.commit()
    header = {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}
    answer = app.test_client().get("/ocpi/cpo/2.2.1/locations", headers=header).get_json()
    # The token missed on the standby; the primary knew it and served the rest (L2 too).
    assert answer["status_code"] == 1000, answer
    assert sorted(location["id"] for location in answer["data"]) == ["L1", "L2"]
    replica_of(app).engine.dispose()


def test_reads_go_to_the_primary_while_the_replica_is_down(database_url, standby, committed_db):
    app = _app(database_url, standby, DATABASE_REPLICA_MAX_LAG=3600.0)
    # This one looked at the replica once, found it well, and will not look again for an hour.
    trusting = _app(
        database_url,
        standby,
        DATABASE_REPLICA_MAX_LAG=3600.0,
        DATABASE_REPLICA_CHECK_SECONDS=3600.0,
    )
    client, trusting_client = app.test_client(), trusting.test_client()
    _add_location(standby["primary"], "L3", "52.373")
    _until(lambda: _found(client) == ["L3"], "L3")  # served by the standby once replayed
    _until(lambda: _found(trusting_client) == ["L3"], "L3")
    replica.stop(standby["directory"], remove=False)
    assert _found(client) == ["L3"]
    assert replica_of(app).usable() is False
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["replica"]["status"] == "down"
    # A request already sent to the replica when it died fails (a 500 outside tests, where
    # the error propagates); the next ones go to the primary without waiting for the next look.
    with pytest.raises((psycopg.OperationalError, sa_exc.OperationalError)):
        trusting_client.get("/api/v1/chargers", query_string=AREA)
    assert _found(trusting_client) == ["L3"]
    for each in (app, trusting):
        replica_of(each).engine.dispose()
