"""Statements run alone (no BEGIN/COMMIT round trips): run_alone and reads_alone views; statements
sent together in one round trip: run_together."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.core.db import read_alone, reads_alone, run_alone, run_together
from app.extensions import db
from tests.support.locks import wait_for_a_waiter


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    made = create_engine(database_url, pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def test_a_statement_runs_alone_on_a_connection_with_no_transaction(engine):
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert run_alone(connection, "SELECT %(n)s::int + 1", {"n": 41}) == [(42,)]
        # Committed with the statement: nothing left open, and the next one begins as usual.
        assert raw.info.transaction_status == TransactionStatus.IDLE and not raw.autocommit
        connection.execute(text("SELECT 1"))
        assert raw.info.transaction_status == TransactionStatus.INTRANS


def test_in_an_open_transaction_it_runs_nothing(engine):
    with engine.connect() as connection:
        connection.execute(text("CREATE TEMP TABLE seen (n int)"))
        assert run_alone(connection, "INSERT INTO seen VALUES (1)") is None
        assert connection.execute(text("SELECT count(*) FROM seen")).scalar_one() == 0


def test_a_write_alone_is_committed_at_once(engine, database_url):
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS run_alone_probe (n int)"))
    try:
        with engine.connect() as connection:
            assert run_alone(connection, "INSERT INTO run_alone_probe VALUES (7)") == []
            connection.rollback()  # nothing of the session's to roll back: the row stays
        other = create_engine(database_url)
        with other.connect() as reader:
            assert reader.execute(text("SELECT n FROM run_alone_probe")).scalars().all() == [7]
        other.dispose()
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE run_alone_probe"))


def test_a_reads_alone_view_reads_without_a_transaction_and_leaves_the_pool_as_it_was(app):
    def view() -> tuple[bool, TransactionStatus]:
        connection = db.session.connection()
        raw = connection.connection.driver_connection
        db.session.execute(text("SELECT 1"))
        run_alone(connection, "SELECT 2")  # leaves the view's statements alone as it found them
        db.session.execute(text("SELECT 3"))
        return raw.autocommit, raw.info.transaction_status

    with app.test_request_context("/"):
        db.session.remove()
        assert reads_alone(view)() == (True, TransactionStatus.IDLE)
        db.session.remove()  # the request's teardown: the connection goes back to the pool
        # Every pooled connection begins transactions again (a write must not run alone).
        held = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
        try:
            assert held and not any(c.driver_connection.autocommit for c in held)
        finally:
            for connection in held:
                connection.close()
        assert view() == (False, TransactionStatus.INTRANS)
        db.session.remove()


def _backend() -> int:
    return read_alone("SELECT pg_backend_pid()")[0][0]


def test_a_read_alone_outside_a_transaction_takes_no_pooled_connection(app):
    with app.test_request_context("/"):
        db.session.remove()
        first = _backend()
        assert not db.session().in_transaction()  # the session checked nothing out
        assert _backend() == first  # the thread's own connection, kept
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
        db.session.remove()


def test_a_read_alone_in_a_transaction_sees_what_it_wrote(app):
    with app.test_request_context("/"):
        db.session.remove()
        db.session.execute(text("CREATE TEMP TABLE written (n int)"))
        db.session.execute(text("INSERT INTO written VALUES (5)"))
        assert read_alone("SELECT n FROM written WHERE n = %(n)s", {"n": 5}) == [(5,)]
        db.session.rollback()
        db.session.remove()


def test_a_lost_own_connection_is_replaced(app, database_url):
    with app.test_request_context("/"):
        db.session.remove()
        lost = _backend()
        with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [lost])
        assert read_alone("SELECT 1") == [(1,)]  # answered on the session's connection
        db.session.remove()
        assert _backend() not in (lost, None)


def test_statements_run_together_in_one_transaction_that_a_rollback_undoes(engine):
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS run_together_probe (n int)"))
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            rows = run_together(
                connection,
                [
                    ("INSERT INTO run_together_probe VALUES (%(n)s)", {"n": 3}),
                    ("SELECT n FROM run_together_probe", None),
                ],
            )
            assert rows == [[], [(3,)]]  # the read saw the write sent with it
            assert raw.info.transaction_status == TransactionStatus.INTRANS  # BEGIN went too
            connection.rollback()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM run_together_probe")).scalar() == 0
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE run_together_probe"))


LOCK_SPACE, LOCK_KEY = 7399, 1
LOCK = ("SELECT pg_advisory_xact_lock(%(space)s, %(key)s)", {"space": LOCK_SPACE, "key": LOCK_KEY})


def test_a_read_sent_with_a_lock_sees_what_the_locks_last_holder_committed(engine, database_url):
    """Each statement takes its own snapshot: the read's is taken once the lock is granted."""
    plain = database_url.replace("+psycopg", "")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS run_together_probe (n int)"))
    seen: list[list[tuple[int]]] = []

    def queue_for_the_lock() -> None:
        with engine.connect() as connection:
            read = ("SELECT n FROM run_together_probe", None)
            seen.append(run_together(connection, [LOCK, read])[1])
            connection.rollback()

    try:
        with psycopg.connect(plain) as holder, psycopg.connect(plain, autocommit=True) as admin:
            holder.execute(*LOCK)
            holder.execute("INSERT INTO run_together_probe VALUES (9)")
            waiter = threading.Thread(target=queue_for_the_lock)
            waiter.start()
            wait_for_a_waiter(admin, LOCK_SPACE, LOCK_KEY)
            holder.commit()
            waiter.join(timeout=30)
        assert seen == [[(9,)]]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE run_together_probe"))
