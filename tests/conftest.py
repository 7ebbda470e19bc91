"""Test harness: a throwaway PostgreSQL + PostGIS database, migrated once, rolled back per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.extensions import db as _db

ADMIN_URL = os.environ.get(
    "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

pytest_plugins = ["tests.factories"]


def _admin_execute(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(sql)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """Create a uniquely named database with postgis and btree_gist, and drop it afterwards."""
    name = f"plugpool_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    """The app on the test database, migrated to head by the real migrations."""
    # The hub's message log in the request's transaction: each test's is rolled back with it
    # (tests/ocpi/hub/test_message_log.py covers the batches written by a thread of their own).
    settings = {"DATABASE_URL": database_url, "HUB_MESSAGE_FLUSH_SECONDS": 0}
    application = create_app("testing", settings)
    with application.app_context():
        upgrade()
        _db.engine.dispose()
    yield application


@pytest.fixture
def db(app: Flask) -> Iterator[Connection]:
    """Run the test inside one outer transaction that is rolled back at the end.

    Services still call commit(); in this mode a commit only releases a savepoint.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        # A plain Session honours bind=; Flask-SQLAlchemy's own would pick the engine.
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        _db.session = scoped_session(factory, scopefunc=_app_ctx_id)
        try:
            yield connection
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def committed_db(app: Flask) -> Iterator[None]:
    """Let the test commit for real (threads, other processes), then empty every table."""
    yield
    with app.app_context():
        _db.session.remove()
        tables = ", ".join(f'"{table.name}"' for table in _db.metadata.sorted_tables)
        with _db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app: Flask, db: Connection) -> FlaskClient:
    """A test client whose requests share the test's rolled-back transaction."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db: Connection) -> FlaskCliRunner:
    """A CLI runner inside the test's transaction."""
    return app.test_cli_runner()
