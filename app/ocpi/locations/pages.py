"""Locations as partners GET them (a page, or one Location), built by the database if it can."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from app.core.db import json_dumps
from app.inventory.models import Location
from app.ocpi.locations import documents, queries
from app.ocpi.locations.serialise import location_to_ocpi
from app.ocpi.pagination import PageRequest, page_query, page_select


@dataclass(frozen=True, slots=True)
class LocationPage:
    """Items as objects, or as ready JSON text (raw), plus the rows that drive the Link."""

    items: list[dict[str, Any]] | None
    rows: list[Any]
    total: int
    raw: str | None = None


def location_page(page: PageRequest, version: str) -> LocationPage:
    """The published locations of one page: JSON from PostgreSQL, else serialised here."""
    filters = queries.published_filters()
    if documents.available():
        query, total = page_select(Location, filters, page, *documents.document_columns())
        rows = [
            SimpleNamespace(id=i, last_updated=u, doc=d)
            for i, u, d in documents.location_documents(query)
        ]
        return LocationPage(None, rows, total, "[" + ",".join(row.doc for row in rows) + "]")
    keys, total = page_query(Location, filters, page)
    locations = queries.location_views(keys)
    items = [location_to_ocpi(location, version) for location in locations]  # type: ignore[arg-type]
    return LocationPage(items, locations, total)


def location_json(ocpi_id: str, version: str) -> str | None:
    """One published Location as JSON text (None: unknown): one query on PostgreSQL.

    The ORM path takes five round trips (location, EVSEs, connectors, windows, blackouts).
    """
    if documents.available():
        return documents.location_document(ocpi_id)
    location = queries.published_location(ocpi_id)
    return None if location is None else json_dumps(location_to_ocpi(location, version))
