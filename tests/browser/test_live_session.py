"""The live session view updates while a simulated charger charges (real gateway process,
real OCPP simulator, the web app's start command over the Redis command bus)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from app.bookings import services as bookings
from app.bookings.models import Booking
from app.extensions import db
from app.inventory.models import ChargeStation
from app.payments import services as payments
from tests.browser.conftest import log_in

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
STATION_PASSWORD = "live-session-station-pw"


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_live_panel_follows_the_simulated_charger_while_it_charges(
    live, browser_page, shot, tmp_path
):
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}: the web app reaches the gateway through it")
    prefix = f"plugpool:test:{uuid.uuid4().hex[:8]}:"
    live.app.config.update(GATEWAY_BUS="redis", REDIS_URL=REDIS_URL, GATEWAY_REDIS_PREFIX=prefix)
    owner = live.users(owner="olga@plugpool.test")["owner"]
    live.ready_owner(owner)
    listing_id = live.listing(owner, spec=0)
    driver_id = live.users(driver="dana@plugpool.test")["driver"]

    def prepare():
        from app.accounts.models import User
        from app.core.security import hash_secret
        from app.inventory.models import Location

        driver = db.session.get(User, driver_id)
        payments.save_card(driver, "pm_card_visa")
        location = db.session.get(Location, listing_id)
        station = location.stations[0]
        station.password_hash = hash_secret(STATION_PASSWORD)
        db.session.commit()
        # A booking whose window is open now (the 30-minute lead is a rule for new holds).
        now = datetime.now(UTC).replace(microsecond=0)
        booking = Booking(
            driver_id=driver.id,
            location_id=location.id,
            evse_id=location.evses[0].id,
            starts_at=now - timedelta(minutes=5),
            ends_at=now + timedelta(hours=1),
            status="pending",
            expires_at=now + timedelta(minutes=15),
            instant_book=True,
            amount_minor=1000,
            currency="EUR",
            policy={"name": "moderate", "cutoff_hours": 12, "fee_percent": 50},
        )
        db.session.add(booking)
        payments.open_payment(booking)
        db.session.commit()
        bookings.confirm_booking(driver, booking.id)
        return station.station_id, booking.id

    station_id, booking_id = live.query(prepare)
    env = {
        **os.environ,
        "DATABASE_URL": live.app.config["DATABASE_URL"],
        "GATEWAY_PORT": "0",
        "GATEWAY_BUS": "redis",
        "REDIS_URL": REDIS_URL,
        "GATEWAY_REDIS_PREFIX": prefix,
        "PLUGPOOL_ENV": "testing",
    }
    gateway = _spawn([sys.executable, "-m", "app.gateway"], env, tmp_path / "gateway.log")
    simulator = None
    try:
        ready = gateway.stdout.readline()
        assert ready.startswith("READY"), (tmp_path / "gateway.log").read_text()
        port = int(ready.split()[1])
        simulator = _spawn(
            [sys.executable, "-m", "flask", "station", "simulate", station_id,
             "--password", STATION_PASSWORD, "--url", f"ws://127.0.0.1:{port}/ocpp",
             "--meter-interval", "1", "--power", "11000"],
            {**env, "FLASK_APP": "wsgi:app"},
            tmp_path / "simulator.log",
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            seen = live.query(
                lambda: db.session.scalars(
                    select(ChargeStation.connected).where(ChargeStation.station_id == station_id)
                ).one()
            )
            if seen:
                break
            time.sleep(0.3)
        assert seen, (tmp_path / "simulator.log").read_text()

        page = browser_page
        log_in(page, live.url, "dana@plugpool.test")
        page.goto(f"{live.url}/bookings")
        page.click(f"#booking-{booking_id} button:has-text('Start charging')")
        page.wait_for_url(re.compile(r"/bookings(#|$)"))
        assert "Charger started." in page.content(), page.locator(".flashes").inner_text()
        # The booking turns active when the charger reports its transaction.
        deadline = time.monotonic() + 30
        while page.locator(f"#live-{booking_id} .live-energy").count() == 0:
            assert time.monotonic() < deadline, page.content()
            time.sleep(1)
            page.reload()
        first = page.locator(f"#live-{booking_id} .live-energy").inner_text()
        shot(page, "charging")
        # The panel refreshes itself: the energy grows without reloading the page.
        # (polled from here: the page's CSP forbids the eval a wait_for_function string needs)
        deadline = time.monotonic() + 30
        while page.locator(f"#live-{booking_id} .live-energy").inner_text() == first:
            assert time.monotonic() < deadline, "the live panel did not update"
            time.sleep(0.5)
        assert "kWh" in page.locator(f"#live-{booking_id} .live-energy").inner_text()
        assert "EUR" in page.locator(f"#live-{booking_id} .live-cost").inner_text()
        shot(page, "charging-later")
    finally:
        if simulator is not None:
            _stop(simulator)
        _stop(gateway)
