"""The hub's message log: metadata of each routed message (never a body), and its retention.

Rows are written in batches, off the routed request's path: `record()` adds the row to this
process's buffer, and a background thread writes the buffer every HUB_MESSAGE_FLUSH_SECONDS (at
once when HUB_MESSAGE_FLUSH_ROWS rows wait) as one COPY in a transaction of its own (an INSERT
off PostgreSQL), committed without waiting for the disk. The crash window: a process killed
outright (SIGKILL, a worker timeout) loses the rows of its last interval, and a database crash
the last fraction of a second of committed ones; a graceful exit writes what is buffered
(atexit). A metadata log can afford
that; what another party relies on (outbox, proxied URLs, statuses) is committed durably in the
request's transaction. HUB_MESSAGE_FLUSH_SECONDS = 0 writes each row in the caller's transaction
instead (the test suite, whose tests each run in one rolled-back transaction).
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import psycopg
from flask import current_app
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.core.clock import utcnow
from app.core.db import drop_own_connection, own_connection
from app.extensions import db
from app.ocpi.hub.models import HubMessage, HubProxy
from app.ocpi.models import OcpiPartner

log = logging.getLogger("plugpool.ocpi.hub")

_INSERT = insert(HubMessage.__table__)  # Core: no ORM bookkeeping
_FIELDS = tuple(c.name for c in HubMessage.__table__.c if c.name != "id")
_PARTNER_FIELDS = ("sender_partner_id", "receiver_partner_id")
# The connections whose log batches commit without waiting for the disk (set once on each).
_NO_WAIT: weakref.WeakKeyDictionary[psycopg.Connection, bool] = weakref.WeakKeyDictionary()
_COPY = f"COPY {HubMessage.__tablename__} ({', '.join(_FIELDS)}) FROM STDIN"
# Rows kept for a later flush while the database cannot take them; beyond, the oldest go.
MAX_BUFFERED = 100_000


def party_code(party: tuple[str, str] | None) -> str | None:
    """'NLPLG' for ('NL', 'PLG')."""
    return "".join(party) if party else None


class _Buffer:
    """One app's unwritten rows and the thread that writes them to its database."""

    def __init__(self, engine: Engine, config: Mapping[str, Any]) -> None:
        self.engine, self.config = engine, config  # the settings read as they are at each use
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.due = threading.Event()  # set: write now (rows enough)
        self.thread: threading.Thread | None = None

    def add(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.rows.append(row)
            waiting = len(self.rows)
            if self.thread is None or not self.thread.is_alive():  # first row (or a fork)
                self.thread = threading.Thread(
                    target=self._run, name="hub-message-log", daemon=True
                )
                self.thread.start()
        if waiting >= self.config["HUB_MESSAGE_FLUSH_ROWS"]:
            self.due.set()

    def _run(self) -> None:
        while True:
            self.due.wait(self.config["HUB_MESSAGE_FLUSH_SECONDS"])
            self.due.clear()
            self.flush()

    def flush(self) -> int:
        """Write the buffered rows in one transaction of their own; return how many."""
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return 0
        try:
            _write(self.engine, rows)
        except (SQLAlchemyError, psycopg.Error) as error:
            log.warning("hub message log: %d rows not written yet: %s", len(rows), error)
            with self.lock:
                self.rows[:0] = rows
                del self.rows[:-MAX_BUFFERED]
            return 0
        return len(rows)


_EXTENSION = "plugpool.hub_messages"
_buffers: list[_Buffer] = []  # every app's in this process, written at exit
_creating = threading.Lock()


def _buffer() -> _Buffer:
    """The current app's buffer (made at its first row)."""
    extensions = current_app.extensions
    found = extensions.get(_EXTENSION)
    if found is None:
        with _creating:
            found = extensions.get(_EXTENSION)
            if found is None:
                found = extensions[_EXTENSION] = _Buffer(db.engine, current_app.config)
                _buffers.append(found)
    return found


def record(**fields: Any) -> None:
    """Log one message's metadata: buffered for the next batch (or, with
    HUB_MESSAGE_FLUSH_SECONDS = 0, written in the caller's transaction)."""
    row = {**dict.fromkeys(_FIELDS), "created_at": utcnow(), **fields}
    if current_app.config["HUB_MESSAGE_FLUSH_SECONDS"] <= 0:
        db.session.connection(bind_arguments={"clause": _INSERT}).execute(_INSERT, row)
        return
    _buffer().add(row)


def flush() -> int:
    """Write the current app's buffered rows now (a test reading the log); return how many."""
    found = current_app.extensions.get(_EXTENSION)
    return found.flush() if found is not None else 0


@atexit.register
def _flush_all() -> None:
    for buffer in _buffers:
        buffer.flush()


def _write(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """The rows in one transaction, committed without waiting for the disk (log metadata)."""
    try:
        _insert(engine, rows)
    except (IntegrityError, psycopg.errors.IntegrityError):
        # A party deleted since its rows were buffered: its ids become NULL, as ON DELETE SET
        # NULL would have made them had the rows been written at once.
        _insert(engine, _without_gone_partners(engine, rows))


def _insert(engine: Engine, rows: list[dict[str, Any]]) -> None:
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            connection.execute(_INSERT, rows)
        return
    # COPY on the writing thread's own connection, committed as it ends: one round trip, the
    # cheapest way in for a batch for this process and the database alike.
    raw = own_connection(engine)
    try:
        if not _NO_WAIT.get(raw):
            raw.execute("SET synchronous_commit = off")  # this connection writes only the log
            _NO_WAIT[raw] = True
        with raw.cursor().copy(_COPY) as copy:
            for row in rows:
                copy.write_row([row[name] for name in _FIELDS])
    except psycopg.Error:
        drop_own_connection(engine)
        raise


def _without_gone_partners(engine: Engine, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = {row[name] for row in rows for name in _PARTNER_FIELDS} - {None}
    with engine.connect() as connection:
        found = set(connection.scalars(select(OcpiPartner.id).where(OcpiPartner.id.in_(ids))))
    return [
        {**row, **{name: None for name in _PARTNER_FIELDS if row[name] not in found}}
        for row in rows
    ]


def purge() -> int:
    """Delete log rows and proxy URLs older than HUB_MESSAGE_RETENTION_DAYS; return rows gone."""
    cutoff = utcnow() - timedelta(days=current_app.config["HUB_MESSAGE_RETENTION_DAYS"])
    gone = db.session.execute(delete(HubMessage).where(HubMessage.created_at < cutoff)).rowcount
    db.session.execute(delete(HubProxy).where(HubProxy.created_at < cutoff))
    db.session.commit()
    return gone or 0
