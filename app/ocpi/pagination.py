"""OCPI pagination: offset/limit and date filters outside, a keyset on (last_updated, id) inside.

Clients page with `offset`; the `Link` we hand out also carries `cursor`, the position of the last
row served, so following it costs an index seek instead of skipping `offset` rows. A cursor only
counts when its offset matches the requested one; otherwise we fall back to OFFSET.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, Select, Subquery, func, select, tuple_

from app.core.db import Base
from app.extensions import db
from app.ocpi import errors, registry
from app.ocpi.schemas.common import OcpiDateTime
from app.ocpi.transport import envelope

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class PageRequest:
    """What a paginated GET asked for."""

    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None
    after: tuple[datetime, int] | None


def page_request() -> PageRequest:
    """Parse offset, limit, date_from, date_to and our cursor from the query string (2001)."""
    args = request.args
    server_max = current_app.config["OCPI_PAGE_LIMIT"]
    offset = _int_arg(args.get("offset"), 0)
    limit = min(_int_arg(args.get("limit"), server_max), server_max)
    if offset < 0 or limit < 1:
        raise errors.InvalidParameters("offset must be >= 0 and limit >= 1")
    return PageRequest(
        offset=offset,
        limit=limit,
        date_from=_date_arg("date_from"),
        date_to=_date_arg("date_to"),
        after=_cursor(args.get("cursor"), offset),
    )


# Offsets, limits and row ids are 64-bit signed integers in the database.
MAX_INT = 2**63 - 1
# A cursor's time: microseconds since EPOCH up to the last day datetime can hold.
MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // MICROSECOND


def _int_arg(raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise errors.InvalidParameters(f"not an integer: {raw[:40]!r}") from error
    if value > MAX_INT:
        raise errors.InvalidParameters(f"{raw[:40]} is out of range")
    return value


def _date_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return OcpiDateTime().deserialize(raw)
    except ValidationError as error:
        raise errors.InvalidParameters(f"{name} is not a DateTime") from error


def _cursor(raw: str | None, offset: int) -> tuple[datetime, int] | None:
    if not raw:
        return None
    try:
        cursor_offset, micros, row_id = (int(part) for part in raw.split("."))
    except ValueError as error:
        raise errors.InvalidParameters("cursor is not one we handed out") from error
    if not (0 <= micros <= MAX_MICROS and 0 <= row_id <= MAX_INT):
        raise errors.InvalidParameters("cursor is not one we handed out")
    if cursor_offset != offset:
        return None  # a cursor of another page: fall back to the offset
    return EPOCH + micros * MICROSECOND, row_id


def page_select(
    model: type[Base], filters: list[ColumnElement[bool]], page: PageRequest, *columns: Any
) -> tuple[Select[Any], int]:
    """Count the matches; return select(*columns) of the page's rows in (last_updated, id) order.

    The order is the (country_code, party_id, last_updated, id) index's, so the database reads
    just the page (and computes the selected columns for it only), however deep the page.
    """
    column, key = model.last_updated, model.id  # type: ignore[attr-defined]
    conditions = list(filters)
    if page.date_from is not None:
        conditions.append(column >= page.date_from)
    if page.date_to is not None:
        conditions.append(column < page.date_to)
    total = db.session.scalar(select(func.count()).select_from(model).where(*conditions))
    query = select(*columns).where(*conditions).order_by(column, key)
    if page.after is not None:
        moment, row_id = page.after
        query = query.where(tuple_(column, key) > tuple_(moment, row_id))
    elif page.offset:
        query = query.offset(page.offset)
    return query.limit(page.limit), total or 0


def page_query(
    model: type[Base], filters: list[ColumnElement[bool]], page: PageRequest
) -> tuple[Subquery, int]:
    """Count the matches; return the page's keys (id, last_updated) as a subquery to join."""
    keys = (model.id, model.last_updated)  # type: ignore[attr-defined]
    query, total = page_select(model, filters, page, *keys)
    return query.subquery("page"), total


def page_response(
    items: list[Any] | None,
    rows: list[Any],
    total: int,
    page: PageRequest,
    raw_items: str | None = None,
) -> Response:
    """The envelope with Link (keeping the filters), X-Total-Count and X-Limit (this page's).

    rows: the page's rows in order, each with `id` and `last_updated` (for the next cursor);
    raw_items: the items already serialised as a JSON array, instead of `items`.
    """
    headers = {
        "X-Total-Count": str(total),
        "X-Limit": str(page.limit),  # the request's limit, capped by OCPI_PAGE_LIMIT
    }
    next_offset = page.offset + len(rows)
    if rows and next_offset < total:
        last = rows[-1]
        micros = (last.last_updated - EPOCH) // MICROSECOND
        params = {key: value for key, value in request.args.items() if key != "cursor"}
        params.update(offset=str(next_offset), limit=str(page.limit))
        params["cursor"] = f"{next_offset}.{micros}.{last.id}"
        root = registry.ocpi_base_url().removesuffix("/ocpi")
        headers["Link"] = f'<{root}{request.path}?{urlencode(params)}>; rel="next"'
    return envelope(items, headers=headers, raw_data=raw_items)
