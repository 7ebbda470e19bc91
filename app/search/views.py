"""Driver pages: the charger search (list and map) and a charger's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.bookings import calendar, pricing
from app.bookings import queries as booking_queries
from app.core.clock import utcnow
from app.core.errors import ValidationFailed
from app.core.replica import stale_reads_ok
from app.core.web import html_errors
from app.inventory.enums import ConnectorType
from app.search import forms, geocode, services
from app.search.criteria import SearchCriteria
from app.search.cursor import encode_cursor
from app.search.services import SearchPage

blp = Blueprint("search_web", __name__)
html_errors(blp)

CONNECTORS = [member.value for member in ConnectorType]
CALENDAR_DAYS = 14
SLOT_LENGTH = timedelta(hours=1)


@blp.get("/chargers")
@stale_reads_ok
def search() -> ResponseReturnValue:
    """Search chargers around a point: list with distance, status and price, and a map."""
    try:
        fields, place = forms.resolve_place(request.args)
        criteria = forms.criteria_from_form(fields)
    except ValidationFailed as error:
        return _search_page(errors=error.errors), 422
    if criteria is None:
        return _search_page()
    page = services.search_chargers(criteria)
    return _search_page(
        page=page,
        place=place,
        map_data=_map_data(criteria, page),
        next_url=_next_url(criteria, page),
    )


@blp.get("/chargers/<int:location_id>")
def charger(location_id: int) -> ResponseReturnValue:
    """One charger: address, connectors, price, sharing hours, and a booking form."""
    try:
        window = forms.window_from_form(request.args)
    except ValueError:
        window = None  # a bad window in a link only loses the quote, not the page
    detail = services.charger_detail(location_id, window)
    location = detail.location
    zone = ZoneInfo(location.time_zone)
    now = utcnow().replace(second=0, microsecond=0)
    # From the real clock (not the minute rounded down) plus a few minutes to hold it in: a slot
    # shown must still pass the booking's lead time when the driver clicks.
    lead = timedelta(minutes=int(current_app.config["BOOKING_MIN_LEAD_MINUTES"]) + 5)
    earliest = utcnow() + lead
    free = calendar.free_timeslots(location, now, now + timedelta(days=CALENDAR_DAYS))
    calendars = {
        evse_id: calendar.slot_days(intervals, zone, earliest, SLOT_LENGTH, CALENDAR_DAYS)
        for evse_id, intervals in free.items()
    }
    # The breakdown comes from the booking's own quote: the same amount the hold takes.
    breakdowns = {
        evse.id: pricing.quote_evse(evse, detail.window.start, detail.window.end)
        for evse in location.evses
        if detail.quotes.get(evse.id) is not None
    }
    reviews, rating, review_count = booking_queries.charger_reviews(location.id)
    return render_template(
        "search/charger.html",
        detail=detail,
        reviews=reviews,
        rating=rating,
        review_count=review_count,
        args=request.args,
        calendars=calendars,
        breakdowns=breakdowns,
        zone=location.time_zone,
        slot_hours=int(SLOT_LENGTH.total_seconds() // 3600),
        slot_delta=SLOT_LENGTH,
        # Partner sites and listings without an OCPP identity have nothing to connect.
        connected=not location.stations or any(st.last_seen_at for st in location.stations),
    )


@blp.get("/places")
def places() -> ResponseReturnValue:
    """Look a place or address up (the listing form's pin, the search box): JSON."""
    try:
        found = geocode.geocode(request.args.get("q", ""))
    except geocode.GeocoderUnavailable:
        return jsonify({"places": [], "error": "Address lookup is not available right now."}), 503
    return jsonify({"places": [{"name": p.name, "lat": p.lat, "lon": p.lon} for p in found]})


def _next_url(criteria: SearchCriteria, page: SearchPage) -> str | None:
    """The link to the next page of results: the same search with the API's cursor."""
    if page.next_key is None:
        return None
    args = {**request.args.to_dict(), "cursor": encode_cursor(page.next_key, criteria)}
    return url_for("search_web.search", **args)


def _map_data(criteria: SearchCriteria, page: SearchPage) -> dict[str, Any]:
    """What the map script draws: the search centre and one marker per location."""
    markers: dict[int, dict[str, Any]] = {}
    for result in page.results:
        row = result.row
        markers.setdefault(
            row.location_id,
            {
                "lat": float(row.latitude),
                "lon": float(row.longitude),
                "name": row.name or row.address,
                "url": url_for("search_web.charger", location_id=row.location_id),
                "status": row.status,
                "id": row.location_id,
                "own": bool(row.is_own),
                "network": row.network_name,
            },
        )
    return {"center": [criteria.lat, criteria.lon], "markers": list(markers.values())}


def _search_page(**context: object) -> str:
    context.setdefault("errors", {})
    context.setdefault("page", None)
    context.setdefault("next_url", None)
    context.setdefault("place", None)
    return render_template(
        "search/search.html",
        args=request.args,
        connectors=CONNECTORS,
        default_radius=forms.DEFAULT_RADIUS_KM,
        # The window travels to the charger page, so its quotes and booking form keep it.
        window_args={k: request.args[k] for k in ("from", "to", "tz") if request.args.get(k)},
        **context,
    )
