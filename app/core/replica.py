"""Read replica: reads that may be a second stale go to DATABASE_REPLICA_URL, writes to the primary.

A view marked `@stale_reads_ok` reads from the replica when the request is a GET or HEAD, the
client wrote nothing in the last DATABASE_REPLICA_STICKY_SECONDS (the `plugpool_wrote` cookie
says when), and the replica's last check found it streaming and at most DATABASE_REPLICA_MAX_LAG
seconds behind. A request's first write (a flush or a DML statement) and everything after it go
to the primary; so does the whole request when the replica is down or behind. Without
DATABASE_REPLICA_URL nothing here runs: no engine, no check, no cookie.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import UpdateBase

from app.core.db import install_idle_ping

log = logging.getLogger("plugpool.replica")

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "_plugpool_stale_reads_ok"
_ENGINE = "plugpool_replica"  # session.info key: the replica engine this request reads from
_WROTE = "plugpool_left_replica"  # session.info key: the request went on to the primary
COOKIE = "plugpool_wrote"
_SAFE = frozenset({"GET", "HEAD"})
# Streaming (a WAL receiver runs), still a standby, and how far replay is behind what arrived:
# 0 when it replayed everything received, else the age of the last transaction it replayed.
_CHECK = text(
    "SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM pg_stat_wal_receiver), "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)
NO_REPLAY = 1e9  # the lag _CHECK gives when the standby has replayed no transaction yet


def stale_reads_ok(view: F) -> F:
    """Mark a view (or a MethodView's method) whose GET may read a second-old replica."""
    setattr(view, _MARK, True)
    return view


class RoutingSession(FlaskSession):
    """db.session: the replica for a marked request's reads, the primary for writes and after."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Any | None = None,
        **kwargs: Any,
    ) -> Any:
        replica = self.info.get(_ENGINE)
        if replica is not None and bind is None:
            if not isinstance(clause, UpdateBase):
                return replica
            leave_replica(self)
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def leave_replica(session: sa.orm.Session) -> bool:
    """Send the session's statements to the primary from now on; True if it was on the replica."""
    if session.info.pop(_ENGINE, None) is None:
        return False
    session.info[_WROTE] = True
    return True


@event.listens_for(RoutingSession, "before_flush")
def _flush_on_primary(session: sa.orm.Session, _context: Any, _instances: Any) -> None:
    leave_replica(session)


def read_primary() -> bool:
    """Send the rest of this request to the primary; True if it was reading the replica.

    For a lookup that missed on the replica but may hit on the primary (a token issued a
    moment ago): call it, and look again only when it returns True.
    """
    from app.extensions import db

    return leave_replica(db.session())


class Replica:
    """The replica's engine and whether it is fit to read from, checked at most once a period."""

    def __init__(self, engine: Engine, max_lag: float, check_seconds: float, sticky: float):
        self.engine = engine
        self.max_lag = max_lag
        self.check_seconds = check_seconds
        self.sticky = sticky
        self._usable = False
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def usable(self) -> bool:
        """Tell whether reads may go to the replica (a cached verdict, refreshed when old)."""
        if time.monotonic() - self._checked >= self.check_seconds and self._lock.acquire(False):
            try:  # one thread checks; the others keep the last verdict meanwhile
                self._set(self._check())
            finally:
                self._lock.release()
        return self._usable

    def mark_down(self) -> None:
        """Stop reading from the replica until the next check finds it well."""
        self._set(False)

    def state(self) -> dict[str, Any]:
        """Look at the replica now (for /readyz): ok, behind or down, streaming, lag, and where
        the reads go; the verdict is kept as if a periodic check had found it."""
        try:
            standby, streaming, lag = self._measure()
        except sa.exc.SQLAlchemyError as error:
            self._set(False)
            return {"status": "down", "error": type(error).__name__, "reads": "primary"}
        usable = self._fit(standby, streaming, lag)
        self._set(usable)
        return {
            "status": "ok" if usable else "behind",
            "standby": bool(standby),
            "streaming": bool(streaming),
            "lag_seconds": round(float(lag), 3) if float(lag) < NO_REPLAY else None,
            "max_lag_seconds": self.max_lag,
            "reads": "replica" if usable else "primary",
        }

    def _measure(self) -> tuple[bool, bool, float]:
        """(still a standby, streaming, replay lag in seconds) from the replica itself."""
        with self.engine.connect() as connection:
            standby, streaming, lag = connection.execute(_CHECK).one()
        return bool(standby), bool(streaming), float(lag)

    def _fit(self, standby: bool, streaming: bool, lag: float) -> bool:
        return standby and streaming and lag <= self.max_lag

    def _check(self) -> bool:
        try:
            standby, streaming, lag = self._measure()
        except sa.exc.SQLAlchemyError as error:
            if self._usable:
                log.warning("read replica unreachable, reading from the primary: %s", error)
            return False
        usable = self._fit(standby, streaming, lag)
        if self._usable and not usable:
            log.warning(
                "read replica behind (standby %s, streaming %s, lag %.1f s)",
                standby,
                streaming,
                lag,
            )
        return usable

    def _set(self, usable: bool) -> None:
        self._usable, self._checked = usable, time.monotonic()


def init_app(app: Flask, db: Any) -> None:
    """Make the replica engine and route marked requests to it, when DATABASE_REPLICA_URL is set."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
    options.setdefault("connect_args", {}).setdefault("connect_timeout", 2)
    engine = sa.create_engine(url, **options)
    install_idle_ping(engine, app.config["DATABASE_PING_AFTER_IDLE"])
    replica = Replica(
        engine,
        float(app.config["DATABASE_REPLICA_MAX_LAG"]),
        float(app.config["DATABASE_REPLICA_CHECK_SECONDS"]),
        float(app.config["DATABASE_REPLICA_STICKY_SECONDS"]),
    )
    app.extensions[_ENGINE] = replica

    @event.listens_for(engine, "handle_error")
    def _lost(context: Any) -> None:
        # A dropped connection, or none to be had (no connection in the context): the next
        # requests go to the primary straight away, not after the next check.
        if context.is_disconnect or context.connection is None:
            replica.mark_down()

    @app.before_request
    def _route_reads() -> None:
        if _wants_replica(app) and replica.usable():
            db.session().info[_ENGINE] = replica.engine
            g.plugpool_read_replica = True

    @app.teardown_request
    def _failed_on_replica(error: BaseException | None) -> None:
        # Reads on a raw pooled connection (the search) fail outside SQLAlchemy's handle_error.
        if error is not None and g.get("plugpool_read_replica") and _is_database_down(error):
            log.warning("read replica failed a request, reading from the primary: %s", error)
            replica.mark_down()

    @app.after_request
    def _remember_write(response: Response) -> Response:
        wrote = request.method not in _SAFE or db.session().info.get(_WROTE)
        if wrote:
            until = time.time() + replica.sticky
            response.set_cookie(
                COOKIE,
                f"{until:.3f}",
                max_age=int(replica.sticky) + 1,
                httponly=True,
                samesite="Lax",
            )
        return response


def _is_database_down(error: BaseException) -> bool:
    return isinstance(error, sa.exc.OperationalError | psycopg.OperationalError)


def replica_of(app: Flask | None = None) -> Replica | None:
    """The app's replica, or None when reads all go to the primary."""
    return (app or current_app).extensions.get(_ENGINE)


def _wants_replica(app: Flask) -> bool:
    if request.method not in _SAFE or not _marked(app):
        return False
    try:
        wrote_until = float(request.cookies.get(COOKIE, "0"))
    except ValueError:
        wrote_until = 0.0
    return time.time() >= wrote_until  # read your own writes: the primary for a while


def _marked(app: Flask) -> bool:
    view = app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:  # a MethodView: the mark is on its method
        view = getattr(view_class, "get", None)  # GET or HEAD: MethodView answers HEAD with get
    return bool(getattr(view, _MARK, False))
