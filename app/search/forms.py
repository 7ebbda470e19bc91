"""The driver's search form: friendly fields to the API's query, validated by the API's schema."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from marshmallow import ValidationError

from app.core.errors import ValidationFailed, flatten_errors
from app.core.web import local_datetime
from app.search.criteria import SearchCriteria, Window
from app.search.geocode import GeocoderUnavailable, Place, geocode
from app.search.schemas import SearchArgsSchema

RESULTS_PER_PAGE = 50
DEFAULT_RADIUS_KM = "10"
# API query parameter -> form field, to put the schema's errors next to the right input.
FORM_NAMES = {
    "radius_m": "radius_km",
    "min_power_kw": "min_kw",
    "available_from": "from",
    "available_to": "to",
}


def resolve_place(args: Mapping[str, str]) -> tuple[dict[str, str], Place | None]:
    """The form's fields with lat/lon filled from the place typed, when no coordinates are."""
    fields = {key: args[key] for key in args}
    place_text = _text(args, "place")
    if not place_text or _text(args, "lat") or _text(args, "lon"):
        return fields, None
    try:
        found = geocode(place_text)
    except GeocoderUnavailable:
        raise ValidationFailed(
            {
                "place": [
                    "Place search is not available right now: use your location or coordinates."
                ]
            }
        ) from None
    if not found:
        raise ValidationFailed(
            {"place": [f"No place found for “{place_text}”. Try a street, district or town."]}
        )
    fields.update(lat=f"{found[0].lat:.6f}", lon=f"{found[0].lon:.6f}")
    return fields, found[0]


def criteria_from_form(args: Mapping[str, str]) -> SearchCriteria | None:
    """The search the form asks for, or None before the driver has said where."""
    if not _text(args, "lat") and not _text(args, "lon"):
        return None
    query, errors = _query(args)
    try:
        criteria = SearchArgsSchema().load(query)
    except ValidationError as error:
        for name, texts in flatten_errors(error.normalized_messages()).items():
            errors.setdefault(FORM_NAMES.get(name, name), []).extend(texts)
    if errors:
        raise ValidationFailed(errors)
    return criteria  # type: ignore[no-any-return]


def window_from_form(args: Mapping[str, str]) -> Window | None:
    """The window (in UTC) of the form's from/to/tz fields, if both ends are given."""
    start = local_datetime(_text(args, "from"), _text(args, "tz"))
    end = local_datetime(_text(args, "to"), _text(args, "tz"))
    if start is None or end is None:
        return None
    return Window(start.astimezone(UTC), end.astimezone(UTC))


def _query(args: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    query: dict[str, Any] = {"lat": _text(args, "lat"), "lon": _text(args, "lon")}
    query["limit"] = RESULTS_PER_PAGE
    query["radius_m"] = _metres(_text(args, "radius_km") or DEFAULT_RADIUS_KM)
    if _text(args, "connector"):
        query["connector"] = [_text(args, "connector")]
    if _text(args, "min_kw"):
        query["min_power_kw"] = _text(args, "min_kw")
    if _text(args, "cursor"):
        query["cursor"] = _text(args, "cursor")
    errors: dict[str, list[str]] = {}
    for name, key in (("from", "available_from"), ("to", "available_to")):
        try:
            moment = local_datetime(_text(args, name), _text(args, "tz"))
        except ValueError as error:
            errors.setdefault("tz" if "zone" in str(error) else name, []).append(str(error))
            continue
        if moment is not None:
            query[key] = moment.isoformat()
    return query, errors


def _metres(km: str) -> Any:
    try:
        return float(km.replace(",", ".")) * 1000
    except ValueError:
        return km  # for the schema to refuse


def _text(args: Mapping[str, str], name: str) -> str | None:
    value = str(args.get(name, "")).strip()
    return value or None
