"""Bulk writes of the bridge: a page or batch of rows in one statement per table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from app.core.db import json_dumps
from app.extensions import db


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

    PostgreSQL: one statement with one array per column (unnest), so a 2,000-record page is
    one short query, not a 2,000-row VALUES list the driver parses and SQLAlchemy binds row by
    row. SQLite (development): the same upsert, executemany.
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
    arrays, selected, params = [], [], {}
    for n, name in enumerate(names):
        kind, convert = _pg_array(table.c[name])
        arrays.append(f"CAST(:a{n} AS {'text' if convert else kind}[])")
        selected.append(f"CAST(v.c{n} AS {kind})" if convert else f"v.c{n}")
        values = [row[name] for row in rows]
        params[f"a{n}"] = [None if v is None else convert(v) for v in values] if convert else values
    sets = [f"{name} = EXCLUDED.{name}" for name in changed]
    sets += [f"{name} = {sql}" for name, sql in special.items()]
    # Column names checked above; every value is a bound array.
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) "
        f"AS v({', '.join(f'c{n}' for n in range(len(names)))})"
    )
    if keys:
        sql += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    result = db.session.execute(text(sql), params)
    return list(result) if returning else []


def _pg_array(column: Any) -> tuple[str, Any]:
    """(PostgreSQL type of the column, converter to text for types sent as text arrays)."""
    kind = column.type.compile(dialect=postgresql.dialect())
    if kind == "JSONB":
        return kind, json_dumps
    if kind.startswith("geography"):
        return kind, lambda point: f"SRID={point.srid};{point.data}"
    return kind, None
