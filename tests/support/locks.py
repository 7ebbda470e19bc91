"""Waiting in tests for a backend to queue for a PostgreSQL advisory lock."""

from __future__ import annotations

import time

import psycopg


def wait_for_a_waiter(admin: psycopg.Connection, space: int, key: int) -> None:
    """Return once some backend waits for the two-key advisory lock (space, key) in admin's
    database (advisory locks are per database; pg_locks shows the whole server's)."""
    give_up = time.monotonic() + 30
    while not admin.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND classid = %s AND objid = %s "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [space, key],
    ).fetchone()[0]:
        assert time.monotonic() < give_up, "nobody queued for the lock"
        time.sleep(0.02)
