"""Security headers, a CSP the pages really pass, cookies, proxies and 405's Allow."""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

import config
from app import create_app
from app.accounts.models import LoginAttempt

PAGES = ["/", "/login", "/signup", "/chargers?lat=52.37&lon=4.89&radius_m=5000", "/api/v1/docs"]


class _Resources(HTMLParser):
    """What a page makes the browser load or run."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []  # external script URLs
        self.inline_scripts: list[str] = []
        self.styles: list[str] = []  # stylesheet URLs
        self.inline_styles = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.inline_styles += "style" in found
        if tag == "style":
            self.inline_styles += 1
        if tag == "script":
            if found.get("src"):
                self.scripts.append(found["src"] or "")
            elif found.get("type") != "application/json":  # a data block never runs
                self._in_script = True
                self.inline_scripts.append("")
        if tag == "link" and found.get("rel") == "stylesheet":
            self.styles.append(found.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts[-1] += data


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: sources
        for name, *sources in (part.split() for part in header.split(";") if part.strip())
    }


def _allowed(url: str, sources: list[str]) -> bool:
    parts = urlsplit(url)
    if not parts.netloc:
        return "'self'" in sources
    return f"{parts.scheme}://{parts.netloc}" in sources


@pytest.mark.parametrize("path", PAGES)
def test_every_page_passes_its_content_security_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _directives(response.headers["Content-Security-Policy"])
    page = _Resources()
    page.feed(response.get_data(as_text=True))
    assert page.handlers == [] and page.inline_styles == 0
    assert all(_allowed(url, policy["script-src"]) for url in page.scripts), page.scripts
    assert all(_allowed(url, policy["style-src"]) for url in page.styles), page.styles
    for script in page.inline_scripts:  # only the API docs page has one, allowed by its hash
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", ["/", "/api/v1/openapi.json", "/ocpi/versions", "/healthz"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_a_security_header_the_view_set_itself_is_kept_and_not_doubled(database_url):
    app = create_app("testing", {"DATABASE_URL": database_url})

    @app.get("/__framed")
    def framed():
        own = {"x-frame-options": "SAMEORIGIN", "Content-Security-Policy": "default-src 'self'"}
        return "ok", 200, own

    headers = app.test_client().get("/__framed").headers
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers.getlist("Content-Security-Policy") == ["default-src 'self'"]
    assert headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert headers.getlist("Referrer-Policy") == ["strict-origin-when-cross-origin"]


def test_an_untouched_session_adds_cookie_to_vary_as_flask_does(database_url):
    app = create_app("testing", {"DATABASE_URL": database_url})

    @app.get("/__vary/<own>")
    def vary(own: str):
        return "ok", 200, {"Vary": own} if own != "none" else {}

    client = app.test_client()
    # flask-login looks into the empty session of every request: caches must key on the cookie.
    assert client.get("/__vary/none").headers.getlist("Vary") == ["Cookie"]
    # A view's own Vary is kept and extended, not doubled (werkzeug's HeaderSet rules).
    assert client.get("/__vary/Accept-Encoding").headers.getlist("Vary") == [
        "Accept-Encoding, Cookie"
    ]
    assert client.get("/__vary/cookie").headers.getlist("Vary") == ["cookie"]


@pytest.mark.parametrize("profile", ["default", "testing", "production"])
def test_session_cookies_are_samesite_lax_and_http_only_in_every_profile(profile):
    settings = config.load(profile, {"SECRET_KEY": "x"})
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SESSION_COOKIE_HTTPONLY"] is True


def test_the_session_cookie_is_sent_samesite_lax(client):
    client.get("/login")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.same_site == "Lax" and cookie.http_only


def _fail_log_in(client, forwarded_for: str) -> None:
    client.post(
        "/api/v1/auth/tokens",
        json={"email": "nobody@example.test", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )


def test_behind_a_known_number_of_proxies_rate_limits_see_the_client_address(database_url, db, app):
    behind_one = create_app("testing", {"DATABASE_URL": database_url, "PROXY_COUNT": 1})
    with behind_one.app_context():
        _fail_log_in(behind_one.test_client(), "203.0.113.7, 192.0.2.1")
    _fail_log_in(app.test_client(), "203.0.113.8")  # no proxy configured: header ignored
    seen = db.execute(LoginAttempt.__table__.select()).all()
    addresses = sorted(row.remote_addr for row in seen)
    # One proxy: its own view of the client (the last hop) is trusted, not what the client says.
    assert addresses == ["10.0.0.1", "192.0.2.1"]


def test_405_answers_say_which_methods_are_allowed(client):
    api = client.delete("/api/v1/users")
    assert api.status_code == 405 and api.mimetype == "application/problem+json"
    assert set(api.headers["Allow"].split(", ")) >= {"POST"}
    ocpi = client.delete("/ocpi/versions")
    assert ocpi.status_code == 405 and "GET" in ocpi.headers["Allow"]


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.test", "/\\evil.test", "//evil.test", "https://evil.test", " //evil.test"],
)
def test_the_saved_cards_page_never_sends_a_driver_off_site(app, target):
    from app.core.web import safe_next

    assert safe_next(target) is None or not safe_next(target).startswith("//")
    with app.test_request_context("/payment-cards", query_string={"next": target}):
        from app.payments.views import _safe_next

        assert _safe_next() == "/payment-cards"


def test_the_page_policy_allows_the_origins_the_settings_name(app):
    from app.core.http import page_policy
    from config import defaults as settings_defaults

    # The settings' defaults, whatever fixtures earlier in the session pointed the app at.
    defaults = {"MAP_TILE_URL": settings_defaults.MAP_TILE_URL}
    default = page_policy({**app.config, **defaults, "STRIPE_API_BASE": "", "STRIPE_JS_URL": ""})
    assert "https://tile.openstreetmap.org" in default["img-src"]
    assert "https://js.stripe.com" in default["script-src"]
    assert "https://api.stripe.com" in default["connect-src"]
    assert "https://hooks.stripe.com" in default["frame-src"]
    local = page_policy({**app.config, "STRIPE_API_BASE": "http://127.0.0.1:8420"})
    assert "http://127.0.0.1:8420" in local["script-src"]
    assert "http://127.0.0.1:8420" in local["connect-src"]
    assert "'unsafe-inline'" not in local["script-src"] + local["style-src"]


def test_views_and_hooks_are_asked_once_whether_they_are_coroutines(app):
    class View:
        def get(self) -> str:
            return "sync"

    def hook() -> None:
        return None

    async def coroutine() -> None:
        return None

    method = View().get
    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(method) is method
    assert hook in app._sync_functions and View.get in app._sync_functions
    # Another bound method of the same function is let through from the cache.
    other = View().get
    assert app.ensure_sync(other) is other
    # A coroutine function is never remembered: Flask's own answer, every time.
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
    assert coroutine not in app._sync_functions
