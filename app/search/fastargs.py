"""The usual search query string, read without marshmallow: same rules, or "not sure".

Nearly every search is a circle with a connector, a power and a window. For exactly that
shape, with plainly written values inside their ranges, criteria() builds the SearchCriteria
that SearchArgsSchema would load; for anything else (another key, an odd number, a value out
of range, any error) it returns None and the schema loads it, so marshmallow keeps the last
word on every error message. tests/search/test_fastargs.py holds the two to the same result.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from app.inventory.enums import ConnectorType
from app.search.criteria import DEFAULT_LIMIT, MAX_LIMIT, MAX_RADIUS_M, SearchCriteria, Window

MAX_WINDOW = timedelta(days=7)
_KEYS = frozenset(
    {"lat", "lon", "radius_m", "connector", "min_power_kw", "available_from", "available_to"}
    | {"limit"}
)
_STANDARDS = frozenset(ConnectorType)
_NUMBER = re.compile(r"-?\d{1,9}(?:\.\d{1,9})?")
_INTEGER = re.compile(r"\d{1,3}")
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d{1,6})?)?(?:Z|[+-]\d\d:\d\d)")


# A query string of plain characters and percent-escapes of printable ASCII: for such a one,
# splitting on & and = and unquoting gives exactly the pairs werkzeug's request.args holds.
_PLAIN_QUERY = re.compile(rb"[A-Za-z0-9._~,:=&-]*(?:%[2-7][0-9A-Fa-f][A-Za-z0-9._~,:=&-]*)*")


class QueryArgs(dict[str, list[str]]):
    """Query parameters by name, every value kept: the part of a MultiDict criteria() reads."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        """The first value of key, as MultiDict.get gives it."""
        values = super().get(key)
        return values[0] if values else default

    def getlist(self, key: str) -> list[str]:
        """Every value of key, in order."""
        return super().get(key, [])


def query_args(raw: bytes) -> QueryArgs | None:
    """The parameters of a plainly written query string, as request.args has them, or None."""
    if not _PLAIN_QUERY.fullmatch(raw):
        return None
    args = QueryArgs()
    for part in raw.decode("ascii").split("&"):
        if not part:
            continue  # as parse_qsl: an empty part is no parameter
        name, _, value = part.partition("=")  # no "=": a blank value (keep_blank_values)
        if "%" in part:
            name, value = _unescape(name), _unescape(value)
        args.setdefault(name, []).append(value)
    return args


def _unescape(text: str) -> str:
    """unquote() for text whose every % starts an escape of printable ASCII (_PLAIN_QUERY)."""
    head, *escaped = text.split("%")
    return head + "".join(chr(int(part[:2], 16)) + part[2:] for part in escaped)


def from_request(request: Any) -> SearchCriteria | None:
    """criteria() of a request's query string, read without werkzeug's parser when plain."""
    args = query_args(request.query_string)
    return criteria(request.args if args is None else args)


def criteria(args: Any) -> SearchCriteria | None:
    """The criteria of a plain circle search, or None: let the schema load it."""
    getlist = getattr(args, "getlist", None)
    if getlist is None or not _KEYS.issuperset(args.keys()):
        return None
    lat, lon, radius = (_number(args.get(key)) for key in ("lat", "lon", "radius_m"))
    if lat is None or lon is None or radius is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < radius <= MAX_RADIUS_M):
        return None
    standards = {part.strip() for item in getlist("connector") for part in item.split(",")}
    standards.discard("")
    if not standards <= _STANDARDS:
        return None
    min_power_kw, window, limit = None, None, DEFAULT_LIMIT
    if "min_power_kw" in args:
        text = args.get("min_power_kw")
        if not _NUMBER.fullmatch(text) or (min_power_kw := Decimal(text)) <= 0:
            return None
    if "available_from" in args or "available_to" in args:
        window = _window(args.get("available_from"), args.get("available_to"))
        if window is None:
            return None
    if "limit" in args:
        text = args.get("limit")
        if not _INTEGER.fullmatch(text) or not 1 <= (limit := int(text)) <= MAX_LIMIT:
            return None
    return SearchCriteria(
        lat=lat,
        lon=lon,
        radius_m=radius,
        standards=tuple(sorted(standards)),
        min_power_kw=min_power_kw,
        window=window,
        limit=limit,
    )


def _number(text: str | None) -> float | None:
    return float(text) if text is not None and _NUMBER.fullmatch(text) else None


def _window(start_text: str | None, end_text: str | None) -> Window | None:
    if start_text is None or end_text is None:
        return None
    if not (_INSTANT.fullmatch(start_text) and _INSTANT.fullmatch(end_text)):
        return None
    start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    if not start < end or end - start > MAX_WINDOW:
        return None
    return Window(start, end)
