"""An owner in a real browser: payouts onboarding, a listing with a map pin and a photo,
published and found by a driver on the map; the owner answers a booking request."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.inventory.models import Location
from app.payments.models import OwnerAccount
from tests.browser.conftest import log_in

pytestmark = pytest.mark.slow


def _photo(tmp_path) -> str:
    path = tmp_path / "driveway.png"
    image = Image.new("RGB", (2400, 1600), (40, 120, 80))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_owner_onboards_lists_with_pin_and_photo_publishes_and_drivers_see_it(
    live, browser_page, chromium, shot, tmp_path
):
    users = live.users(owner="olga@plugpool.test", driver="dana@plugpool.test")
    page = browser_page
    log_in(page, live.url, "olga@plugpool.test")

    page.goto(f"{live.url}/owner/payouts")
    shot(page, "payouts-not-set-up")
    page.click("button:has-text('Set up payouts')")
    page.wait_for_selector("text=Agree and finish set-up")  # the local stand-in's page
    page.click("button:has-text('Agree and finish set-up')")
    page.wait_for_url(re.compile(r"/owner/payouts$"))
    assert "Payouts are set up" in page.content()
    shot(page, "payouts-ready")
    account = live.query(lambda: db.session.scalars(select(OwnerAccount)).one())
    assert account.payable and account.user_id == users["owner"]

    page.goto(f"{live.url}/owner/listings/new")
    page.fill("#f-name", "Oosterpark driveway")
    page.fill("#f-address", "Oosterpark 8")
    page.fill("#f-postal_code", "1092AE")
    page.fill("#f-city", "Amsterdam")
    page.fill("#f-country", "NLD")
    page.fill("#f-time_zone", "Europe/Amsterdam")
    page.click("#lookup-address")
    page.wait_for_function("document.getElementById('f-latitude').value !== ''")
    looked_up = float(page.input_value("#f-latitude"))
    assert abs(looked_up - 52.36) < 0.01
    # Drag the pin by clicking the map a little off the looked-up spot.
    box = page.locator("#pin-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 20)
    assert float(page.input_value("#f-latitude")) != looked_up
    page.select_option("#f-evses-0-connectors-0-standard", "IEC_62196_T2")
    page.select_option("#f-evses-0-connectors-0-power_type", "AC_3_PHASE")
    page.fill("#f-evses-0-connectors-0-max_voltage", "230")
    page.fill("#f-evses-0-connectors-0-max_amperage", "16")
    page.fill("#f-price-per_kwh", "0.30")
    page.check("#f-publish")
    shot(page, "listing-form")
    page.click("button:has-text('Create listing')")
    page.wait_for_selector("code.password")
    shot(page, "created")

    listing = live.query(lambda: db.session.scalars(select(Location)).one())
    assert listing.publish is True
    assert abs(float(listing.latitude) - looked_up) > 0
    page.goto(f"{live.url}/owner/listings/{listing.id}")
    page.set_input_files("#f-photo", _photo(tmp_path))
    page.click("button:has-text('Upload photo')")
    page.wait_for_selector(".photos img")
    assert "Photo added." in page.content()
    assert "not connected yet" in page.content()
    shot(page, "listing-with-photo")
    image = live.query(lambda: db.session.get(Location, listing.id).images[0])
    assert image["width"] == 1600 and image["url"].startswith(live.url + "/photos/")

    driver = chromium.new_context(viewport={"width": 1280, "height": 800})
    seen = driver.new_page()
    log_in(seen, live.url, "dana@plugpool.test")
    seen.goto(f"{live.url}/chargers")
    seen.fill("#f-place", "Oosterpark")
    seen.click("button:has-text('Search')")
    seen.wait_for_selector("ol.results li")
    assert "near Oosterpark, Amsterdam" in seen.content()
    assert seen.locator("path.pin-own").count() == 1  # the listing's pin on the map
    assert seen.locator("ol.results li h3").inner_text() == "Oosterpark driveway"
    shot(seen, "driver-map")
    seen.click("ol.results li h3 a")
    seen.wait_for_selector(".photos img")
    assert "Not connected yet" in seen.content()
    assert seen.locator("button:has-text('Hold this slot')").count() == 0
    shot(seen, "driver-charger-page")
    driver.close()
