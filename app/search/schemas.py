"""Search input (query string to SearchCriteria) and output (JSON) shapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from app.core.money import is_iso4217
from app.core.spatial import BBox
from app.inventory.enums import ConnectorType
from app.search import fastargs
from app.search.criteria import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_NEAREST,
    MAX_RADIUS_M,
    SearchCriteria,
    Window,
)
from app.search.cursor import BadCursor, decode_cursor, encode_cursor, fingerprint
from app.search.fastargs import MAX_WINDOW
from app.search.services import SearchPage, SearchResult

_STANDARDS = frozenset(ConnectorType)


class SearchArgsSchema(Schema):
    """Query string of GET /api/v1/chargers."""

    class Meta:
        unknown = EXCLUDE

    # The API's parser (app.core.http.BoundedParser) asks this first, with the request.
    fast_query = staticmethod(fastargs.from_request)

    def load(self, data: Any, *, many: Any = None, partial: Any = None, unknown: Any = None) -> Any:
        """Load the query; the usual plain circle search takes the fast path (fastargs)."""
        if many is None and partial is None:
            found = fastargs.criteria(getattr(data, "data", data))  # webargs' MultiDictProxy
            if found is not None:
                return found
        return super().load(data, many=many, partial=partial, unknown=unknown)

    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    radius_m = fields.Float(
        validate=validate.Range(min=0, max=MAX_RADIUS_M, min_inclusive=False),
        metadata={"description": f"search radius in metres, at most {MAX_RADIUS_M}"},
    )
    bbox = fields.String(metadata={"description": "min_lon,min_lat,max_lon,max_lat"})
    nearest = fields.Integer(
        validate=validate.Range(1, MAX_NEAREST), metadata={"description": "the N nearest"}
    )
    connector = fields.List(
        fields.String(), metadata={"description": "OCPI ConnectorType; repeat or comma-separate"}
    )
    min_power_kw = fields.Decimal(validate=validate.Range(min=0, min_inclusive=False))
    current = fields.String(validate=validate.OneOf(["AC", "DC"]))
    available_from = fields.AwareDateTime()
    available_to = fields.AwareDateTime()
    max_price = fields.Decimal(
        validate=validate.Range(min=0), metadata={"description": "cap in currency units"}
    )
    currency = fields.String(load_default="EUR")
    energy_kwh = fields.Decimal(
        load_default=None,
        validate=validate.Range(min=0, max=1000, min_inclusive=False),
        metadata={
            "description": "energy wanted; default: what the connector can deliver in the "
            "window, the amount a booking holds"
        },
    )
    network = fields.String(validate=validate.OneOf(["own", "roaming"]))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String()
    count = fields.Boolean(load_default=False)

    @validates_schema(skip_on_field_errors=False)
    def _check_rules(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        _check_area(data, errors)
        _check_window(data, errors)
        _check_standards(data, errors)
        if not is_iso4217(data.get("currency", "EUR")):
            errors["currency"] = ["not an ISO 4217 currency code"]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _to_criteria(self, data: dict[str, Any], **_: Any) -> SearchCriteria:
        bbox = _parse_bbox(data["bbox"]) if "bbox" in data else None
        lat, lon = (data["lat"], data["lon"]) if "lat" in data else bbox.center  # type: ignore[union-attr]
        window = None
        if "available_from" in data:
            window = Window(data["available_from"], data["available_to"])
        criteria = SearchCriteria(
            lat=lat,
            lon=lon,
            radius_m=data.get("radius_m"),
            bbox=bbox,
            nearest=data.get("nearest"),
            standards=tuple(sorted(_standards(data))),
            min_power_kw=data.get("min_power_kw"),
            current=data.get("current"),
            window=window,
            max_price=data.get("max_price"),
            currency=data["currency"],
            energy_kwh=data.get("energy_kwh"),
            network=data.get("network"),
            limit=data["limit"],
            with_count=data["count"],
        )
        return _with_cursor(criteria, data.get("cursor"))


def _check_area(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    has_lat, has_lon = "lat" in data, "lon" in data
    if has_lat and not has_lon:
        errors["lon"] = ["lon is required with lat"]
    if has_lon and not has_lat:
        errors["lat"] = ["lat is required with lon"]
    if "bbox" in data:
        try:
            _parse_bbox(data["bbox"])
        except ValueError as error:
            errors["bbox"] = [str(error)]
    elif not (has_lat or has_lon):
        errors["lat"] = ["give lat and lon (with radius_m or nearest), or bbox"]
    elif "radius_m" not in data and "nearest" not in data:
        errors["radius_m"] = ["radius_m or nearest is required with lat and lon"]


def _check_window(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    start, end = data.get("available_from"), data.get("available_to")
    if start is None and end is None:
        return
    if start is None:
        errors["available_from"] = ["available_from is required with available_to"]
    elif end is None:
        errors["available_to"] = ["available_to is required with available_from"]
    elif end <= start:
        errors["available_to"] = ["must be after available_from"]
    elif end - start > MAX_WINDOW:
        errors["available_to"] = ["the window may last at most 7 days"]


def _check_standards(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    unknown = sorted(_standards(data) - _STANDARDS)
    if unknown:
        errors["connector"] = [f"unknown connector standard: {', '.join(unknown)}"]


def _standards(data: dict[str, Any]) -> set[str]:
    return {part.strip() for item in data.get("connector", ()) for part in item.split(",")} - {""}


def _parse_bbox(text: str) -> BBox:
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("bbox must be min_lon,min_lat,max_lon,max_lat")
    try:
        min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    except ValueError:
        raise ValueError("bbox must hold four numbers") from None
    if not (-180 <= min_lon <= max_lon <= 180) or not (-90 <= min_lat <= max_lat <= 90):
        raise ValueError("bbox corners out of range or in the wrong order")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def _with_cursor(criteria: SearchCriteria, token: str | None) -> SearchCriteria:
    if token is None:
        return criteria
    try:
        key, digest = decode_cursor(token)
    except BadCursor as error:
        raise ValidationError({"cursor": [str(error)]}) from None
    if digest != fingerprint(criteria):
        raise ValidationError({"cursor": ["this cursor belongs to a different search"]})
    return replace(criteria, after=key)


class CoordinatesSchema(Schema):
    latitude = fields.String()
    longitude = fields.String()


class ChargerLocationSchema(Schema):
    id = fields.Integer()
    name = fields.String(allow_none=True)
    address = fields.String()
    city = fields.String()
    postal_code = fields.String(allow_none=True)
    country = fields.String()
    time_zone = fields.String()
    coordinates = fields.Nested(CoordinatesSchema)


class ChargerEvseSchema(Schema):
    id = fields.Integer(metadata={"description": "The EVSE's id in this API (book with it)"})
    uid = fields.String()
    evse_id = fields.String(allow_none=True)
    status = fields.String()


class ChargerConnectorSchema(Schema):
    id = fields.String()
    standard = fields.String()
    format = fields.String()
    power_type = fields.String()
    power_kw = fields.String()


class ChargerQuoteSchema(Schema):
    amount_minor = fields.Integer()
    currency = fields.String()
    tariff_id = fields.String()
    start = fields.String()
    end = fields.String()
    energy_kwh = fields.String()
    power_kw = fields.String()


class ChargerNetworkSchema(Schema):
    name = fields.String()
    own = fields.Boolean()


class ChargerResultSchema(Schema):
    location = fields.Nested(ChargerLocationSchema)
    evse = fields.Nested(ChargerEvseSchema)
    connectors = fields.List(fields.Nested(ChargerConnectorSchema))
    distance_m = fields.Float()
    status = fields.String()
    quote = fields.Nested(ChargerQuoteSchema, allow_none=True)
    network = fields.Nested(ChargerNetworkSchema)


class ChargerPageSchema(Schema):
    """Documents the response; page_json() builds it without per-field dumping cost."""

    results = fields.List(fields.Nested(ChargerResultSchema))
    next_cursor = fields.String(allow_none=True)
    count = fields.Integer()


def page_json(page: SearchPage, criteria: SearchCriteria) -> dict[str, Any]:
    """Serialise a search page as ChargerPageSchema describes (write it with dumps_page:
    parts already in JSON are orjson Fragments)."""
    quotes: dict[int, dict[str, Any]] = {}  # quotes are shared objects: one dict per quote
    body: dict[str, Any] = {
        "results": [_result_json(result, quotes) for result in page.results],
        "next_cursor": encode_cursor(page.next_key, criteria) if page.next_key else None,
    }
    if page.count is not None:
        body["count"] = page.count
    return body


def dumps_page(body: dict[str, Any]) -> bytes:
    """The JSON text of page_json(): orjson writes the UTC times as ...Z itself."""
    return orjson.dumps(body, option=orjson.OPT_UTC_Z)


def _result_json(result: SearchResult, quotes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    row, quote = result.row, result.quote
    if quote is None:
        quote_json = None
    else:
        quote_json = quotes.get(id(quote))
        if quote_json is None:
            quote_json = quotes[id(quote)] = _quote_json(quote)
    return {
        "location": {
            "id": row.location_id,
            "name": row.name,
            "address": row.address,
            "city": row.city,
            "postal_code": row.postal_code,
            "country": row.country,
            "time_zone": row.time_zone,
            "coordinates": {"latitude": str(row.latitude), "longitude": str(row.longitude)},
        },
        "evse": {"id": row.evse_pk, "uid": row.uid, "evse_id": row.evse_id, "status": row.status},
        "connectors": _connectors_json(result.connectors or ()),
        "distance_m": round(float(row.distance), 1),
        "status": row.status,
        "quote": quote_json,
        "network": _network_json(row.network_name, bool(row.is_own)),
    }


# An EVSE's connectors and a result's network are a few kinds repeated from result to
# result: each kind's JSON is written once, by orjson itself (so byte for byte what it would
# write in place), and handed to dumps_page as a Fragment. Bounded, like the other caches.
_FRAGMENTS: dict[Any, orjson.Fragment] = {}
_FRAGMENTS_LIMIT = 10_000


def _connectors_json(connectors: Sequence[Any]) -> orjson.Fragment:
    key = tuple(connectors)
    found = _FRAGMENTS.get(key)
    if found is None:
        found = _fragment(key, [_connector_json(connector) for connector in connectors])
    return found


def _network_json(name: str, own: bool) -> orjson.Fragment:
    key = (name, own)
    found = _FRAGMENTS.get(key)
    if found is None:
        found = _fragment(key, {"name": name, "own": own})
    return found


def _fragment(key: Any, value: Any) -> orjson.Fragment:
    if len(_FRAGMENTS) >= _FRAGMENTS_LIMIT:
        _FRAGMENTS.clear()
    found = _FRAGMENTS[key] = orjson.Fragment(orjson.dumps(value))
    return found


def _connector_json(connector: Any) -> dict[str, Any]:
    return {
        "id": connector.ocpi_id,
        "standard": connector.standard,
        "format": connector.format,
        "power_type": connector.power_type,
        "power_kw": _kw(connector.power_w),
    }


@lru_cache(maxsize=1024)
def _kw(power_w: int) -> str:
    return str(Decimal(power_w) / 1000)


def _quote_json(quote: Any) -> dict[str, Any]:
    return {
        "amount_minor": quote.amount_minor,
        "currency": quote.currency,
        "tariff_id": quote.tariff_id,
        "start": quote.start,  # aware UTC datetimes: dumps_page writes them with Z
        "end": quote.end,
        "energy_kwh": str(quote.energy_kwh),
        "power_kw": str(quote.power_kw),
    }
