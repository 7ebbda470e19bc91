"""HTTP hardening for every response: security headers, proxies, body size, JSON nesting."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import flask_smorest
from flask import Flask, Request, Response, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from app.core.db import MAX_ID

# Pages: scripts and styles from files only (no inline code), never framed. Other origins a
# page may use come from the settings (map tiles, Stripe.js, a Swagger UI on a CDN).
PAGE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Stripe.js and its frames (card fields, 3-D Secure), as Stripe's CSP guide lists them.
STRIPE_JS = "https://js.stripe.com"
STRIPE_FRAMES = ["https://js.stripe.com", "https://hooks.stripe.com"]
STRIPE_API = "https://api.stripe.com"
STRIPE_CONNECT = "https://connect.stripe.com"
# JSON, OCPI and everything else that is not a page: nothing runs, nothing frames it.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


class Int64Converter(IntegerConverter):
    """`<int:...>` that never matches beyond the largest id: such a URL is a 404, not a DB error."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    """Before any route: 64-bit `<int:>` ids, trusted proxies, bounded JSON, security headers."""
    app.url_map.converters["int"] = Int64Converter
    proxies = app.config["PROXY_COUNT"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.json = BoundedJSONProvider(app)
    # Every smorest Blueprint reads bodies through this parser (flask-smorest's own hook).
    flask_smorest.Blueprint.ARGUMENTS_PARSER = BoundedParser()
    app.before_request(_refuse_nul_characters)
    app.session_interface = CookieSessions()
    app.after_request(_security_headers)


def contains_nul(value: Any) -> bool:
    """True when a decoded value holds a NUL character anywhere (PostgreSQL text refuses it)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _refuse_nul_characters() -> None:
    """No text with NUL reaches the database: the path, the query and form fields (400)."""
    current = request._get_current_object()  # type: ignore[attr-defined]
    values = list((current.view_args or {}).values())
    query = current.query_string
    # A decoded query value can only hold NUL if the raw query has %00 or a NUL byte: the
    # usual GET skips walking every value.
    if b"%00" in query or b"\x00" in query:
        values += [value for values_ in current.args.listvalues() for value in values_]
    if current.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        values += [value for values_ in current.form.listvalues() for value in values_]
    if contains_nul(values):
        raise NulInInput()


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; a request without the cookie (every API call) gets
    an empty session without building a signing serializer first."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """An empty session when no cookie came; otherwise Flask's own reading."""
        # No Cookie header (an API or OCPI call): not even the cookies are parsed.
        cookies = "HTTP_COOKIE" in request.environ
        if app.secret_key and not (cookies and request.cookies.get(self.get_cookie_name(app))):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's own saving; for a session left empty and unchanged (every API call) that is
        only the Vary header, without reading the seven cookie settings first."""
        if not session and not session.modified:
            if session.accessed:
                headers = response.headers
                if "Vary" in headers:
                    response.vary.add("Cookie")
                else:
                    # The usual answer has no Vary yet: the header itself, what vary.add
                    # writes then, without parsing a HeaderSet and writing it back.
                    headers.add("Vary", "Cookie")
            return
        super().save_session(app, session, response)


class NulInInput(BadRequest):
    """A path, query or form value with a NUL character (a class of its own so that OCPI can
    answer it in its terms while pages keep their HTML error page)."""

    description = "Text must not contain NUL characters."


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where nesting deeper than the parser's recursion is bad input, not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; too deep a document raises ValueError like any other malformed one."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as error:
            raise ValueError("JSON nested too deeply") from error


class BoundedParser(FlaskParser):
    """webargs' parser, where JSON nested beyond the recursion limit is a 400, not a crash.

    A query schema may offer `fast_query(request)`: the loaded value for a query it is sure
    of, else None. Such a query skips webargs' proxy and marshmallow; any other (and every
    error) takes webargs' full path, so error answers stay the schema's.
    """

    def parse(
        self, argmap: Any, req: Any = None, *, location: str | None = None, **kwargs: Any
    ) -> Any:
        """Load the arguments: the schema's fast_query first for a plain query, else webargs."""
        fast_query = getattr(argmap, "fast_query", None)
        if fast_query is not None and location == "query" and not kwargs.get("validate"):
            found = fast_query(req if req is not None else request)
            if found is not None:
                return found
        return super().parse(argmap, req, location=location, **kwargs)

    def _raw_load_json(self, req: Any) -> Any:
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            abort(400, messages={"json": ["JSON nested too deeply."]})
        if contains_nul(data):
            abort(422, messages={"json": ["Text must not contain NUL characters."]})
        return data


def policy_text(policy: dict[str, list[str]]) -> str:
    """A CSP header value from a directive map."""
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the headers a view set, then appends: what setdefault did, in that order,
    # without a scan of the list per header.
    present = set(headers.keys(lower=True))
    for name, value in _SECURITY_HEADERS:
        if name.lower() not in present:
            headers.add(name, value)
    if "content-security-policy" not in present:
        if response.mimetype == "text/html":
            headers.add("Content-Security-Policy", policy_text(_page_policy(response)))
        else:
            headers.add("Content-Security-Policy", DATA_POLICY)
    return response


def _page_policy(response: Response) -> dict[str, list[str]]:
    from flask import current_app

    policy = page_policy(current_app.config)
    if request.path != _docs_path(current_app.config) or response.direct_passthrough:
        return policy
    scripts = _INLINE_SCRIPT.findall(response.get_data())
    if scripts:
        # flask-smorest's own Swagger UI page has one inline script and shows no user content:
        # that script is allowed by its hash, nothing more.
        policy["script-src"] += [
            "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
            for script in scripts
        ]
    return policy


def page_policy(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The pages' CSP for these settings: this site, plus the origins the settings name."""
    policy = {name: list(sources) for name, sources in PAGE_POLICY.items()}
    tiles = _origin(config.get("MAP_TILE_URL", ""))
    swagger = _origin(config.get("OPENAPI_SWAGGER_UI_URL", ""))
    stripe_api = _origin(config.get("STRIPE_API_BASE", "")) or STRIPE_API
    stripe_js = _origin(config.get("STRIPE_JS_URL", "")) or (
        stripe_api if config.get("STRIPE_API_BASE") else STRIPE_JS
    )
    _add(policy, "img-src", tiles, swagger)
    _add(policy, "script-src", swagger, stripe_js)
    _add(policy, "style-src", swagger)
    _add(policy, "connect-src", stripe_api)
    policy["frame-src"] = [*STRIPE_FRAMES]
    _add(policy, "frame-src", stripe_js, stripe_api)
    # Payout onboarding: the owner's form post is redirected to Stripe's hosted pages (or to
    # the local stand-in's page), which form-action must allow.
    _add(policy, "form-action", stripe_api if config.get("STRIPE_API_BASE") else STRIPE_CONNECT)
    return policy


def _add(policy: dict[str, list[str]], directive: str, *origins: str) -> None:
    for origin in origins:
        if origin and origin not in policy[directive]:
            policy[directive].append(origin)


def _docs_path(config: Mapping[str, Any]) -> str:
    return f"{config['OPENAPI_URL_PREFIX']}/{config['OPENAPI_SWAGGER_UI_PATH']}"


def _origin(url: str) -> str:
    """scheme://host[:port] of an absolute URL; empty for a path of this site or nothing."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
