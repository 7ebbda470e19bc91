"""The hub's message log: metadata of each routed message (never a body), and its retention.

A row is one Core INSERT in the caller's transaction (no ORM object: it is on every routed
request's path). A transaction holding nothing else is committed without waiting for the disk
(`record(no_wait=True)`, which says so in the INSERT itself): after a crash the last fraction
of a second of log rows can be missing, which a metadata log can afford; what another party
relies on (outbox, proxied URLs, statuses) is committed durably.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert

from app.core.clock import utcnow
from app.core.db import run_alone
from app.extensions import db
from app.ocpi.hub.models import HubMessage, HubProxy


def party_code(party: tuple[str, str] | None) -> str | None:
    """'NLPLG' for ('NL', 'PLG')."""
    return "".join(party) if party else None


_INSERT = insert(HubMessage.__table__)  # Core: no ORM bulk bookkeeping
# The row and `SET LOCAL synchronous_commit` in one round trip (read by PostgreSQL at commit).
_INSERT_NO_WAIT = _INSERT.returning(func.set_config("synchronous_commit", "off", True))


def record(no_wait: bool = False, **fields: Any) -> None:
    """Write one message's metadata in the caller's transaction (committed with its work).

    no_wait: the transaction holds log metadata only, and the caller commits it next; its
    commit need not wait for the disk. If the transaction has not begun (nothing read or
    written in it yet), the row is its own transaction, committed at once in one round trip.
    """
    # On the session's connection, past the ORM's execute (nothing pending needs a flush first:
    # no row of the log refers to one); the clause sends it to the primary.
    connection = db.session.connection(bind_arguments={"clause": _INSERT})
    values = {"created_at": utcnow(), **fields}
    if no_wait and connection.dialect.name == "postgresql":
        session = db.session()
        pending = session.new or session.dirty or session.deleted
        if not pending and run_alone(connection, _no_wait_sql(tuple(values)), values) is not None:
            return
        connection.execute(_INSERT_NO_WAIT, values).close()
    else:
        connection.execute(_INSERT, values)


@functools.cache
def _no_wait_sql(keys: tuple[str, ...]) -> str:
    """_INSERT_NO_WAIT as the driver's text for these columns (the driver's own statement)."""
    columns = HubMessage.__table__.c
    assert all(key in columns for key in keys)
    names = ", ".join(keys)
    placeholders = ", ".join(f"%({key})s" for key in keys)
    return (
        f"INSERT INTO {HubMessage.__tablename__} ({names}) VALUES ({placeholders}) "  # noqa: S608 (column names of the model, checked above)
        "RETURNING set_config('synchronous_commit', 'off', true)"
    )


def purge() -> int:
    """Delete log rows and proxy URLs older than HUB_MESSAGE_RETENTION_DAYS; return rows gone."""
    cutoff = utcnow() - timedelta(days=current_app.config["HUB_MESSAGE_RETENTION_DAYS"])
    gone = db.session.execute(delete(HubMessage).where(HubMessage.created_at < cutoff)).rowcount
    db.session.execute(delete(HubProxy).where(HubProxy.created_at < cutoff))
    db.session.commit()
    return gone or 0
