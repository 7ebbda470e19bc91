"""Declarative base, constraint naming convention and portable column types."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import JSON, DateTime, MetaData, TextClause, TypeDecorator, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.clock import utcnow

IDLE = TransactionStatus.IDLE  # a driver connection with no transaction open
# A statement in the driver's SQL (`%(name)s` parameters) with its parameters.
DriverStatement = tuple[str, Mapping[str, Any] | None]

# Ids are INTEGER columns (32-bit) in PostgreSQL; a larger number names nothing we store.
MAX_ID = 2**31 - 1

# A fixed naming convention keeps Alembic autogenerate stable across dialects.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite has no zone type; store naive UTC so string comparisons order correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Timestamped:
    """Adds created_at and an OCPI last_updated that moves on every change."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_updated: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Prices carry at most a few decimals, well inside float's 15 exact significant
        # digits, and json_loads reads them back as Decimal from the shortest repr.
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_dumps(value: Any) -> str:
    """Serialise JSON columns; Decimals stay exact."""
    return json.dumps(value, default=_default, separators=(",", ":"))


def json_loads(text: str | bytes) -> Any:
    """Deserialise JSON columns; numbers with a fraction come back as Decimal."""
    return json.loads(text, parse_float=Decimal)


def install_idle_ping(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled PostgreSQL connection on checkout only if it sat idle that long.

    pool_pre_ping pays a round trip on every request; a connection handed back moments
    ago is as alive as the server, and one that is not fails its query and is replaced.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is not None and time.monotonic() - returned_at < idle_seconds:
            return
        try:
            # Alone (autocommit): no transaction is left open for the checkout's user to inherit.
            dbapi_connection.autocommit = True
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.autocommit = False
        except Exception as error:  # any failure: the pool replaces the connection
            raise DisconnectionError(str(error)) from error


def run_alone(
    connection: Connection, sql: str, params: dict[str, Any] | None = None
) -> list[Any] | None:
    """Run one statement as a transaction of its own (one round trip: no BEGIN, no COMMIT) on a
    PostgreSQL connection that has no transaction open yet; None when it was not run (one is
    open, or another database), else the rows it returned.

    For a statement a request makes first and alone (a read, or a write its transaction would
    only commit): the session's transaction is not begun for it.
    """
    if connection.dialect.name != "postgresql":
        return None
    raw = connection.connection.driver_connection
    if raw is None or raw.info.transaction_status != IDLE:
        return None
    was = raw.autocommit  # True within a reads_alone view
    raw.autocommit = True
    try:
        cursor = raw.execute(sql, params, prepare=True)  # a statement sent on every request
        return cursor.fetchall() if cursor.description else []
    except psycopg.Error:
        if raw.broken:
            connection.invalidate()  # as SQLAlchemy does when its own statement finds it lost
        raise
    finally:
        if not raw.closed:
            raw.autocommit = was


def run_together(
    connection: Connection, statements: Sequence[DriverStatement]
) -> list[list[Any]] | None:
    """Run statements (the driver's SQL) in the connection's transaction, sent at once (psycopg's
    pipeline: one round trip, BEGIN included) on PostgreSQL; None on another database, else the
    rows of each.

    For a lock and the read that must follow it: the server runs them in order, each with a
    snapshot of its own (READ COMMITTED), so the read sees what the lock's last holder committed,
    and its answer comes back with the lock's instead of one round trip later.
    """
    if connection.dialect.name != "postgresql":
        return None
    raw = connection.connection.driver_connection
    try:
        with raw.pipeline():
            cursors = [raw.execute(sql, params, prepare=True) for sql, params in statements]
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    except psycopg.Error:
        if raw.broken:
            connection.invalidate()  # as SQLAlchemy does when its own statement finds it lost
        raise


_own = threading.local()  # per thread: {engine: its detached connection} (read_alone)


def read_alone(sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run one read statement (the driver's SQL) as a statement of its own and return its rows.

    When the request's session has begun no transaction on PostgreSQL, it runs on this thread's
    own connection to the session's engine (taken from the pool once and kept, autocommit): no
    pool checkout or return, no BEGIN or COMMIT, for a read every request makes first (a hub
    request may then need no pooled connection at all). Else on the session's connection: alone
    while no statement began a transaction on it (`run_alone`, a `reads_alone` view), or in its
    transaction, where what it wrote shows (tests' rolled-back transactions included).
    """
    from app.extensions import db

    session = db.session()
    engine = session.get_bind()  # the replica's, in a request that may read it
    if isinstance(engine, Engine) and not session.in_transaction():
        rows = _on_own_connection(engine, sql, params)
        if rows is not None:
            return rows
    connection = session.connection()
    rows = run_alone(connection, sql, params)  # alone still, if no statement began one yet
    return rows if rows is not None else list(connection.execute(_as_text(sql), params or {}))


@functools.cache
def _as_text(sql: str) -> TextClause:
    """The driver's SQL (`%(name)s` parameters) as a text clause, for any database."""
    return text(re.sub(r"%\((\w+)\)s", r":\1", sql))


def _on_own_connection(engine: Engine, sql: str, params: dict[str, Any] | None) -> list[Any] | None:
    """The rows; None when this thread has no connection of its own to read on (not PostgreSQL,
    or it was just found lost)."""
    if engine.dialect.name != "postgresql":
        return None
    raw = own_connection(engine)
    try:
        return raw.execute(sql, params, prepare=True).fetchall()
    except psycopg.Error:
        lost = raw.broken
        drop_own_connection(engine)
        if lost:  # a restart, an idle timeout: the session's pooled connection reads instead
            return None
        raise


def own_connection(engine: Engine) -> psycopg.Connection:
    """This thread's own autocommit connection to a PostgreSQL engine's database: taken from
    the pool once and detached from it (never checked out or in again), until dropped."""
    connections = getattr(_own, "connections", None)
    if connections is None:
        connections = _own.connections = {}
    held = connections.get(engine)
    if held is None or held[1].closed:
        pooled = engine.raw_connection()
        raw = pooled.driver_connection
        pooled.detach()
        raw.autocommit = True
        held = connections[engine] = (pooled, raw)  # the pool's wrapper kept with it
    return held[1]


def drop_own_connection(engine: Engine) -> None:
    """Close this thread's own connection to the engine's database (after an error on it)."""
    held = getattr(_own, "connections", {}).pop(engine, None)
    if held is not None:
        held[0].close()


F = TypeVar("F", bound=Callable[..., Any])


def reads_alone(view: F) -> F:
    """Mark a view that only reads: on PostgreSQL each of its statements runs alone, with no
    BEGIN and ROLLBACK round trips around them (under READ COMMITTED every statement sees what
    is committed when it starts either way). Nothing it calls may write."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from app.extensions import db

        session = db.session()
        # Only on a fresh pooled connection (not one a test or a caller holds a transaction on).
        fresh = isinstance(session.get_bind(), Engine) and not session.in_transaction()
        connection = session.connection() if fresh else None
        raw = connection.connection.driver_connection if connection is not None else None
        if not isinstance(raw, psycopg.Connection) or raw.info.transaction_status != IDLE:
            return view(*args, **kwargs)
        raw.autocommit = True
        try:
            return view(*args, **kwargs)
        finally:
            if not raw.closed:
                raw.autocommit = False  # before the connection goes back to the pool

    return wrapper  # type: ignore[return-value]
