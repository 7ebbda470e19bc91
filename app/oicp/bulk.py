"""Bulk writes of the bridge: a page or batch of rows in one statement per table."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import orjson
from geoalchemy2.elements import WKTElement
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


@contextmanager
def few_collections() -> Iterator[None]:
    """Freeze the objects that exist now out of the cyclic GC's reach for a bulk job.

    A fullLoad or a pull makes 100,000s of short-lived, acyclic dicts; each time they trigger a
    full collection, Python rescans the whole application's heap too (a third of a push's CPU).
    Frozen objects are still freed when unreferenced; only cycles among them wait until the
    job ends. New objects are collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _insert(model: Any) -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model.__table__)


def _execute(statement: Any, rows: list[dict[str, Any]]) -> Any:
    """One executemany on the session's connection: compiled once, batched by the driver
    (insertmanyvalues), RETURNING rows of every batch."""
    return db.session.connection().execute(statement, rows)


def upsert(
    model: Any,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...] = (),
    changed: tuple[str, ...] = (),
    returning: tuple[str, ...] = (),
    special: dict[str, str] | None = None,
) -> list[Any]:
    """INSERT `rows` (ON CONFLICT (keys) DO UPDATE SET `changed` from EXCLUDED and the
    `special` SQL fragments, when keys are given); return the `returning` columns.

    PostgreSQL: one statement whose rows travel as one JSON document (jsonb_to_recordset), so
    a 2,000-record page is one short query with one parameter: not a 2,000-row VALUES list
    the driver parses and SQLAlchemy binds row by row, nor arrays psycopg escapes element by
    element in Python (that was a third of a page's CPU). SQLite (development): the same
    upsert, executemany.
    """
    if not rows:
        return []
    table = model.__table__
    special = special or {}
    if db.session.get_bind().dialect.name != "postgresql":
        statement = _insert(model)
        if keys:
            set_ = {name: statement.excluded[name] for name in changed}
            set_.update({name: text(sql) for name, sql in special.items()})
            statement = statement.on_conflict_do_update(index_elements=list(keys), set_=set_)
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
        result = _execute(statement, rows)
        return list(result) if returning else []
    names = list(rows[0])
    for name in (*names, *keys, *changed, *returning, *special):
        table.c[name]  # only the table's own column names reach the SQL text below
    defined, selected = [], []
    for name in names:
        kind = table.c[name].type.compile(dialect=postgresql.dialect())
        if kind.startswith("geography"):
            defined.append(f'"{name}" text')
            selected.append(f'CAST(v."{name}" AS {kind})')
        else:
            defined.append(f'"{name}" {kind}')
            selected.append(f'v."{name}"')
    sets = [f'"{name}" = EXCLUDED."{name}"' for name in changed]
    sets += [f'"{name}" = {sql}' for name, sql in special.items()]
    # Column names checked above; the rows travel as one bound JSON document.
    quoted = ", ".join(f'"{name}"' for name in names)
    sql = (
        f"INSERT INTO {table.name} ({quoted}) "  # noqa: S608
        f"SELECT {', '.join(selected)} "
        f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS v({', '.join(defined)})"
    )
    if keys:
        sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    payload = orjson.dumps(rows, default=_json_value).decode()
    result = db.session.execute(text(sql), {"rows": payload})
    return list(result) if returning else []


def _json_value(value: Any) -> Any:
    """JSON of what orjson does not know: Decimals (as numbers, as app.core.db writes JSON
    columns; exact for NUMERIC(9, 6)) and WKT points (EWKT text)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, WKTElement):
        return f"SRID={value.srid};{value.data}"
    raise TypeError(type(value).__name__)
