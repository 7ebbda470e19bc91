"""The owner's listing form: it creates what the API creates, shows the password once,
puts errors next to their fields and writes nothing on error; edit, publish and remove."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.core.security import verify_secret
from app.extensions import db
from app.inventory import queries
from app.inventory.models import ChargeStation, Location
from app.inventory.schemas import ListingSchema
from tests.inventory.conftest import LISTING
from tests.web.conftest import CSRF

# What differs between two listings created alike: identities, keys and clocks.
VOLATILE = {"id", "ocpi_id", "uid", "evse_id", "tariff_id", "tariff_ids", "station_id",
            "ocpp_url", "ocpp_password", "created_at", "last_updated", "last_seen_at"}  # fmt: skip


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _listing_json(location: Location) -> dict[str, Any]:
    return ListingSchema().dump(queries.listing_view(location))


def _owned_by(user) -> Location:
    return db.session.scalars(select(Location).where(Location.owner_id == user.id)).one()


def test_new_listing_page_shows_an_accessible_form(client, log_in, owner):
    log_in(owner)
    page = client.get("/owner/listings/new").get_data(as_text=True)
    assert '<label for="f-address">Street and number</label>' in page
    assert '<input id="f-address" name="address"' in page
    assert "<legend>Weekly sharing hours</legend>" in page
    assert 'name="csrf_token"' in page


def test_form_creates_exactly_what_the_api_creates(
    client,
    log_in,
    owner,
    make_user,
    bearer,
    listing_form,
    row_counts,
    own_party,
):
    api_owner = make_user(role="owner")
    before = row_counts()
    response = client.post("/api/v1/listings", json=LISTING, headers=bearer(api_owner))
    assert response.status_code == 201
    after_api = row_counts()

    log_in(owner)
    response = client.post("/owner/listings/new", data=listing_form())
    assert response.status_code == 200
    after_form = row_counts()

    api_rows = {name: after_api[name] - before[name] for name in before}
    form_rows = {name: after_form[name] - after_api[name] for name in before}
    assert form_rows == api_rows
    assert form_rows["Location"] == 1 and form_rows["Evse"] == 1 and form_rows["Blackout"] == 1
    assert form_rows["AvailabilityWindow"] == 2 and form_rows["OutboxEvent"] == 2
    from_api, from_form = _listing_json(_owned_by(api_owner)), _listing_json(_owned_by(owner))
    assert _comparable(from_form) == _comparable(from_api)
    assert from_form["price"]["per_kwh"] == "0.30"
    assert from_form["evses"][0]["connectors"][0]["max_electric_power"] == 11000


def test_creation_page_shows_the_ocpp_password_once(client, log_in, owner, listing_form, app):
    log_in(owner)
    response = client.post("/owner/listings/new", data=listing_form())
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    station = db.session.scalars(
        select(ChargeStation).join(Location).where(Location.owner_id == owner.id)
    ).one()
    password = page.split('<code class="password">')[1].split("</code>")[0]
    assert verify_secret(station.password_hash, password)
    assert station.station_id in page
    assert f"{app.config['GATEWAY_PUBLIC_URL'].rstrip('/')}/{station.station_id}" in page
    location = _owned_by(owner)
    for path in ("/owner/listings", f"/owner/listings/{location.id}", "/owner/listings/new"):
        assert password not in client.get(path).get_data(as_text=True)
    assert password not in client.get(f"/owner/listings/{location.id}/edit").get_data(as_text=True)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"latitude": "91"}, "latitude", "less than or equal to 90"),
        ({"address": ""}, "address", "Required."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Not an IANA time zone."),
        ({"price.currency": "EURO"}, "price.currency", "Not an ISO 4217"),
        (
            {"price.per_kwh": "", "price.per_hour": "", "price.per_session": ""},
            "price.per_kwh",
            "Give per_kwh",
        ),
        ({"evses.0.connectors.0.standard": "PLUG"}, "evses.0.connectors.0.standard", "Must be"),
        ({"evses.0.connectors.0.max_power_kw": "-3"}, "evses.0.connectors.0.max_power_kw", ""),
        ({"week.1.0.end": "07:00"}, "week.1.0.end", "Must be after start"),
        ({"blackouts.0.end_date": "2026-12-01"}, "blackouts.0.end_date", "Must not be before"),
    ],
)
def test_form_errors_show_next_to_their_field_and_write_nothing(
    client,
    log_in,
    owner,
    listing_form,
    row_counts,
    overrides,
    field,
    message,
):
    log_in(owner)
    before = row_counts()
    response = client.post("/owner/listings/new", data=listing_form(**overrides))
    assert response.status_code == 422
    assert row_counts() == before
    page = response.get_data(as_text=True)
    field_id = "f-" + field.replace(".", "-")
    error = page.split(f'<span class="field-error" id="{field_id}-error">')[1].split("</span>")[0]
    assert message in error
    assert f'aria-describedby="{field_id}-error"' in page
    # What the owner typed is kept.
    assert 'value="Prinsengracht 263"' in page or field == "address"


def test_an_error_in_a_later_row_lands_on_that_row(client, log_in, owner, listing_form):
    """Empty rows are skipped, so the body's list index differs from the form's row number."""
    log_in(owner)
    form = listing_form(
        **{
            "week.1.0.start": "",
            "week.1.0.end": "",
            "week.3.1.start": "10:00",
            "week.3.1.end": "09:00",
        }
    )
    page = client.post("/owner/listings/new", data=form).get_data(as_text=True)
    assert 'id="f-week-3-1-end-error">Must be after start' in page
    assert '<a href="#f-week-3-1-end">Wednesday, window 2: until</a>' in page


def test_form_without_any_charger_is_refused(client, log_in, owner, listing_form, row_counts):
    log_in(owner)
    before = row_counts()
    fields = ("standard", "power_type", "max_voltage", "max_amperage", "max_power_kw")
    form = listing_form(**{f"evses.0.connectors.0.{name}": "" for name in fields})
    response = client.post("/owner/listings/new", data=form)
    assert response.status_code == 422
    assert 'id="f-evses-error"' in response.get_data(as_text=True)
    assert row_counts() == before


def test_post_without_csrf_token_is_refused_and_writes_nothing(
    client,
    log_in,
    owner,
    listing_form,
    row_counts,
):
    log_in(owner)
    before = row_counts()
    response = client.post("/owner/listings/new", data=listing_form(csrf_token=None))
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    wrong = client.post("/owner/listings/new", data=listing_form(csrf_token="forged"))
    assert wrong.status_code == 400
    assert row_counts() == before


@pytest.fixture
def created(client, log_in, owner, listing_form) -> Location:
    log_in(owner)
    assert client.post("/owner/listings/new", data=listing_form()).status_code == 200
    return _owned_by(owner)


def test_edit_form_is_filled_in_and_saves_changes(client, created):
    page = client.get(f"/owner/listings/{created.id}/edit").get_data(as_text=True)
    assert 'value="Prinsengracht 263"' in page
    assert 'name="price.per_kwh" type="text" value="0.30"' in page
    assert 'name="evses.0.connectors.0.max_power_kw" type="text" value="11"' in page
    assert 'name="week.6.0.end" type="time" value="00:00"' in page
    assert (
        'value="RESERVABLE"\n          checked' in page
        or 'value="RESERVABLE" checked' in " ".join(page.split())
    )

    form = _form_of(page)
    form.update({"price.per_kwh": "0.35", "address": "Keizersgracht 1", "week.6.0.start": ""})
    form["week.6.0.end"] = ""
    response = client.post(f"/owner/listings/{created.id}/edit", data=form)
    assert response.status_code == 302
    view = _listing_json(queries.listing(created.id))
    assert view["address"] == "Keizersgracht 1"
    assert view["price"]["per_kwh"] == "0.35"
    assert [(w["weekday"], w["start"]) for w in view["availability"]] == [(1, "08:00")]
    assert len(view["evses"]) == 1 and view["evses"][0]["status"] == "AVAILABLE"
    assert set(view["evses"][0]["capabilities"]) == {"REMOTE_START_STOP_CAPABLE", "RESERVABLE"}
    assert "Listing saved." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_edit_errors_change_nothing(client, created, row_counts):
    page = client.get(f"/owner/listings/{created.id}/edit").get_data(as_text=True)
    form = _form_of(page)
    form.update({"city": "", "price.per_kwh": "0.99"})
    before = row_counts()
    response = client.post(f"/owner/listings/{created.id}/edit", data=form)
    assert response.status_code == 422
    assert 'id="f-city-error">Required.' in response.get_data(as_text=True)
    db.session.expire_all()
    view = _listing_json(queries.listing(created.id))
    assert view["city"] == "Amsterdam" and view["price"]["per_kwh"] == "0.30"
    assert row_counts() == before


def test_publish_and_unpublish_buttons(client, created):
    assert created.publish is False
    response = client.post(
        f"/owner/listings/{created.id}/publish", data={"csrf_token": CSRF, "next": "list"}
    )
    assert response.headers["Location"] == "/owner/listings"
    assert queries.listing(created.id).publish is True
    assert "Published" in client.get("/owner/listings").get_data(as_text=True)
    client.post(f"/owner/listings/{created.id}/unpublish", data={"csrf_token": CSRF})
    assert queries.listing(created.id).publish is False
    assert client.post(f"/owner/listings/{created.id}/publish").status_code == 400


def test_remove_asks_first_then_removes(client, created):
    page = client.get(f"/owner/listings/{created.id}/remove").get_data(as_text=True)
    assert "Yes, remove this listing" in page
    assert queries.listing(created.id).deleted_at is None
    assert client.post(f"/owner/listings/{created.id}/remove").status_code == 400
    assert queries.listing(created.id).deleted_at is None
    response = client.post(f"/owner/listings/{created.id}/remove", data={"csrf_token": CSRF})
    assert response.headers["Location"] == "/owner/listings"
    location = queries.listing(created.id)
    assert location.deleted_at is not None
    assert all(station.approved is False for station in location.stations)
    assert "Prinsengracht" not in client.get("/owner/listings").get_data(as_text=True)
    assert client.get(f"/owner/listings/{created.id}").status_code == 404


def test_listings_page_shows_station_and_live_evse_status(client, created):
    evse = created.evses[0]
    evse.status = "CHARGING"
    created.stations[0].connected = True
    db.session.flush()
    page = client.get("/owner/listings").get_data(as_text=True)
    assert created.stations[0].station_id in page
    assert "status-charging" in page and ">online<" in page
    assert "not published" in page


def test_schedule_page_shows_hours_and_blackouts(client, created):
    page = client.get(f"/owner/listings/{created.id}/schedule").get_data(as_text=True)
    assert "08:00\u201318:00" in page and "20:00\u201324:00" in page
    assert "2026-12-24 \u2013 2026-12-26: Family" in page
    assert "No bookings yet." in page


def _form_of(page: str) -> dict[str, Any]:
    """The fields a browser would submit from the page's listing form (text, selects, checks)."""
    import re
    from html import unescape

    form: dict[str, Any] = {}
    for name, value in re.findall(
        r'name="([^"]+)" type="(?:text|time|date|number)" value="([^"]*)"', page
    ):
        form[name] = unescape(value)
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)"\s+selected', body)
        form[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S
    ):
        form[name] = unescape(body)
    for name, value in re.findall(r'name="([^"]+)" value="([^"]+)"\s+checked', page):
        form.setdefault(name, []).append(value)
    form["csrf_token"] = CSRF
    return form


