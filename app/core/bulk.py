"""Set-based writes: one multi-row upsert per table instead of a statement per row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
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
    stmt = _insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: stmt.excluded[name] for name in columns},
        where=table.c.last_updated <= stmt.excluded.last_updated,
    )
    returning = stmt.returning(table.c.id, *(table.c[key] for key in keys))
    return db.session.execute(returning, _newest(rows, keys)).all()


def _newest(rows: list[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        found = newest.get(key)
        if found is None or found["last_updated"] <= row["last_updated"]:
            newest[key] = row
    return list(newest.values())
