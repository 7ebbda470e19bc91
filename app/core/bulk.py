"""Set-based writes: one multi-row upsert per table instead of a statement per row."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
from geoalchemy2.elements import WKTElement
from sqlalchemy import Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db


def _insert(table: Table) -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def upsert(
    table: Any, keys: Sequence[str], columns: Sequence[str], rows: list[dict[str, Any]]
) -> list[Any]:
    """Insert rows, or update them by their unique key when at least as new (last_updated).

    Returns (id, *keys) of the rows written; a row older than the stored one is skipped. Rows
    repeating a key are reduced to the newest (one statement cannot touch a row twice).
    """
    if not rows:
        return []
    rows = _newest(rows, keys)
    if db.session.get_bind().dialect.name == "postgresql":
        return _upsert_json(table, keys, columns, rows)
    stmt = _insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in columns},
        where=table.c.last_updated <= stmt.excluded.last_updated,
    )
    returning = stmt.returning(table.c.id, *(table.c[key] for key in keys))
    return db.session.execute(returning, rows).all()


def _upsert_json(
    table: Any, keys: Sequence[str], columns: Sequence[str], rows: list[dict[str, Any]]
) -> list[Any]:
    """PostgreSQL: the whole batch as one JSON parameter, expanded by jsonb_to_recordset.

    A multi-row VALUES list has a parameter per cell, and the driver parses the statement
    text anew for every batch: with one parameter the text is short and the same each time.
    """
    names = list(rows[0])
    dialect = postgresql.dialect()
    record = ", ".join(f'"{name}" {table.c[name].type.compile(dialect=dialect)}' for name in names)
    quoted = ", ".join(f'"{name}"' for name in names)
    updates = ", ".join(f'"{name}" = excluded."{name}"' for name in columns)
    returning = ", ".join(f'{table.name}."{name}"' for name in ("id", *keys))
    # Identifiers only, all taken from the table's metadata (table.c[name] refuses others).
    sql = (
        f"INSERT INTO {table.name} ({quoted}) SELECT {quoted}"  # noqa: S608
        f" FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({record})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
        f" WHERE {table.name}.last_updated <= excluded.last_updated"
        f" RETURNING {returning}"
    )
    payload = orjson.dumps(rows, default=_json_value).decode()
    return db.session.execute(text(sql), {"rows": payload}).all()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # NUMERIC columns and prices: a few decimals, exact in a double
    if isinstance(value, WKTElement):
        return f"SRID={value.srid};{value.data}"
    raise TypeError(f"cannot send {type(value).__name__} in a bulk write")


def _newest(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        found = newest.get(key)
        if found is None or found["last_updated"] <= row["last_updated"]:
            newest[key] = row
    return list(newest.values())


def one_of(column: Any, values: Sequence[Any]) -> Any:
    """column IN values; on PostgreSQL as one array parameter (= ANY), not one per value."""
    if db.session.get_bind().dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column == any_(array)
    return column.in_(list(values))
