"""Browser tests: the real app on a live port, driven by headless Chromium (Debian's package).

Playwright for Python drives /usr/bin/chromium (executable_path); nothing downloads a browser.
Where Chromium or Playwright is missing, the tests skip and say why. Each test saves desktop
(1280 px) and phone (390x844) screenshots to var/screenshots/, printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.accounts import services as accounts
from app.accounts.models import Role, User
from app.demo import CHARGERS, _listing
from app.extensions import db
from app.inventory import services as inventory
from app.payments.localconnect import DEMO_ACCOUNT_PREFIX
from app.payments.models import OwnerAccount
from tests.support.stripe_fixtures import localstripe  # noqa: F401 (a fixture, found by name)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "browser-test-pw"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
_saved: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are, so a person can look at them."""
    if _saved:
        terminalreporter.write_line(f"Browser screenshots ({len(_saved)}): {SHOTS}")


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, and every asyncio test after it would fail; closing it per module ends that loop.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium, or a skip that says why there is none."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install the Debian package `chromium` "
            "(scripts/ensure-system-deps.sh does)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright for Python is not installed (requirements-dev.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@dataclass
class Live:
    """The app serving on a free loopback port, and what the test seeded."""

    app: Flask
    url: str

    def users(self, **roles: str) -> dict[str, int]:
        """Create users named by role (e.g. driver="dana@..."), each with PASSWORD."""
        ids = {}
        with self.app.app_context():
            for role, email in roles.items():
                kind = Role.OWNER.value if role.startswith("owner") else Role.DRIVER.value
                ids[role] = accounts.create_user(email, PASSWORD, role.title(), kind).id
        return ids

    def ready_owner(self, user_id: int) -> None:
        """The owner finished payout onboarding (an account the local stand-in knows)."""
        with self.app.app_context():
            db.session.add(
                OwnerAccount(
                    user_id=user_id,
                    account_id=f"{DEMO_ACCOUNT_PREFIX}{user_id:020d}",
                    charges_enabled=True,
                    payouts_enabled=True,
                    details_submitted=True,
                    payable=True,
                )
            )
            db.session.commit()

    def listing(self, owner_id: int, spec: int = 0, **changes: Any) -> int:
        """A published demo-area listing whose charger has connected once."""
        with self.app.app_context():
            owner = db.session.get(User, owner_id)
            data = {**_listing(CHARGERS[spec]), **changes}
            data["availability"] = []  # shared at all times: the calendar has slots every day
            created = inventory.create_listing(owner, data)
            created.station.station.last_seen_at = datetime.now(UTC)
            db.session.commit()
            return created.location.id

    def query(self, call: Callable[[], Any]) -> Any:
        """Run call in the live app's context (fresh session) and return its result."""
        with self.app.app_context():
            db.session.remove()
            return call()


@pytest.fixture
def live(app: Flask, committed_db: None, localstripe: Any) -> Iterator[Live]:  # noqa: F811
    """Serve a fresh app on the test database (committed rows; emptied after the test)."""
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{server.server_port}"
    live_app = create_app(
        "testing",
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "PUBLIC_BASE_URL": url,
            **localstripe.config,
            # No internet here: tiles from a closed local port fail fast, as offline.
            "MAP_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
        },
    )
    server.app = live_app  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(live_app, url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with live_app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (own cookies) and page at desktop size."""
    context = chromium.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Return shot(page, name): desktop and phone screenshots of the page as it is now."""
    folder = SHOTS / request.node.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    count = [0]

    def take(page: Any, name: str) -> None:
        count[0] += 1
        stem = folder / f"{count[0]:02d}-{name}"
        page.screenshot(path=f"{stem}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=f"{stem}-phone.png", full_page=True)
        page.set_viewport_size(DESKTOP)
        _saved.extend([Path(f"{stem}-desktop.png"), Path(f"{stem}-phone.png")])

    return take


def log_in(page: Any, base: str, email: str) -> None:
    """Log in through the log-in form."""
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_load_state()
