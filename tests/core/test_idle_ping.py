"""Pooled connections are pinged on checkout only after idling, and replaced when dead."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from app.core.db import install_idle_ping
from tests.conftest import _admin_execute


def _engine(database_url: str, idle_seconds: float) -> Engine:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds)
    return engine


@pytest.fixture
def engines(database_url: str) -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_an_idle_connection_killed_by_the_server_is_replaced(database_url, engines):
    engine = _engine(database_url, idle_seconds=0)
    engines.append(engine)
    first = _backend(engine)
    _admin_execute(f"SELECT pg_terminate_backend({first})")
    assert _backend(engine) != first  # the ping failed, the pool connected afresh


def test_a_connection_just_handed_back_is_not_pinged(database_url, engines):
    engine = _engine(database_url, idle_seconds=3600)
    engines.append(engine)
    first = _backend(engine)
    _admin_execute(f"SELECT pg_terminate_backend({first})")
    # No round trip on checkout: the dead connection is only found by the query itself,
    # which fails once; the pool then drops it and the next checkout connects afresh.
    with pytest.raises(OperationalError):
        _backend(engine)
    assert _backend(engine) != first
