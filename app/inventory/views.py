"""Owner portal pages: listings, the listing form, publish, remove, and each listing's schedule."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from app.accounts.auth import page, page_user
from app.bookings import queries as booking_queries
from app.charging.queries import station_events
from app.core.errors import Conflict, ValidationFailed
from app.core.web import html_errors
from app.inventory import forms, photos, queries, services

blp = Blueprint("inventory_web", __name__)
html_errors(blp)

OWNER = "owner"


@blp.get("/owner/listings")
@page(OWNER)
def my_listings() -> ResponseReturnValue:
    """The owner's listings with their stations and live EVSE status."""
    return render_template(
        "inventory/my_listings.html", listings=services.list_listings(page_user())
    )


@blp.route("/owner/listings/new", methods=["GET", "POST"])
@page(OWNER)
def new_listing() -> ResponseReturnValue:
    """Create a listing; the next page shows the charger's OCPP password, once."""
    if request.method == "GET":
        return _listing_form("inventory/new_listing.html", MultiDict({"price.currency": "EUR"}))
    try:
        created = services.create_listing(page_user(), forms.listing_from_form(request.form))
    except ValidationFailed as error:
        return _listing_form("inventory/new_listing.html", request.form, error), 422
    except Conflict as error:
        refused = ValidationFailed({"publish": [error.detail]}, "Not published")
        return _listing_form("inventory/new_listing.html", request.form, refused), 409
    view = queries.listing_view(created.location, created.station.password)
    response = make_response(render_template("inventory/created.html", listing=view))
    # The password is in this page only: no cache may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/owner/listings/<int:listing_id>")
@page(OWNER)
def listing_page(listing_id: int) -> ResponseReturnValue:
    """One listing: stations, chargers, price and schedule at a glance."""
    view = queries.listing_view(services.get_listing(page_user(), listing_id))
    events = {s["station_id"]: station_events(s["station_id"], 5) for s in view["stations"]}
    return render_template(
        "inventory/listing.html",
        listing=view,
        events=events,
        photo_errors={},
        photo_limits=photos.limits_text(),
    )


@blp.route("/owner/listings/<int:listing_id>/edit", methods=["GET", "POST"])
@page(OWNER)
def edit_listing(listing_id: int) -> ResponseReturnValue:
    """Change a listing; chargers, windows and blackouts on the form replace the old ones."""
    if request.method == "GET":
        view = queries.listing_view(services.get_listing(page_user(), listing_id))
        return _listing_form(
            "inventory/edit_listing.html", forms.form_from_listing(view), id=listing_id
        )
    try:
        changes = forms.listing_from_form(request.form, update=True)
        services.update_listing(page_user(), listing_id, changes)
    except ValidationFailed as error:
        return _listing_form("inventory/edit_listing.html", request.form, error, id=listing_id), 422
    flash("Listing saved.", "success")
    return redirect(url_for(".listing_page", listing_id=listing_id))


@blp.post("/owner/listings/<int:listing_id>/publish")
@page(OWNER)
def publish(listing_id: int) -> ResponseReturnValue:
    """Offer the listing to drivers and roaming partners."""
    try:
        services.set_published(page_user(), listing_id, True)
    except Conflict as error:
        flash(error.detail, "error")
        if error.extra.get("reason") == "payouts_not_ready":
            return redirect(url_for("payments_web.payouts"))
        return redirect(_back(listing_id))
    flash("Published: drivers can find and book this charger.", "success")
    return redirect(_back(listing_id))


@blp.post("/owner/listings/<int:listing_id>/unpublish")
@page(OWNER)
def unpublish(listing_id: int) -> ResponseReturnValue:
    """Take the listing off the market."""
    services.set_published(page_user(), listing_id, False)
    flash("Unpublished: drivers no longer see this charger.", "success")
    return redirect(_back(listing_id))


@blp.post("/owner/listings/<int:listing_id>/photos")
@page(OWNER)
def upload_photo(listing_id: int) -> ResponseReturnValue:
    """Add a photo to the listing (checked, resized, shown to drivers and partners)."""
    upload = request.files.get("photo")
    data = upload.read(int(current_app.config["PHOTO_MAX_BYTES"]) + 1) if upload else b""
    try:
        services.add_photo(page_user(), listing_id, data, _photo_url)
    except ValidationFailed as error:
        view = queries.listing_view(services.get_listing(page_user(), listing_id))
        return render_template(
            "inventory/listing.html",
            listing=view,
            events={s["station_id"]: station_events(s["station_id"], 5) for s in view["stations"]},
            photo_errors=error.errors,
            photo_limits=photos.limits_text(),
        ), 422
    flash("Photo added.", "success")
    return redirect(url_for(".listing_page", listing_id=listing_id))


@blp.get("/photos/<filename>")
def photo(filename: str) -> ResponseReturnValue:
    """A stored listing photo (public: drivers and partners see it)."""
    path = photos.photo_path(filename)
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=7 * 24 * 3600)


def _photo_url(name: str) -> str:
    return url_for("inventory_web.photo", filename=name, _external=True)


@blp.route("/owner/listings/<int:listing_id>/remove", methods=["GET", "POST"])
@page(OWNER)
def remove(listing_id: int) -> ResponseReturnValue:
    """Ask for confirmation, then remove the listing (kept for history)."""
    if request.method == "GET":
        view = queries.listing_view(services.get_listing(page_user(), listing_id))
        return render_template("inventory/remove.html", listing=view)
    services.remove_listing(page_user(), listing_id)
    flash("Listing removed. Its charger can no longer connect.", "success")
    return redirect(url_for(".my_listings"))


@blp.get("/owner/listings/<int:listing_id>/schedule")
@page(OWNER)
def schedule(listing_id: int) -> ResponseReturnValue:
    """The listing's weekly sharing hours, blackout dates and bookings."""
    location = services.get_listing(page_user(), listing_id)
    return render_template(
        "inventory/schedule.html",
        listing=queries.listing_view(location),
        weekdays=forms.WEEKDAYS,
        bookings=booking_queries.bookings_of_owner(location.owner_id, location.id),
    )


def _listing_form(
    template: str, values: Any, error: ValidationFailed | None = None, **context: Any
) -> str:
    return render_template(
        template,
        values=values,
        errors=error.errors if error else {},
        error=error,
        choices=forms.choices(),
        describe=forms.describe,
        evse_rows=forms.evse_rows(values),
        connector_rows=forms.connector_rows,
        blackout_rows=forms.blackout_rows(values),
        weekdays=forms.WEEKDAYS,
        slots=range(forms.SLOTS_PER_DAY),
        **context,
    )


def _back(listing_id: int) -> str:
    # The buttons sit on the list and on the listing page; go back to where the owner was.
    if request.form.get("next") == "list":
        return url_for(".my_listings")
    return url_for(".listing_page", listing_id=listing_id)
