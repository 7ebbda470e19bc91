"""Operator commands: demo seed, user create, station create."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.core.security import verify_secret
from app.extensions import db
from app.models import ChargeStation, Evse, Location, Party, User


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_seed_creates_chargers_whose_printed_passwords_work(runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "dana@plugpool.test" in result.output
    assert db.session.scalars(select(Party).where(Party.is_own.is_(True))).one().party_id == "PLG"
    owners = db.session.scalars(select(User).where(User.role == "owner")).all()
    assert len(owners) == 3
    locations = db.session.scalars(select(Location).where(Location.publish.is_(True))).all()
    assert len(locations) == 10
    assert all(52.2 < float(loc.latitude) < 52.5 for loc in locations)
    assert all(loc.availability for loc in locations)
    printed = re.findall(r"(PP-DEMO\d{4})\s+(\S+)\s+ws://", result.output)
    assert len(printed) == 10
    for station_id, password in printed:
        station = db.session.scalars(
            select(ChargeStation).where(ChargeStation.station_id == station_id)
        ).one()
        assert verify_secret(station.password_hash, password)


def test_demo_seed_twice_changes_nothing(runner):
    first = runner.invoke(args=["demo", "seed"])
    counts = (_count(User), _count(Location), _count(Evse), _count(ChargeStation))
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert (_count(User), _count(Location), _count(Evse), _count(ChargeStation)) == counts
    assert first.output == second.output


def test_user_create_with_password(runner):
    result = runner.invoke(
        args=[
            "user",
            "create",
            "Olga@Example.test",
            "--role",
            "owner",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User).where(User.email == "olga@example.test")).one()
    assert user.role == "owner"
    assert verify_secret(user.password_hash, "long enough pw")


def test_user_create_prompts_for_the_password(runner):
    result = runner.invoke(
        args=["user", "create", "admin2@example.test", "--role", "admin"],
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User).where(User.email == "admin2@example.test")).one()


def test_user_create_refuses_a_short_password(runner):
    result = runner.invoke(args=["user", "create", "x@example.test", "--password", "short"])
    assert result.exit_code != 0
    assert "password" in result.output
    assert db.session.scalars(select(User).where(User.email == "x@example.test")).first() is None


def test_station_create_prints_an_id_and_a_working_password(runner, make_location):
    location = make_location()
    result = runner.invoke(args=["station", "create", "--location", str(location.id)])
    assert result.exit_code == 0, result.output
    station_id = re.search(r"station id:\s+(PP-\w{8})", result.output).group(1)
    password = re.search(r"OCPP password:\s+(\S+)", result.output).group(1)
    station = db.session.scalars(
        select(ChargeStation).where(ChargeStation.station_id == station_id)
    ).one()
    assert verify_secret(station.password_hash, password)
    assert [evse.ocpp_evse_id for evse in station.evses] == [1]


def test_station_create_for_an_unknown_location_fails(runner, own_party):
    result = runner.invoke(args=["station", "create", "--location", "999999"])
    assert result.exit_code != 0
    assert "No listing" in result.output


def test_demo_seed_refuses_production(database_url):
    from app import create_app

    production = create_app("production", {"SECRET_KEY": "s" * 32, "DATABASE_URL": database_url})
    result = production.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "not loaded in production" in result.output


def _create_station(runner, location_id, *flags):
    """Run `flask station create` and return (result, station id or None)."""
    result = runner.invoke(args=["station", "create", "--location", str(location_id), *flags])
    found = re.search(r"station id:\s+(PP-\w{8})", result.output)
    return result, found.group(1) if found else None


def _station(station_id):
    return db.session.scalars(
        select(ChargeStation).where(ChargeStation.station_id == station_id)
    ).one()


def test_station_create_refuses_a_listing_whose_evses_have_a_station(runner, make_location):
    location = make_location()
    first, first_id = _create_station(runner, location.id)
    assert first.exit_code == 0, first.output
    count_before = db.session.scalar(select(func.count()).select_from(ChargeStation))
    again, again_id = _create_station(runner, location.id)
    assert again.exit_code != 0 and again_id is None
    assert "already has a station" in again.output and first_id in again.output
    assert "--move-evses" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ChargeStation)) == count_before
    assert [e.ocpp_evse_id for e in _station(first_id).evses] == [1]


def test_station_create_moves_the_evses_only_when_asked(runner, make_location):
    location = make_location()
    _, old_id = _create_station(runner, location.id)
    result, new_id = _create_station(runner, location.id, "--move-evses")
    assert result.exit_code == 0, result.output
    assert "EVSEs linked:  1" in result.output
    assert f"station {old_id} has no EVSEs left" in result.output
    db.session.expire_all()
    old, new = _station(old_id), _station(new_id)
    assert old.evses == [] and not old.approved
    assert [e.ocpp_evse_id for e in new.evses] == [1] and new.approved