def test_saving_the_edit_form_unchanged_keeps_an_api_listing_as_it_was(
    client, log_in, owner, bearer, own_party
):
    """Whatever the API allows beyond the form's first row (more connectors, labels) survives."""
    first = LISTING["evses"][0]["connectors"][0]
    second = {**first, "standard": "DOMESTIC_F", "power_type": "AC_1_PHASE"}
    second.update(max_amperage=10, max_electric_power=2300)
    labelled = {"physical_reference": "Left", "floor_level": "-1", "connectors": [first, second]}
    evses = [{**LISTING["evses"][0], **labelled}, {"connectors": [second], "capabilities": []}]
    body = {**LISTING, "evses": evses, "price": {**LISTING["price"], "vat": "21"}}
    created = client.post("/api/v1/listings", json=body, headers=bearer(owner)).get_json()
    before = _listing_json(queries.listing(created["id"]))

    log_in(owner)
    page = client.get(f"/owner/listings/{created['id']}/edit").get_data(as_text=True)
    response = client.post(f"/owner/listings/{created['id']}/edit", data=_form_of(page))
    assert response.status_code == 302
    db.session.expire_all()
    after = _listing_json(queries.listing(created["id"]))
    assert _comparable(after) == _comparable(before)
    assert after["evses"][0]["connectors"][1]["standard"] == "DOMESTIC_F"
    assert after["evses"][0]["physical_reference"] == "Left"
